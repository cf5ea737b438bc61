import { PYTHON_CORE } from './wrapper.js';

/**
 * The Python side of the warm interpreter pool (pool.ts), run with `python3 -c`. It runs one
 * step at a time: it reads a request line (`{nonce, cwd, payload}`, the wrapper's payload) on fd
 * 3, runs the code exactly as the one-shot wrapper does (PYTHON_CORE), writes
 * `@@__NOETL_END_<nonce>__@@` on stdout and on stderr once the step's output is complete, and
 * answers on fd 4 with one line: `{nonce, status, rss, recycle, warmed, doc}` (`doc` the wrapper's
 * marker document), `{nonce, crash}` when the document cannot be written (the one-shot process
 * would have died), or `{nonce, setup_error, errno}`. fd 0 is /dev/null, fds 1 and 2 are the
 * step's stdout and stderr as with a process per step.
 *
 * Between steps it puts the interpreter back to the state it had before the first one (the
 * baseline): modules imported by a step leave `sys.modules`, attributes set or rebound on
 * baseline modules are undone, `os.environ`, the working directory, `sys.path`, signal handlers,
 * warning filters, the umask, the recursion limit and the standard streams are restored. What
 * cannot be undone (a C extension module from outside the standard library, a thread or a child
 * process still running, a closed standard stream) makes it ask to be replaced (`recycle`).
 * As a new process would, it reseeds `random` and runs `sitecustomize`/`usercustomize` again
 * before every step but its first.
 * `libs` are imported before the step and kept as part of the baseline, so a later step with
 * the same `libs` finds them loaded. End of input on fd 3 ends the runner.
 */
