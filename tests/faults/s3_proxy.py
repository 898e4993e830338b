"""The fault-injecting proxy (tests/flaky_proxy.py) with more ways to fail an object's GET, chosen
per object: `503` answers SlowDown, `500` answers InternalError, `reset` drops the connection with
a TCP reset before answering, `slow` answers after SLOW_SECONDS. Each object has a list of faults,
one per GET in turn (the last one repeats when `always`); other requests pass through."""

from __future__ import annotations

import socket
import struct
import threading
import time
from collections import Counter
from urllib.parse import unquote, urlsplit

from tests.flaky_proxy import FlakyProxy

SLOW_SECONDS = 3.0
ERRORS = {
    "503": (503, "SlowDown", "Please reduce your request rate."),
    "500": (500, "InternalError", "We encountered an internal error. Please try again."),
}


class FaultProxy(FlakyProxy):
    def __init__(self, upstream: str, faults: dict[str, list[str]], always: set[str] = frozenset()):
        super().__init__(upstream, cuts=0)
        self.faults, self.always = faults, always
        self.gets = Counter()
        self.injected = Counter()
        lock = threading.Lock()
        proxy = self

        class Handler(self.server.RequestHandlerClass):
            def _forward(self):
                fault = proxy.fault_for(self.command, self.path, lock)
                if fault in ERRORS:
                    status, code, message = ERRORS[fault]
                    payload = f"<?xml version='1.0'?><Error><Code>{code}</Code><Message>{message}</Message></Error>"
                    self.send_response(status)
                    self.send_header("Content-Type", "application/xml")
                    self.send_header("Content-Length", str(len(payload)))
                    self.end_headers()
                    self.wfile.write(payload.encode())
                    return
                if fault == "reset":
                    self.connection.setsockopt(
                        socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0)
                    )
                    self.connection.close()
                    self.close_connection = True
                    return
                if fault == "slow":
                    time.sleep(SLOW_SECONDS)
                super()._forward()

            do_GET = do_PUT = do_POST = do_HEAD = do_DELETE = _forward

        self.server.RequestHandlerClass = Handler

    def fault_for(self, command: str, path: str, lock) -> str | None:
        target = urlsplit(path)
        if command != "GET" or target.query:
            return None
        name = unquote(target.path).rsplit("/", 1)[-1]
        if name not in self.faults:
            return None
        with lock:
            count = self.gets[name]
            self.gets[name] += 1
            faults = self.faults[name]
            fault = (
                faults[min(count, len(faults) - 1)]
                if name in self.always or count < len(faults)
                else None
            )
            if fault:
                self.injected[(name, fault)] += 1
            return fault
