"""A real HTTP SMS provider on loopback, for the SMS and delivery tests (not a mock of our code).

It behaves like a real provider: checks the bearer token and the JSON body, and de-duplicates by
``Idempotency-Key`` — a repeat of a key it already accepted is answered 200 and not delivered
again. It counts what matters to a buyer: distinct messages delivered (``delivered``), next to
every request received (``requests``).

``status`` makes it answer an error instead (503, 400, ...); ``delay`` makes it hold the response
that long *after* accepting the message, like a provider that queued the SMS but is slow to say
so — the window in which a worker can die with the message already on its way.
"""

from __future__ import annotations

import functools
import json
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOKEN = "test-sms-token"


@dataclass
class Received:
    at: float
    headers: dict
    payload: dict | None


@dataclass
class SmsProvider:
    status: int = 200
    delay: float = 0.0
    requests: list[Received] = field(default_factory=list)
    delivered: dict[str, dict] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/v1/messages"

    def wait_for_requests(self, count: int, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while len(self.requests) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"provider got {len(self.requests)} request(s), expected {count}")
            time.sleep(0.02)

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict]:
        length = int(handler.headers.get("Content-Length") or 0)
        raw = handler.rfile.read(length)
        try:
            payload = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            payload = None
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self.lock:
            self.requests.append(Received(at=time.monotonic(), headers=headers, payload=payload))
        if headers.get("authorization") != f"Bearer {TOKEN}":
            return 401, {"error": "bad token"}
        if self.status != 200:
            return self.status, {"error": f"provider says {self.status}"}
        if not isinstance(payload, dict) or not payload.get("to") or not payload.get("text"):
            return 400, {"error": "to and text are required"}
        key = headers.get("idempotency-key") or f"anonymous-{len(self.requests)}"
        with self.lock:
            duplicate = key in self.delivered
            if not duplicate:
                self.delivered[key] = payload
        if self.delay:
            time.sleep(self.delay)
        return 200, {"id": key, "duplicate": duplicate}


def start_provider(**options) -> SmsProvider:
    provider = SmsProvider(**options)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            status, body = provider.handle(self)
            data = json.dumps(body).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):  # the client died waiting: fine
                pass

        def log_message(self, *args) -> None:
            pass

    provider.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    provider.server.daemon_threads = True
    # A short poll: shutdown() waits for it, at every test's teardown (the default is 0.5 s).
    serve = functools.partial(provider.server.serve_forever, poll_interval=0.02)
    threading.Thread(target=serve, daemon=True).start()
    return provider


def stop_provider(provider: SmsProvider) -> None:
    provider.server.shutdown()
    provider.server.server_close()