export const PYTHON_RUNNER = String.raw`${PYTHON_CORE}
import os, io, signal, threading, linecache, traceback, atexit, warnings, gc, time

def _noetl_runner():
    ctl = os.fdopen(3, "rb")
    for fd in (3, 4):
        os.set_inheritable(fd, False)
    dumps, loads, write, environ = json.dumps, json.loads, os.write, os.environ
    from operator import is_
    stdlib = os.path.dirname(os.__file__) + os.sep
    suffixes = tuple(sys.modules["_frozen_importlib_external"].EXTENSION_SUFFIXES)
    page = os.sysconf("SC_PAGE_SIZE") if hasattr(os, "sysconf") else 4096

    def fd_id(fd):
        st = os.fstat(fd)
        return (st.st_dev, st.st_ino)

    std_fds = {fd: (os.dup(fd), fd_id(fd)) for fd in (0, 1, 2)}
    std_streams = (sys.stdin, sys.stdout, sys.stderr)

    def send(text):
        data = memoryview((text + "\n").encode("utf-8"))
        while data:
            data = data[write(4, data):]

    def foreign_extension(module):
        spec = getattr(module, "__spec__", None)
        origin = getattr(spec, "origin", None) or getattr(module, "__file__", None)
        if not isinstance(origin, str) or not origin.endswith(suffixes):
            return False
        return not origin.startswith(stdlib) or "-packages" + os.sep in origin

    def snapshot_modules():
        dicts = []
        for module in list(sys.modules.values()):
            d = getattr(module, "__dict__", None)
            if type(d) is dict:
                dicts.append((d, dict(d)))
        return {
            "modules": dict(sys.modules),
            "dicts": dicts,
            "path": list(sys.path),
            "meta_path": list(sys.meta_path),
            "path_hooks": list(sys.path_hooks),
            "importer_cache": dict(sys.path_importer_cache),
            "linecache": dict(linecache.cache),
            "filters": list(warnings.filters),
        }

    def restore_modules(base):
        recycle = False
        mods = sys.modules
        kept = base["modules"]
        for name in [n for n in mods if n not in kept]:
            module = mods.pop(name, None)
            if not recycle and foreign_extension(module):
                recycle = True
        for name, module in kept.items():
            if mods.get(name) is not module:
                mods[name] = module
        for d, snap in base["dicts"]:
            # Same keys, each bound to the same object (in C: a few microseconds a module).
            if len(d) == len(snap) and all(map(is_, d.values(), snap.values())) and d.keys() == snap.keys():
                continue
            for k in [k for k in d if k not in snap]:
                del d[k]
            d.update(snap)
        sys.path[:] = base["path"]
        sys.meta_path[:] = base["meta_path"]
        sys.path_hooks[:] = base["path_hooks"]
        if len(sys.path_importer_cache) != len(base["importer_cache"]):
            sys.path_importer_cache.clear()
            sys.path_importer_cache.update(base["importer_cache"])
        if len(linecache.cache) != len(base["linecache"]) or any(
            linecache.cache.get(k) is not v for k, v in base["linecache"].items()
        ):
            linecache.cache.clear()
            linecache.cache.update(base["linecache"])
        if warnings.filters != base["filters"] or warnings.onceregistry:
            warnings.filters[:] = base["filters"]
            warnings.onceregistry.clear()
            warnings._filters_mutated()
        return recycle

    signals = {}
    for sig in signal.valid_signals():
        try:
            handler = signal.getsignal(sig)
        except (ValueError, OSError):
            continue
        if handler is not None:
            signals[sig] = handler
    fixed = {
        "environ": dict(environ),
        "data": dict(getattr(environ, "_data", {})),
        "cwd": os.getcwd(),
        "recursion": sys.getrecursionlimit(),
        "switch": sys.getswitchinterval(),
        "gc": gc.get_threshold(),
        "umask": os.umask(0o022),
    }
    os.umask(fixed["umask"])

    def restore_process():
        recycle = False
        env = fixed["environ"]
        data = getattr(environ, "_data", None)
        same = data == fixed["data"] if data is not None else dict(environ) == env
        if not same:
            tz = environ.get("TZ")
            for k in [k for k in environ if k not in env]:
                del environ[k]
            for k, v in env.items():
                if environ.get(k) != v:
                    environ[k] = v
            if tz != env.get("TZ") and hasattr(time, "tzset"):
                time.tzset()
        try:
            os.chdir(fixed["cwd"])
        except OSError:
            recycle = True
        for sig, handler in signals.items():
            try:
                if signal.getsignal(sig) is not handler:
                    signal.signal(sig, handler)
            except (ValueError, OSError, TypeError):
                recycle = True
        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)
        sys.settrace(None)
        sys.setprofile(None)
        sys.setrecursionlimit(fixed["recursion"])
        sys.setswitchinterval(fixed["switch"])
        gc.enable()
        gc.set_threshold(*fixed["gc"])
        os.umask(fixed["umask"])
        atexit._clear()
        for fd, (saved, ident) in std_fds.items():
            try:
                if fd_id(fd) != ident:
                    os.dup2(saved, fd)
            except OSError:
                os.dup2(saved, fd)
        sys.stdin, sys.stdout, sys.stderr = std_streams
        if any(s.closed for s in std_streams):
            recycle = True
        # A new process draws new random numbers.
        rnd = sys.modules.get("random")
        if rnd is not None:
            rnd.seed()
        return recycle

    # What python runs at each start (site): run again before each step but the first.
    customize = [n for n in ("sitecustomize", "usercustomize") if n in sys.modules]

    def rerun_customize():
        for name in customize:
            sys.modules.pop(name, None)
            try:
                __import__(name)
            except Exception as exc:
                sys.stderr.write(
                    "Error in " + name + "; set PYTHONVERBOSE for traceback:\n"
                    + type(exc).__name__ + ": " + str(exc) + "\n"
                )

    def leftovers():
        # What a process per step ends at exit: threads still running, child processes.
        for t in threading.enumerate():
            if t is not threading.main_thread() and not t.daemon:
                t.join()
        if len(sys._current_frames()) > 1:
            return True
        try:
            while os.waitpid(-1, os.WNOHANG)[0] != 0:
                pass
        except ChildProcessError:
            pass
        try:
            for task in os.listdir("/proc/self/task"):
                with open("/proc/self/task/" + task + "/children") as f:
                    if f.read().strip():
                        return True
        except OSError:
            pass
        return False

    def rss():
        try:
            with open("/proc/self/statm") as f:
                return int(f.read().split()[1]) * page
        except (OSError, ValueError, IndexError):
            return 0

    def warm(libs, warmed):
        # libs are imported before the code and kept; one that fails is left to the code to report.
        added, recycle, cwd = [], False, os.getcwd() + os.sep
        for lib in libs:
            key = lib["module"] + (":" + lib["name"] if lib.get("name") else "")
            if key in warmed:
                continue
            before = set(sys.modules)
            try:
                _import_lib(lib)
                ok = True
            except BaseException:
                ok = False
            new = [n for n in sys.modules if n not in before]
            local = any(str(getattr(sys.modules[n], "__file__", None) or "").startswith(cwd) for n in new)
            if not ok:
                for n in new:
                    module = sys.modules.pop(n, None)
                    recycle = recycle or foreign_extension(module)
            elif not local:
                warmed.add(key)
                added.append(key)
        return added, recycle

    # One quiet run of each path first, so the lazy imports of the runner's own code are part of
    # the baseline and not counted as a step's imports.
    real_err = sys.stderr
    sys.stderr = io.StringIO()
    try:
        for code in ("result = {'a': [1, 2.5, None]}", "raise ValueError('x')"):
            _doc_text(_outcome({"code": code, "filename": "<noetl-warmup>"})[0])
    finally:
        sys.stderr = real_err
    linecache.cache.pop("<noetl-warmup>", None)
    atexit._clear()
    base = snapshot_modules()
    warmed = set()
    fresh = True

    while True:
        line = ctl.readline()
        if not line:
            return 0
        req = loads(line)
        nonce = req["nonce"]
        end = ("@@__NOETL_END_" + nonce + "__@@").encode("ascii")
        payload = req["payload"]
        try:
            os.chdir(req["cwd"])
        except OSError as exc:
            write(1, end)
            write(2, end)
            send(dumps({"nonce": nonce, "setup_error": str(exc), "errno": exc.errno}))
            continue
        if not fresh:
            rerun_customize()
        fresh = False
        added, recycle = warm(payload.get("libs") or [], warmed)
        if added:
            base = snapshot_modules()
        doc, status = _outcome(payload)
        text, crash = None, None
        try:
            # The runner's own json.dumps: the code may have replaced the module's.
            try:
                text = dumps(doc, default=str, allow_nan=False)
            except (TypeError, ValueError):
                text = dumps(_clean(doc), default=str, allow_nan=False)
        except BaseException:
            sys.stderr.write(traceback.format_exc())
            crash = 1
        doc = payload = None
        for stream in (sys.stdout, sys.stderr):
            try:
                stream.flush()
            except BaseException:
                pass
        recycle = leftovers() or recycle
        recycle = restore_modules(base) or recycle
        recycle = restore_process() or recycle
        write(1, end)
        write(2, end)
        if crash is not None:
            send(dumps({"nonce": nonce, "crash": crash}))
            continue
        meta = dumps({"nonce": nonce, "status": status, "rss": rss(), "recycle": recycle, "warmed": added})
        send(meta[:-1] + ', "doc": ' + text + "}")

sys.exit(_noetl_runner())
`;
