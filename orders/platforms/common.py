"""What both platform clients share: errors, the HTTP transport with retries, JSON, time zones.

- :class:`PlatformError`: an answer that is an error, naming the platform, the API, the code and
  the platform's message. ``retryable`` errors (network errors and timeouts, HTTP 5xx, the
  throttling codes) are retried here with a back-off; any other is raised at once.
  :class:`PlatformUnavailable` is a retryable error still failing after the last retry: the pass
  stops and the next one tries again.
- :class:`Transport`: one POST, signed anew for each attempt (a fresh timestamp), with timeouts,
  the retries, and a cap on the size of the answer read (``SHOPOPS_PLATFORM_MAX_RESPONSE_MB``).
  It never logs a request's parameters: the token and the signature stay between us and the
  gateway.
"""

from __future__ import annotations

import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx
from django.conf import settings

logger = logging.getLogger(__name__)

PACIFIC = ZoneInfo("America/Los_Angeles")  # AliExpress order and dispute times (DST!)
CHINA = ZoneInfo("Asia/Shanghai")  # 1688 times
USER_AGENT = "Shopops"


class PlatformError(Exception):
    """An error answer (or no answer) from a platform's gateway.

    ``code`` is the platform's code (``IllegalAccessToken``, ``gw.SignatureInvalid``, ``5011``) or
    ours for what is not an answer (``HTTP 502``, ``timeout``, ``network``, ``malformed``).
    """

    def __init__(
        self,
        platform: str,
        api: str,
        code: str,
        message: str = "",
        *,
        retryable: bool = False,
        wait: float = 0,
    ):
        self.platform, self.api, self.code = platform, api, str(code)
        self.message = (message or "").strip()[:500]
        self.retryable = retryable
        self.wait = wait  # seconds the platform asked us to wait (a throttling ban)
        super().__init__(str(self))

    def __str__(self) -> str:
        said = f": {self.message}" if self.message else ""
        return f"{self.platform} {self.api} answered {self.code}{said}"


class PlatformUnavailable(PlatformError):
    """A retryable error that persisted through every retry: try again in a later pass."""

    def __str__(self) -> str:
        return f"{super().__str__()} (still failing after retries; the next pass tries again)"


@dataclass(frozen=True)
class Limits:
    timeout: float
    retries: int
    backoff: float
    max_bytes: int

    @classmethod
    def from_settings(cls) -> Limits:
        return cls(
            timeout=float(settings.SHOPOPS_PLATFORM_TIMEOUT_SECONDS),
            retries=int(settings.SHOPOPS_PLATFORM_RETRIES),
            backoff=float(settings.SHOPOPS_PLATFORM_BACKOFF_SECONDS),
            max_bytes=int(float(settings.SHOPOPS_PLATFORM_MAX_RESPONSE_MB) * 1024 * 1024),
        )


# An answer, read: the decoded JSON, or raises PlatformError.
Reader = Callable[[str, int, bytes], Any]
_BAN = re.compile(r"(\d+(?:\.\d+)?)\s*seconds?", re.IGNORECASE)
MAX_WAIT = 60.0  # the longest throttling ban waited out within a pass


def ban_seconds(message: str) -> float:
    """The seconds a throttling message asks us to wait ("this ban will last 1 seconds")."""
    found = _BAN.search(message or "")
    return min(float(found.group(1)), MAX_WAIT) if found else 0.0


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not JSON a platform sends")


def load_json(platform: str, api: str, body: bytes) -> Any:
    """The JSON of an answer; ``PlatformError`` (``malformed``) for anything else."""
    try:
        return json.loads(body, parse_constant=_no_constant)
    except (ValueError, RecursionError) as error:
        raise PlatformError(platform, api, "malformed", f"the answer is not JSON ({error})"[:200]) from None


