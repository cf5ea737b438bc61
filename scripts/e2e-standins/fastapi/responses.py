from . import JSONResponse, Response  # noqa: F401
