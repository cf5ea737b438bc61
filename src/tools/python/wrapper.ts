/**
 * The Python side of the python tool, run with `python3 -c`. It reads one JSON document on stdin
 * (`{code, libs, warnings, filename, context: {args, variables, execution_id, step}}`), runs the user code and
 * prints one marker line on stdout: `@@__NOETL_RESULT__@@{"ok": true, "has": bool, "value": ...}` or
 * `{"ok": false, "type", "message", "traceback"}`. Only json, sys and ast are imported up front, to
 * keep the per-call cost at the interpreter's start-up.
 */
export const RESULT_MARKER = '@@__NOETL_RESULT__@@';

/** What the one-shot wrapper and the warm runner (runner.ts) share: running one payload. */
export const PYTHON_CORE = String.raw`
import sys, json, ast

def _noetl_exec(payload, code, filename):
    context = payload.get("context") or {}
    args = context.get("args") or {}
    unset = object()

    for line in payload.get("warnings") or []:
        sys.stderr.write(line + "\n")
    # The globals NoETL's python tool gives, then the libs, then every input key (which wins).
    g = {"__name__": "__main__", "__builtins__": __builtins__}
    g["context"] = context
    g["args"] = args
    g["input_data"] = dict(args)
    g["variables"] = context.get("variables") or {}
    g["execution_id"] = context.get("execution_id")
    g["step"] = context.get("step")
    g["json"] = json
    g["sys"] = sys
    for lib in payload.get("libs") or []:
        g[lib["alias"]] = _import_lib(lib)
    g.update(args)
    g["__noetl_unset__"] = unset

    tree = ast.parse(code, filename, "exec")
    if _has_top_level_return(tree.body):
        # Run the code as the body of a function so a top-level "return" is legal; a fall-through
        # yields the local "result" if one was assigned. The bound names are also parameters, so
        # code like "count = count + 1" reads the input instead of an unbound local.
        names = [k for k in g if k.isidentifier() and not k.startswith("__") and k not in ("None", "True", "False")]
        wrapper = ast.parse("def __noetl_body__():\n    pass\n", filename, "exec")
        tail = ast.parse("return locals().get('result', __noetl_unset__)", filename, "exec")
        fn = wrapper.body[0]
        fn.args.kwonlyargs = [ast.arg(arg=name) for name in names]
        fn.args.kw_defaults = [None for _ in names]
        fn.body = tree.body + tail.body
        tree.body = [fn]
        ast.fix_missing_locations(tree)
        exec(compile(tree, filename, "exec"), g)
        value = g["__noetl_body__"](**{name: g[name] for name in names})
    else:
        exec(compile(tree, filename, "exec"), g)
        value = g.get("result", unset)
        main = g.get("main")
        if value is unset and callable(main):
            value = main(**_main_kwargs(main, args, g))
    return value, unset

def _import_lib(lib):
    module = lib["module"]
    name = lib.get("name")
    __import__(module)
    if not name:
        return sys.modules[module]
    # "from module import name": an attribute, or else a submodule.
    try:
        return getattr(sys.modules[module], name)
    except AttributeError:
        __import__(module + "." + name)
        return sys.modules[module + "." + name]

def _has_top_level_return(body):
    for node in body:
        if isinstance(node, ast.Return):
            return True
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)):
            continue
        for field in ("body", "orelse", "finalbody", "handlers", "cases"):
            inner = getattr(node, field, None)
            if isinstance(inner, list) and _has_top_level_return(inner):
                return True
    return False

def _main_kwargs(main, args, g):
    code = getattr(main, "__code__", None)
    if code is None:
        return dict(args)
    if code.co_flags & 0x08:  # **kwargs: pass everything
        return dict(args)
    first = code.co_posonlyargcount
    names = code.co_varnames[first:code.co_argcount + code.co_kwonlyargcount]
    kwargs = {}
    for name in names:
        if name in args:
            kwargs[name] = args[name]
        elif name in ("input_data", "context"):
            kwargs[name] = g[name]
    return kwargs

def _clean(value):
    if isinstance(value, float) and (value != value or value in (float("inf"), float("-inf"))):
        return None
    if isinstance(value, dict):
        return {str(k): _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_clean(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)

def _doc_text(doc):
    try:
        return json.dumps(doc, default=str, allow_nan=False)
    except (TypeError, ValueError):
        return json.dumps(_clean(doc), default=str, allow_nan=False)

def _emit(doc):
    text = _doc_text(doc)
    sys.stdout.flush()
    sys.stdout.write("\n" + "${RESULT_MARKER}" + text + "\n")
    sys.stdout.flush()

def _fail(exc, filename, code):
    import linecache, traceback
    linecache.cache[filename] = (len(code), None, code.splitlines(True), filename)
    tb = exc.__traceback__
    while tb is not None and tb.tb_frame.f_code.co_filename != filename:
        tb = tb.tb_next
    text = "".join(traceback.format_exception(type(exc), exc, tb))
    sys.stderr.write(text)
    message = str(exc)
    name = type(exc).__name__
    return {"ok": False, "type": name, "message": name + ": " + message if message else name, "traceback": text}

def _outcome(payload):
    """Runs one payload's code: the marker document and the exit status the run stands for."""
    code = payload.get("code") or ""
    filename = payload.get("filename") or "<noetl>"
    try:
        value, unset = _noetl_exec(payload, code, filename)
    except SystemExit as exc:
        if exc.code in (None, 0):
            return {"ok": True, "has": False}, 0
        return {"ok": False, "type": "SystemExit", "message": "SystemExit: " + str(exc.code), "traceback": ""}, 1
    except BaseException as exc:
        return _fail(exc, filename, code), 1
    if value is unset:
        return {"ok": True, "has": False}, 0
    return {"ok": True, "has": True, "value": value}, 0
`;

export const PYTHON_WRAPPER = String.raw`${PYTHON_CORE}
def _run():
    doc, status = _outcome(json.loads(sys.stdin.read()))
    _emit(doc)
    return status

sys.exit(_run())
`;
