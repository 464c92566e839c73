"""The team chat robot: a hand-off said in the staff group chat (SPEC §11).

``SHOPOPS_STAFF_WEBHOOK_URL`` receives a JSON POST ``{"msgtype": "text", "text": {"content": …}}``,
the shape WeCom and DingTalk group robots both accept. With ``SHOPOPS_STAFF_WEBHOOK_SECRET`` set,
the request is signed the DingTalk way: ``timestamp`` (milliseconds) and ``sign`` (the base64 of
HMAC-SHA256 keyed by the secret over ``"<timestamp>\\n<secret>"``, URL-encoded) are added to the
URL's query. Every message carries ``Idempotency-Key`` (from the outbox row's key) for a relay
that de-duplicates; the robots themselves ignore it.

Errors are classified for the outbox (``orders.delivery``): :class:`RetryableWebhookError` (5xx,
408, 429, timeouts, unreachable, and the robots' "too many messages" answers) and
:class:`PermanentWebhookError` (any other refusal: a bad token, a bad signature, a keyword the
robot requires) — retrying those would only repeat them.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import http.client
import json
import time
import urllib.error
import urllib.parse
import urllib.request

from django.conf import settings

# The robots answer HTTP 200 with {"errcode": …, "errmsg": …}; these codes mean "too fast, later":
# DingTalk's 130101 (more than 20 messages a minute) and WeCom's 45009 (API frequency limit).
THROTTLED = frozenset({130101, 45009})
# The largest answer read: a robot's answer is a few dozen bytes.
MAX_ANSWER = 64 * 1024


class WebhookError(Exception):
    """Sending failed. ``retryable`` says whether a later attempt may succeed."""

    retryable = False


class RetryableWebhookError(WebhookError):
    retryable = True


class PermanentWebhookError(WebhookError):
    retryable = False


def sign(secret: str, timestamp: str) -> str:
    """DingTalk's signature: base64(HMAC-SHA256(secret, "timestamp\\nsecret")), URL-encoded."""
    digest = hmac.new(secret.encode("utf-8"), f"{timestamp}\n{secret}".encode(), hashlib.sha256).digest()
    return urllib.parse.quote_plus(base64.b64encode(digest))


def signed_url(url: str, secret: str, *, now: float | None = None) -> str:
    """``url`` with ``timestamp`` and ``sign`` added to its query (``url`` as it is without a secret)."""
    if not secret:
        return url
    timestamp = str(round((time.time() if now is None else now) * 1000))
    joiner = "&" if urllib.parse.urlsplit(url).query else "?"
    return f"{url}{joiner}timestamp={timestamp}&sign={sign(secret, timestamp)}"


def payload(text: str) -> bytes:
    return json.dumps({"msgtype": "text", "text": {"content": text}}, ensure_ascii=False).encode("utf-8")


def send(text: str, *, idempotency_key: str = "") -> None:
    """POST ``text`` to the team chat robot; raise ``WebhookError`` (retryable or not) on failure."""
    url = settings.SHOPOPS_STAFF_WEBHOOK_URL
    if not url:
        raise PermanentWebhookError("SHOPOPS_STAFF_WEBHOOK_URL is not set: there is no team chat to post to")
    if urllib.parse.urlsplit(url).scheme not in ("http", "https"):
        raise PermanentWebhookError("SHOPOPS_STAFF_WEBHOOK_URL must be an http(s):// address")
    headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
    if idempotency_key:
        headers["Idempotency-Key"] = idempotency_key
    request = urllib.request.Request(  # noqa: S310 — an http(s) address from settings, checked above
        signed_url(url, settings.SHOPOPS_STAFF_WEBHOOK_SECRET),
        data=payload(text),
        headers=headers,
        method="POST",
    )
    timeout = float(settings.SHOPOPS_STAFF_WEBHOOK_TIMEOUT)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310
            answer = response.read(MAX_ANSWER)
    except urllib.error.HTTPError as exc:
        message = f"team chat answered HTTP {exc.code}"
        if exc.code >= 500 or exc.code in (408, 429):
            raise RetryableWebhookError(message) from exc
        raise PermanentWebhookError(message) from exc
    except TimeoutError as exc:
        raise RetryableWebhookError(f"team chat did not answer within {timeout:g} s") from exc
    except urllib.error.URLError as exc:
        raise RetryableWebhookError(f"team chat unreachable: {exc.reason}") from exc
    except http.client.HTTPException as exc:
        raise RetryableWebhookError(f"team chat gave a broken answer: {exc!r}") from exc
    _check_answer(answer)


def _check_answer(answer: bytes) -> None:
    """A robot says "refused" with HTTP 200 and a non-zero ``errcode``."""
    try:
        found = json.loads(answer.decode("utf-8") or "{}")
    except (UnicodeDecodeError, json.JSONDecodeError):
        return  # not a robot's JSON (a relay's plain "ok"): the POST was taken
    if not isinstance(found, dict):
        return
    code = found.get("errcode", 0)
    if code in (0, "0", None):
        return
    message = f"team chat refused the message: errcode {code} {str(found.get('errmsg', ''))[:200]}".strip()
    if code in THROTTLED:
        raise RetryableWebhookError(message)
    raise PermanentWebhookError(message)