class Transport:
    """POSTs to a gateway with timeouts and retries; one per client (it keeps its connections)."""

    def __init__(
        self,
        limits: Limits | None = None,
        *,
        http: httpx.Client | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ):
        self.limits = limits or Limits.from_settings()
        self.http = http or httpx.Client(
            timeout=httpx.Timeout(self.limits.timeout),
            headers={"User-Agent": USER_AGENT},
            follow_redirects=False,
        )
        self.sleep = sleep
        self.retried = 0  # attempts repeated, for the pass's report
        self.waited = 0.0  # seconds spent waiting for answers (the bench separates ours from theirs)

    def close(self) -> None:
        self.http.close()

    def post(
        self,
        platform: str,
        api: str,
        request: Callable[[], tuple[str, dict[str, str], dict[str, Any] | None]],
        read: Reader,
        *,
        retry: bool = True,
    ) -> Any:
        """``read(api, status, body)`` of the answer to ``request()`` — (url, form fields, files) —
        built anew for each attempt; retries what is retryable; raises ``PlatformError``.

        ``retry=False`` sends once: a call that creates something (1688's ``createRefund``) is
        never repeated blindly, since a timeout does not say whether the platform acted; its
        caller looks first (``PlatformError.retryable`` still tells it a later try may work)."""
        attempt = 0
        while True:
            try:
                return self._once(platform, api, request, read)
            except PlatformError as error:
                if not error.retryable or not retry:
                    raise
                if attempt >= self.limits.retries:
                    raise PlatformUnavailable(
                        error.platform, error.api, error.code, error.message, retryable=True
                    ) from None
                delay = max(self.limits.backoff * (2**attempt), error.wait)
                logger.info("%s %s: %s; retry %d in %.1f s", platform, api, error.code, attempt + 1, delay)
                attempt += 1
                self.retried += 1
                self.sleep(delay)

    def _once(self, platform: str, api: str, request, read: Reader) -> Any:
        url, fields, files = request()
        started = time.perf_counter()
        try:
            with self.http.stream("POST", url, data=fields, files=files) as response:
                body = bytearray()
                for block in response.iter_bytes():
                    body += block
                    if len(body) > self.limits.max_bytes:
                        raise PlatformError(
                            platform,
                            api,
                            "too large",
                            f"the answer is larger than {self.limits.max_bytes // (1024 * 1024)} MB",
                        )
                status = response.status_code
        except httpx.TimeoutException:
            raise PlatformError(platform, api, "timeout", "no answer in time", retryable=True) from None
        except httpx.TransportError as error:
            raise PlatformError(platform, api, "network", type(error).__name__, retryable=True) from None
        finally:
            self.waited += time.perf_counter() - started
        if status >= 500:
            raise PlatformError(platform, api, f"HTTP {status}", "the gateway failed", retryable=True)
        return read(api, status, bytes(body))


def timestamp_ms(clock: Callable[[], float]) -> str:
    """Epoch milliseconds, as both gateways' timestamps are sent."""
    return str(int(clock() * 1000))


def pacific_text(moment: datetime) -> str:
    """An aware moment as AliExpress writes times: US Pacific wall time ``yyyy-MM-dd HH:mm:ss``."""
    return moment.astimezone(PACIFIC).strftime("%Y-%m-%d %H:%M:%S")


def from_pacific(text: str) -> datetime | None:
    """AliExpress's Pacific wall time as an aware UTC moment (``None`` if it is not one). A wall
    time the autumn change repeats is read as its first occurrence (daylight time)."""
    try:
        wall = datetime.strptime(str(text).strip(), "%Y-%m-%d %H:%M:%S")
    except ValueError:
        return None
    try:
        return wall.replace(tzinfo=PACIFIC).astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def china_text(moment: datetime) -> str:
    """An aware moment as 1688 writes dates: ``yyyyMMddHHmmssSSS+0800``."""
    local = moment.astimezone(CHINA)
    return local.strftime("%Y%m%d%H%M%S") + f"{local.microsecond // 1000:03d}+0800"


def from_china(text: str) -> datetime | None:
    """1688's ``yyyyMMddHHmmssSSS+0800`` as an aware UTC moment (``None`` if it is not one)."""
    try:
        return datetime.strptime(str(text).strip(), "%Y%m%d%H%M%S%f%z").astimezone(UTC)
    except (ValueError, OverflowError):
        return None


def items(container: Any, key: str) -> list[Any]:
    """The list a platform wraps in ``{key: [...]}`` (the non-simplified form), given bare, or
    left out when empty: always a list."""
    if isinstance(container, dict):
        container = container.get(key)
    if isinstance(container, list):
        return container
    if isinstance(container, dict):
        return [container]  # one item given without its list
    return []
