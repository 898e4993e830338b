"""A local HTTP server that fails S3 requests as a loaded or broken S3 does, in front of a real S3
server (moto) or alone: `slowdown` answers 503 SlowDown, `error` 500 InternalError, `hang` never
answers, `corrupt` passes the response with one byte of an object's body changed. With
`objects_only` the fault hits only object reads (GET of a key); listings and the rest pass through."""

import http.client
import http.server
import threading
from urllib.parse import urlsplit

ERRORS = {
    "slowdown": (503, "SlowDown", "Please reduce your request rate."),
    "error": (500, "InternalError", "We encountered an internal error. Please try again."),
}


class FaultyS3:
    def __init__(self, fault: str, upstream: str | None = None, objects_only: bool = False):
        self.upstream = urlsplit(upstream) if upstream else None
        self.requests = 0
        self.faults = 0
        self.released = threading.Event()
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length) if length else None
                server.requests += 1
                target = urlsplit(self.path)
                is_object_get = (
                    self.command == "GET" and "/" in target.path.strip("/") and not target.query
                )
                if server.upstream is None or not objects_only or is_object_get:
                    server.faults += 1
                    if fault == "hang":
                        server.released.wait(30)
                        self.close_connection = True
                        return
                    if fault in ERRORS:
                        return self._error(*ERRORS[fault])
                status, headers, payload = self._forward(body)
                if fault == "corrupt" and is_object_get and status == 200 and payload:
                    payload = bytes([payload[0] ^ 0xFF]) + payload[1:]
                self.send_response(status)
                for key, value in headers:
                    if key.lower() not in ("transfer-encoding", "connection", "content-length"):
                        self.send_header(key, value)
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            def _error(self, status, code, message):
                payload = (
                    f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{code}</Code>'
                    f"<Message>{message}</Message></Error>"
                ).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/xml")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

            def _forward(self, body):
                upstream = http.client.HTTPConnection(
                    server.upstream.hostname, server.upstream.port, timeout=30
                )
                headers = {k: v for k, v in self.headers.items() if k.lower() != "host"}
                headers["Host"] = server.upstream.netloc
                upstream.request(self.command, self.path, body=body, headers=headers)
                response = upstream.getresponse()
                return response.status, response.getheaders(), response.read()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _answer

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self):
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def __exit__(self, *exc):
        self.released.set()
        self.server.shutdown()
        self.server.server_close()
