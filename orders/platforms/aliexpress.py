"""The AliExpress open platform client, seller side (``shared/platforms/aliexpress.md``).

One gateway, ``SHOPOPS_AE_GATEWAY`` (the ``/sync`` endpoint); every call is a signed POST with the
system parameters (``app_key``, ``method``, ``timestamp`` in epoch ms, ``sign_method=sha256``,
``session`` — the store's token —, ``format=json``, ``simplify=false``, ``partner_id``) and its
business parameters, objects as one JSON string. Errors come back as ``error_response`` with HTTP
200; business failures inside the payload (``success`` / ``result_success`` false). Only
``ApiCallLimit``, HTTP 5xx and timeouts are retried (:mod:`.common`).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from .common import PlatformError, Transport, ban_seconds, items, load_json, pacific_text, timestamp_ms

PLATFORM = "AliExpress"
PARTNER_ID = "shopops"
THROTTLED = {"ApiCallLimit"}
ORDER_LIST = "aliexpress.solution.order.get"
ORDER_DETAIL = "aliexpress.solution.order.info.get"
ISSUE_LIST = "aliexpress.issue.issuelist.get"
ISSUE_DETAIL = "aliexpress.issue.detail.get"


def sign(params: dict[str, str], secret: str) -> str:
    """The ``sign`` of ``params`` (every parameter sent but ``sign`` and file parts).

    Sorted by name, ``name + value`` concatenated; a system API (``method`` starting with ``/``)
    puts its path in front and is not itself a signed parameter. HMAC-SHA256 with the app
    secret, upper-case hex (aliexpress.md §3).
    """
    method = params.get("method", "")
    signed = {k: v for k, v in params.items() if not (k == "method" and method.startswith("/"))}
    text = "".join(name + signed[name] for name in sorted(signed))
    if method.startswith("/"):
        text = method + text
    return hmac.new(secret.encode(), text.encode(), hashlib.sha256).hexdigest().upper()


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


@dataclass(frozen=True)
class Page:
    """One page of a list: its rows (raw dicts), which page it is and how many there are."""

    rows: list[dict[str, Any]]
    page: int
    pages: int
    total: int
    time_stamp: str = ""

    @property
    def last(self) -> bool:
        return self.page >= self.pages


class AliExpressClient:
    """Calls of one store (its ``session`` token) to the AliExpress gateway."""

    def __init__(
        self,
        *,
        gateway: str,
        app_key: str,
        app_secret: str,
        session: str,
        transport: Transport | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.gateway = gateway
        self.app_key = app_key
        self._secret = app_secret
        self._session = session
        self.transport = transport or Transport()
        self.clock = clock

    def __repr__(self) -> str:  # never the secret or the token
        return f"AliExpressClient(app_key={self.app_key!r})"

    def close(self) -> None:
        self.transport.close()

    # --- one call ---------------------------------------------------------------------------

    def call(self, method: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        """The payload of API ``method`` (``<method with _>_response``); raises ``PlatformError``."""
        business = {name: _text(value) for name, value in (params or {}).items()}

        def request() -> tuple[str, dict[str, str], None]:
            fields = {
                "app_key": self.app_key,
                "method": method,
                "timestamp": timestamp_ms(self.clock),
                "sign_method": "sha256",
                "session": self._session,
                "format": "json",
                "simplify": "false",
                "partner_id": PARTNER_ID,
                **business,
            }
            fields["sign"] = sign(fields, self._secret)
            return self.gateway, fields, None

        return self.transport.post(PLATFORM, method, request, self._read)

    def _read(self, api: str, status: int, body: bytes) -> dict[str, Any]:
        data = load_json(PLATFORM, api, body)
        if not isinstance(data, dict):
            raise PlatformError(PLATFORM, api, "malformed", "the answer is not a JSON object")
        error = data.get("error_response")
        if isinstance(error, dict) or ("code" in data and str(data.get("code")) not in ("0", "")):
            error = error if isinstance(error, dict) else data
            code = str(error.get("code") or "error")
            message = str(error.get("msg") or error.get("message") or "")
            if code in THROTTLED:
                raise PlatformError(PLATFORM, api, code, message, retryable=True, wait=ban_seconds(message))
            raise PlatformError(PLATFORM, api, code, message)
        if status != 200:
            raise PlatformError(PLATFORM, api, f"HTTP {status}", "unexpected answer")
        payload = data.get(api.replace(".", "_") + "_response")
        if not isinstance(payload, dict):
            raise PlatformError(PLATFORM, api, "malformed", "the answer has no payload")
        result = payload.get("result")
        if isinstance(result, dict) and (
            result.get("success") is False or result.get("result_success") is False
        ):
            raise PlatformError(
                PLATFORM,
                api,
                str(result.get("error_code") or "failed"),
                str(result.get("error_message") or result.get("error_msg") or ""),
            )
        return payload

    # --- the APIs Shopops uses ----------------------------------------------------------------

    def orders(
        self, *, start: datetime, end: datetime, page: int, page_size: int, statuses: list[str] | None = None
    ) -> Page:
        """One page (1-based) of the orders modified in [``start``, ``end``] (§5.1): a general
        query, or only ``statuses`` (``["FINISH"]``: finished orders need their own query)."""
        query: dict[str, Any] = {
            "modified_date_start": pacific_text(start),
            "modified_date_end": pacific_text(end),
            "page_size": page_size,
            "current_page": page,
        }
        if statuses:
            query["order_status_list"] = statuses
        result = self.call(ORDER_LIST, {"param0": query}).get("result")
        if not isinstance(result, dict):
            raise PlatformError(PLATFORM, ORDER_LIST, "malformed", "the answer has no result")
        rows = [row for row in items(result.get("target_list"), "order_dto") if isinstance(row, dict)]
        return Page(
            rows=rows,
            page=_int(result.get("current_page"), page),
            pages=_int(result.get("total_page"), 0),
            total=_int(result.get("total_count"), len(rows)),
            time_stamp=str(result.get("time_stamp") or ""),
        )

    def order_detail(self, order_id: str) -> dict[str, Any]:
        """The detail of one order (§5.2)."""
        result = self.call(ORDER_DETAIL, {"param1": {"order_id": int(order_id)}}).get("result")
        return result.get("data") if isinstance(result, dict) and isinstance(result.get("data"), dict) else {}

    def issues(self, *, page: int, page_size: int, status: str = "processing") -> Page:
        """One page (1-based) of the store's disputes in ``status`` (§5.4)."""
        query = {"issue_status": status, "current_page": page, "page_size": page_size}
        payload = self.call(ISSUE_LIST, {"query_dto": query})
        rows = [
            row for row in items(payload.get("data_list"), "issue_api_issue_dto") if isinstance(row, dict)
        ]
        total = _int(payload.get("total_item"), len(rows))
        size = max(_int(payload.get("page_size"), page_size), 1)
        return Page(
            rows=rows, page=_int(payload.get("current_page"), page), pages=-(-total // size), total=total
        )

    def issue_detail(self, issue_id: str, buyer_login_id: str) -> dict[str, Any]:
        """The detail of one dispute (§5.5), ``result_object``."""
        payload = self.call(ISSUE_DETAIL, {"issue_id": issue_id, "buyer_login_id": buyer_login_id})
        found = payload.get("result_object")
        return found if isinstance(found, dict) else {}


def _int(value: Any, default: int) -> int:
    try:
        return int(value)
    except (TypeError, ValueError):
        return default
