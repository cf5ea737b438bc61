"""A minimal stand-in for the parts of FastAPI that NoETL's e2e test server uses.

NoETL's e2e corpus ships its mock HTTP API (fixtures/servers/paginated_api.py) as a FastAPI app.
FastAPI is not installable on machines without PyPI, so scripts/e2e-corpus.mjs runs that file
unchanged with this package first on PYTHONPATH: routes by method and path (with `{name}` path
parameters), query parameters declared with `Query(...)` and converted by annotation, `Request`
(base_url, headers, query_params), dict/list answers as JSON, `JSONResponse`, `Response` and
`HTTPException`. Async handlers run on one event loop thread; sync handlers on the request thread.
"""
import asyncio
import inspect
import json
import re
import threading
from urllib.parse import parse_qs, urlsplit

_MISSING = object()


class Query:
    def __init__(self, default=_MISSING, *args, **kwargs):
        self.default = default


class HTTPException(Exception):
    def __init__(self, status_code, detail=None, headers=None):
        super().__init__(detail)
        self.status_code = status_code
        self.detail = detail
        self.headers = headers or {}


class Response:
    media_type = None

    def __init__(self, content=b"", status_code=200, headers=None, media_type=None):
        self.status_code = status_code
        self.headers = dict(headers or {})
        self.media_type = media_type or self.media_type
        self.body = self.render(content)

    def render(self, content):
        if content is None:
            return b""
        return content if isinstance(content, bytes) else str(content).encode()


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content):
        return json.dumps(content).encode()


class _URL(str):
    pass


class Request:
    def __init__(self, method, path, query, headers, base_url):
        self.method = method
        self.url = _URL(base_url.rstrip("/") + path)
        self.base_url = _URL(base_url)
        self.headers = headers
        self.query_params = {k: v[-1] for k, v in query.items()}


class FastAPI:
    def __init__(self, *args, **kwargs):
        self.routes = []
        self._loop = None

    def _route(self, method, path):
        names = re.findall(r"\{(\w+)\}", path)
        pattern = re.compile("^" + re.sub(r"\{\w+\}", r"([^/]+)", path) + "$")

        def register(fn):
            self.routes.append((method, pattern, names, fn))
            return fn

        return register

    def get(self, path, **kwargs):
        return self._route("GET", path)

    def post(self, path, **kwargs):
        return self._route("POST", path)

    def put(self, path, **kwargs):
        return self._route("PUT", path)

    def delete(self, path, **kwargs):
        return self._route("DELETE", path)

    def on_event(self, *args, **kwargs):
        return lambda fn: fn

    def middleware(self, *args, **kwargs):
        return lambda fn: fn

    def loop(self):
        if self._loop is None:
            self._loop = asyncio.new_event_loop()
            threading.Thread(target=self._loop.run_forever, daemon=True).start()
        return self._loop

    def handle(self, method, target, headers, base_url):
        """Returns (status, headers, body bytes)."""
        parts = urlsplit(target)
        query = parse_qs(parts.query, keep_blank_values=True)
        for m, pattern, names, fn in self.routes:
            match = pattern.match(parts.path)
            if m != method or not match:
                continue
            try:
                kwargs = self._arguments(fn, dict(zip(names, match.groups())), query,
                                         Request(method, parts.path, query, headers, base_url))
                if inspect.iscoroutinefunction(fn):
                    out = asyncio.run_coroutine_threadsafe(fn(**kwargs), self.loop()).result()
                else:
                    out = fn(**kwargs)
            except HTTPException as e:
                return e.status_code, {"content-type": "application/json", **e.headers}, json.dumps({"detail": e.detail}).encode()
            except _BadParam as e:
                return 422, {"content-type": "application/json"}, json.dumps({"detail": str(e)}).encode()
            if isinstance(out, Response):
                h = dict(out.headers)
                if out.media_type:
                    h.setdefault("content-type", out.media_type)
                return out.status_code, h, out.body
            return 200, {"content-type": "application/json"}, json.dumps(out).encode()
        return 404, {"content-type": "application/json"}, b'{"detail": "Not Found"}'

    @staticmethod
    def _arguments(fn, path_values, query, request):
        kwargs = {}
        for name, p in inspect.signature(fn).parameters.items():
            if p.annotation is Request or name == "request":
                kwargs[name] = request
                continue
            default = p.default.default if isinstance(p.default, Query) else p.default
            if name in path_values:
                raw = path_values[name]
            elif name in query:
                raw = query[name][-1]
            elif default is _MISSING or default is inspect.Parameter.empty or default is Ellipsis:
                raise _BadParam(f"query parameter '{name}' is required")
            else:
                kwargs[name] = default
                continue
            kwargs[name] = _convert(raw, p.annotation, name)
        return kwargs


class _BadParam(Exception):
    pass


def _convert(raw, annotation, name):
    try:
        if annotation is int:
            return int(raw)
        if annotation is float:
            return float(raw)
        if annotation is bool:
            return raw.lower() in ("1", "true", "yes", "on")
    except ValueError:
        raise _BadParam(f"query parameter '{name}' is not a valid {annotation.__name__}")
    return raw
