"""`uvicorn.run(app, host, port)` for the FastAPI stand-in: a threading HTTP server."""
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


def run(app, host="127.0.0.1", port=8000, **kwargs):
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def _serve(self):
            length = int(self.headers.get("content-length") or 0)
            if length:
                self.rfile.read(length)
            base = f"http://{self.headers.get('host') or f'{host}:{port}'}/"
            status, headers, body = app.handle(self.command, self.path, dict(self.headers), base)
            self.send_response(status)
            for k, v in headers.items():
                self.send_header(k, str(v))
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = do_POST = do_PUT = do_DELETE = _serve

        def log_message(self, *args):
            pass

    server = ThreadingHTTPServer(("127.0.0.1" if host == "0.0.0.0" else host, port), Handler)
    server.daemon_threads = True
    server.serve_forever()
