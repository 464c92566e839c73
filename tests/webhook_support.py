"""A team chat robot on loopback, for the hand-off tests (a real HTTP server, not a mock of our code).

It behaves like a DingTalk group robot: it takes a JSON POST, checks ``msgtype`` and
``text.content``, and — when it has a secret — checks the ``timestamp`` and ``sign`` query
parameters the DingTalk way (base64 of HMAC-SHA256 keyed by the secret over
``"timestamp\\nsecret"``; a timestamp more than an hour off is refused), answering
``{"errcode": 0, "errmsg": "ok"}`` or the robot's refusal (``310000``, HTTP 200). ``fail`` makes it
answer 503 to the next that many requests. It keeps every request (``requests``) and the messages
it accepted (``messages``: their texts).
"""

from __future__ import annotations

import base64
import functools
import hashlib
import hmac
import json
import threading
import time
import urllib.parse
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass
class Request:
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: dict | None


@dataclass
class ChatRobot:
    secret: str = ""
    fail: int = 0
    requests: list[Request] = field(default_factory=list)
    messages: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    server: ThreadingHTTPServer | None = None

    @property
    def url(self) -> str:
        host, port = self.server.server_address[:2]
        return f"http://{host}:{port}/robot/send?access_token=test-token"

    def signature_ok(self, query: dict[str, str]) -> bool:
        timestamp, sign = query.get("timestamp", ""), query.get("sign", "")
        if not timestamp.isdigit() or abs(time.time() * 1000 - int(timestamp)) > 3600 * 1000:
            return False
        expected = hmac.new(
            self.secret.encode(), f"{timestamp}\n{self.secret}".encode(), hashlib.sha256
        ).digest()
        return hmac.compare_digest(base64.b64encode(expected).decode(), sign)

    def handle(self, handler: BaseHTTPRequestHandler) -> tuple[int, dict]:
        parts = urllib.parse.urlsplit(handler.path)
        query = {k: v[-1] for k, v in urllib.parse.parse_qs(parts.query).items()}
        raw = handler.rfile.read(int(handler.headers.get("Content-Length") or 0))
        try:
            body = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            body = None
        headers = {k.lower(): v for k, v in handler.headers.items()}
        with self.lock:
            self.requests.append(Request(path=parts.path, query=query, headers=headers, body=body))
            if self.fail > 0:
                self.fail -= 1
                return 503, {"errcode": -1, "errmsg": "busy"}
        if query.get("access_token") != "test-token":
            return 200, {"errcode": 300001, "errmsg": "token is not exist"}
        if self.secret and not self.signature_ok(query):
            return 200, {"errcode": 310000, "errmsg": "sign not match"}
        if not isinstance(body, dict) or body.get("msgtype") != "text":
            return 200, {"errcode": 40035, "errmsg": "msgtype missing"}
        content = (body.get("text") or {}).get("content")
        if not content:
            return 200, {"errcode": 40035, "errmsg": "content missing"}
        with self.lock:
            self.messages.append(content)
        return 200, {"errcode": 0, "errmsg": "ok"}


def start_robot(**options) -> ChatRobot:
    robot = ChatRobot(**options)

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):
            status, answer = robot.handle(self)
            data = json.dumps(answer).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args):  # quiet
            pass

    robot.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    serve = functools.partial(robot.server.serve_forever, poll_interval=0.02)  # stopped at once
    threading.Thread(target=serve, daemon=True).start()
    return robot


def stop_robot(robot: ChatRobot) -> None:
    robot.server.shutdown()
    robot.server.server_close()
