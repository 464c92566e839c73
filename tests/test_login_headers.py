"""Login lockout and response headers (issue 12, part 6): wrong passwords lock out the user name,
the address and the pair; every page carries a strict Content-Security-Policy that our own
templates satisfy; no response announces the server software (runserver's or gunicorn's)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from html.parser import HTMLParser
from pathlib import Path

import pytest
from django.conf import settings
from django.test import Client

from orders.models import Status
from tests.factories import OrderFactory, staff

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/"
BASE_DIR = Path(__file__).resolve().parent.parent


def _login(username: str, password: str, ip: str) -> int:
    client = Client(REMOTE_ADDR=ip)
    response = client.post(LOGIN, {"username": username, "password": password, "next": "/admin/"})
    return response.status_code


# --- lockout ------------------------------------------------------------------------------------


def test_one_address_trying_many_user_names_is_locked_out():
    staff("Operator", "real-operator").set_password("right-password-1")
    # given: one address guessing passwords of different user names, never twice the same
    statuses = [_login(f"guess-{n}", "wrong", "203.0.113.7") for n in range(settings.AXES_FAILURE_LIMIT)]
    # then: the form again with the error, until the limit locks the address out
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    # even for a user name it never tried
    assert _login("guess-new", "wrong", "203.0.113.7") == 429
    # and another address is not
    assert _login("guess-new", "wrong", "198.51.100.1") == 200


def test_one_user_name_tried_from_many_addresses_is_locked_out():
    user = staff("Operator", "target")
    user.set_password("right-password-1")
    user.save()
    statuses = [_login("target", "wrong", f"192.0.2.{n + 1}") for n in range(settings.AXES_FAILURE_LIMIT)]
    assert statuses == [200] * (settings.AXES_FAILURE_LIMIT - 1) + [429]
    # then: the right password from a fresh address is refused too, until the cool-off ends
    assert _login("target", "right-password-1", "192.0.2.200") == 429
    # other users log in from that address as usual
    other = staff("Operator", "colleague")
    other.set_password("right-password-2")
    other.save()
    assert _login("colleague", "right-password-2", "192.0.2.200") == 302


def test_the_pair_is_locked_out_and_the_cool_off_is_documented():
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _login("pair", "wrong", "198.51.100.9")
    assert _login("pair", "wrong", "198.51.100.9") == 429
    assert settings.AXES_LOCKOUT_PARAMETERS == ["username", "ip_address", ["username", "ip_address"]]
    readme = (BASE_DIR / "README.md").read_text()
    assert "AXES_COOLOFF_MINUTES" in readme and "per user name" in readme and "per address" in readme


# --- Content-Security-Policy ----------------------------------------------------------------------


class _Inline(HTMLParser):
    """What a strict policy blocks: inline scripts and styles, style and event-handler attributes."""

    def __init__(self) -> None:
        super().__init__()
        self.found: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        names = {name for name, _value in attrs}
        data_block = dict(attrs).get("type") == "application/json"  # json_script: data, never run
        if tag == "script" and "src" not in names and not data_block:
            self.found.append("<script> without src")
        if tag == "style":
            self.found.append("<style>")
        if "style" in names:
            self.found.append(f"style= on <{tag}>")
        self.found += [f"{name}= on <{tag}>" for name in names if name.startswith("on")]
        for name, value in attrs:
            if name in ("href", "src", "action") and (value or "").strip().lower().startswith("javascript:"):
                self.found.append(f"javascript: in <{tag} {name}>")


def _inline(html: str) -> list[str]:
    parser = _Inline()
    parser.feed(html)
    return parser.found


def test_every_response_has_a_strict_content_security_policy(client):
    response = client.get(LOGIN)
    policy = response["Content-Security-Policy"]
    directives = dict(part.strip().split(" ", 1) for part in policy.split(";") if part.strip())
    assert directives["default-src"] == "'none'"
    assert directives["script-src"] == "'self'" and directives["style-src"] == "'self'"
    assert directives["frame-ancestors"] == "'none'" and directives["object-src"] == "'none'"
    assert "unsafe-inline" not in policy and "unsafe-eval" not in policy and "*" not in policy


@pytest.mark.parametrize("group", ["Supervisor", "Analyst"])
def test_our_pages_have_nothing_inline_that_the_policy_would_block(client, group):
    from orders.workflow import feedback as feedback_flow

    order = OrderFactory(status=Status.SHIPPED)
    feedback = feedback_flow.record_feedback(order, by=None, rating=1, comment="bad")
    pages = [
        LOGIN,
        "/admin/",
        "/admin/orders/analytics/",
        "/admin/orders/order/",
        f"/admin/orders/order/{order.pk}/change/",
        f"/admin/orders/order/{order.pk}/evidence/",
        "/admin/orders/feedback/",
        f"/admin/orders/feedback/{feedback.pk}/change/",
        "/admin/orders/refund/",
        "/admin/orders/sku/",
    ]
    client.force_login(staff(group))
    for url in pages:
        response = client.get(url)
        if response.status_code != 200:
            continue
        assert _inline(response.content.decode()) == [], url


def test_no_template_of_ours_holds_an_inline_script_or_style():
    offenders = []
    for path in (BASE_DIR / "templates").rglob("*.html"):
        text = path.read_text()
        if re.search(r"<style\b|<script(?![^>]*\bsrc=)[^>]*>|\sstyle=|\son[a-z]+=", text):
            offenders.append(str(path.relative_to(BASE_DIR)))
    assert offenders == []


# --- no Server header -----------------------------------------------------------------------------


def _headers(url: str) -> dict[str, str]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 (a local test server)
            return {k.lower(): v for k, v in response.headers.items()}
    except urllib.error.HTTPError as error:
        return {k.lower(): v for k, v in error.headers.items()}


def test_the_development_server_announces_no_software(live_server):
    # The live server is Django's runserver handler (wsgiref): it adds "WSGIServer/0.2 CPython".
    # (Its static files bypass the middleware; gunicorn's test below covers WhiteNoise's.)
    for path in ("/admin/login/", "/healthz"):
        headers = _headers(live_server.url + path)
        assert headers.get("server", "") == "", path


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_gunicorn_announces_no_software(tmp_path):
    port = _free_port()
    env = {**os.environ, "DEBUG": "1", "DATABASE_URL": f"sqlite:///{tmp_path}/db.sqlite3"}
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "shopops.wsgi", "--bind", f"127.0.0.1:{port}", "--workers", "1"],
        cwd=BASE_DIR,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        headers = None
        for _ in range(100):
            try:
                headers = _headers(f"http://127.0.0.1:{port}/admin/login/")
                break
            except OSError:
                time.sleep(0.2)
        assert headers is not None, (
            server.stderr.read1().decode() if server.poll() is not None else "no answer"
        )
        assert headers.get("server", "") == ""
        assert "content-security-policy" in headers
        static = _headers(f"http://127.0.0.1:{port}/static/shopops/admin.css")  # WhiteNoise
        assert static.get("server", "") == "" and static["content-type"].startswith("text/css")
    finally:
        server.terminate()
        server.wait(timeout=10)
