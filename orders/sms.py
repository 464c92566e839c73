"""Text messages, with pluggable backends in the style of Django's email backends.

``settings.SMS_URL`` chooses the backend by its scheme:

- ``console:`` (the default) prints each message to standard output;
- ``locmem:`` keeps messages in ``orders.sms.outbox`` (tests; like ``django.core.mail.outbox``);
- ``http://…`` / ``https://…`` POSTs ``{"to": "+34…", "text": "…"}`` as JSON to that URL with
  ``Authorization: Bearer <SMS_TOKEN>`` and ``Idempotency-Key: <key>``.

Errors are classified for the caller: ``RetryableSmsError`` (5xx, 429, timeouts, connection
failures — a later attempt may succeed) and ``PermanentSmsError`` (any other 4xx, a bad
configuration — retrying would only repeat the failure).
"""

from __future__ import annotations

import http.client
import json
import sys
import threading
import urllib.error
import urllib.request
from dataclasses import dataclass
from typing import TextIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured


class SmsError(Exception):
    """Sending failed. ``retryable`` says whether a later attempt may succeed."""

    retryable = False


class RetryableSmsError(SmsError):
    retryable = True


class PermanentSmsError(SmsError):
    retryable = False


@dataclass(frozen=True)
class SmsMessage:
    to: str
    text: str
    idempotency_key: str = ""


# The in-memory backend's sent messages (tests read and clear it, like mail.outbox). A worker
# thread in the test process appends here too, hence the lock.
outbox: list[SmsMessage] = []
_outbox_lock = threading.Lock()


class BaseSmsBackend:
    def send(self, to: str, text: str, *, idempotency_key: str = "") -> None:
        """Send one text message; raise ``SmsError`` (retryable or permanent) on failure."""
        raise NotImplementedError


class ConsoleSmsBackend(BaseSmsBackend):
    """Prints messages: the zero-setup default, like Django's console email backend."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send(self, to: str, text: str, *, idempotency_key: str = "") -> None:
        self.stream.write(f"SMS to {to} (key {idempotency_key or '-'}):\n{text}\n{'-' * 60}\n")
        self.stream.flush()


class LocmemSmsBackend(BaseSmsBackend):
    """Appends to ``orders.sms.outbox``; for tests."""

    def send(self, to: str, text: str, *, idempotency_key: str = "") -> None:
        with _outbox_lock:
            outbox.append(SmsMessage(to=to, text=text, idempotency_key=idempotency_key))


class HttpSmsBackend(BaseSmsBackend):
    """An HTTP JSON SMS provider.

    The ``Idempotency-Key`` header lets the provider drop a repeat of a message it already
    accepted: our only defence against the window between "the provider accepted it" and "we
    recorded it as sent" (a worker killed there sends it again on the next attempt).
    """

    def __init__(self, url: str, token: str = "", timeout: float = 10.0) -> None:
        self.url = url
        self.token = token
        self.timeout = timeout

    def send(self, to: str, text: str, *, idempotency_key: str = "") -> None:
        payload = json.dumps({"to": to, "text": text}, ensure_ascii=False).encode("utf-8")
        headers = {"Content-Type": "application/json; charset=utf-8", "Accept": "application/json"}
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        request = urllib.request.Request(self.url, data=payload, headers=headers, method="POST")  # noqa: S310
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                response.read()
        except urllib.error.HTTPError as exc:
            detail = _error_detail(exc)
            message = f"SMS provider answered HTTP {exc.code}{': ' + detail if detail else ''}"
            # 408 and 429 are the client-side codes that mean "try again later".
            if exc.code >= 500 or exc.code in (408, 429):
                raise RetryableSmsError(message) from exc
            raise PermanentSmsError(message) from exc
        except TimeoutError as exc:
            raise RetryableSmsError(f"SMS provider did not answer within {self.timeout:g} s") from exc
        except urllib.error.URLError as exc:
            raise RetryableSmsError(f"SMS provider unreachable: {exc.reason}") from exc
        except http.client.HTTPException as exc:
            # A cut-off or garbled answer (IncompleteRead, BadStatusLine): a proxy or the provider
            # fell over mid-reply; the next attempt may well get through.
            raise RetryableSmsError(f"SMS provider gave a broken answer: {exc!r}") from exc
        except (ConnectionError, OSError) as exc:
            raise RetryableSmsError(f"SMS provider connection failed: {exc}") from exc


def _error_detail(exc: urllib.error.HTTPError) -> str:
    try:
        return exc.read(500).decode("utf-8", "replace").strip()
    except Exception:  # the body is only a hint for the operator; the status code is the error
        return ""


def get_backend(url: str | None = None) -> BaseSmsBackend:
    """The backend that ``url`` (default ``settings.SMS_URL``) names."""
    url = settings.SMS_URL if url is None else url
    scheme = url.split(":", 1)[0].lower()
    if scheme == "console":
        return ConsoleSmsBackend()
    if scheme == "locmem":
        return LocmemSmsBackend()
    if scheme in ("http", "https"):
        return HttpSmsBackend(url, token=settings.SMS_TOKEN, timeout=settings.SMS_TIMEOUT)
    raise ImproperlyConfigured(f"SMS_URL {url!r}: use console:, locmem:, or an http(s):// provider URL")


def send_sms(to: str, text: str, *, idempotency_key: str = "") -> None:
    """Send one text message through the configured backend. Raises ``SmsError`` on failure."""
    try:
        backend = get_backend()
    except ImproperlyConfigured as exc:
        raise PermanentSmsError(str(exc)) from exc
    backend.send(to, text, idempotency_key=idempotency_key)


# --- how many messages a text costs ---------------------------------------------------------------

# The GSM 03.38 default alphabet (7 bits a character) and its extension table (each an escape
# plus one character, so two septets). Any other character sends the whole text as UCS-2.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?¡ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    "ÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
GSM7_EXTENSION = frozenset("^{}\\[~]|€\f")


@dataclass(frozen=True)
class Segments:
    encoding: str  # "GSM-7" or "UCS-2"
    units: int  # septets (GSM-7) or UTF-16 code units (UCS-2)
    count: int  # messages the network bills


def segments(text: str) -> Segments:
    """How a text travels: GSM-7 (160 septets, 153 a part when split) or UCS-2 (70 / 67)."""
    if all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text):
        units = sum(2 if ch in GSM7_EXTENSION else 1 for ch in text)
        single, part, encoding = 160, 153, "GSM-7"
    else:
        units = len(text.encode("utf-16-le")) // 2
        single, part, encoding = 70, 67, "UCS-2"
    count = 1 if units <= single else -(-units // part)
    return Segments(encoding, units, count)
