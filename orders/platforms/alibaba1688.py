"""The 1688 open platform (AOP) client, buyer side (``shared/platforms/1688.md``).

Every call is a signed POST to ``SHOPOPS_1688_GATEWAY`` + ``param2/1/com.alibaba.trade/<api>/<appKey>``
with ``access_token`` (the buying account's), ``_aop_timestamp`` (epoch ms) and
``_aop_signature``: HMAC-SHA1 over the urlPath followed by the sorted ``name + value`` strings,
upper-case hex. Gateway errors are HTTP 400 ``{"error_code": "gw.*", ...}``; business errors come
in one of three envelopes in the body. Only ``gw.QosAppFrequencyLimit`` (whatever its HTTP
status), HTTP 5xx and timeouts are retried.

Reads: the supplier order, refund reasons, the buyer's refunds, one refund and its history.
Writes: a voucher image (``uploadRefundVoucher``, multipart, the file not signed) and a refund
request (``createRefund``), which is sent once per call and never retried here: after a timeout
only a look at the order's refunds tells whether 1688 filed it (``orders.platforms.filing``).
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

from .common import PlatformError, Transport, ban_seconds, china_text, load_json, timestamp_ms

PLATFORM = "1688"
NAMESPACE = "com.alibaba.trade"
THROTTLED = {"gw.QosAppFrequencyLimit"}
BUYER_VIEW = "alibaba.trade.get.buyerView"
REFUND_REASONS = "alibaba.trade.getRefundReasonList"
REFUND_LIST = "alibaba.trade.refund.buyer.queryOrderRefundList"
REFUND_DETAIL = "alibaba.trade.refund.OpQueryOrderRefund"
REFUND_HISTORY = "alibaba.trade.refund.OpQueryOrderRefundOperationList"
UPLOAD_VOUCHER = "alibaba.trade.uploadRefundVoucher"
CREATE_REFUND = "alibaba.trade.createRefund"


def url_path(api: str, app_key: str) -> str:
    """The signed part of the URL: ``param2/1/com.alibaba.trade/<api>/<appKey>``."""
    return f"param2/1/{NAMESPACE}/{api}/{app_key}"


def sign(path: str, params: dict[str, str], secret: str) -> str:
    """``_aop_signature``: HMAC-SHA1 (key: the app secret) over ``path`` and the sorted
    ``name + value`` strings of every parameter sent but the signature and file content."""
    text = path + "".join(sorted(name + value for name, value in params.items() if name != "_aop_signature"))
    return hmac.new(secret.encode(), text.encode(), hashlib.sha1).hexdigest().upper()


def _text(value: Any) -> str:
    if isinstance(value, dict | list):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return china_text(value)
    return str(value)


class Alibaba1688Client:
    """Calls of one store's 1688 buying account."""

    def __init__(
        self,
        *,
        prefix: str,
        app_key: str,
        app_secret: str,
        access_token: str,
        transport: Transport | None = None,
        clock: Callable[[], float] = time.time,
    ):
        self.prefix = prefix if prefix.endswith("/") else prefix + "/"
        self.app_key = app_key
        self._secret = app_secret
        self._token = access_token
        self.transport = transport or Transport()
        self.clock = clock

    def __repr__(self) -> str:  # never the secret or the token
        return f"Alibaba1688Client(app_key={self.app_key!r})"

    def close(self) -> None:
        self.transport.close()

    def call(
        self,
        api: str,
        params: dict[str, Any] | None = None,
        *,
        files: dict[str, tuple[str, bytes, str]] | None = None,
        retry: bool = True,
    ) -> dict[str, Any]:
        """The body of a successful answer of ``api``; raises ``PlatformError``. ``files`` go as
        multipart parts, unsigned (1688.md §2); ``retry=False`` sends once (see the module)."""
        path = url_path(api, self.app_key)
        business = {name: _text(value) for name, value in (params or {}).items() if value is not None}

        def request() -> tuple[str, dict[str, str], dict[str, Any] | None]:
            fields = {"access_token": self._token, "_aop_timestamp": timestamp_ms(self.clock), **business}
            fields["_aop_signature"] = sign(path, fields, self._secret)
            return self.prefix + path, fields, files

        return self.transport.post(PLATFORM, api, request, self._read, retry=retry)

    def _read(self, api: str, status: int, body: bytes) -> dict[str, Any]:
        data = load_json(PLATFORM, api, body)
        if not isinstance(data, dict):
            raise PlatformError(PLATFORM, api, "malformed", "the answer is not a JSON object")
        gateway = data.get("error_code")
        if gateway:
            code, message = str(gateway), str(data.get("error_message") or "")
            if code in THROTTLED:
                raise PlatformError(PLATFORM, api, code, message, retryable=True, wait=ban_seconds(message))
            raise PlatformError(PLATFORM, api, code, message)
        if status != 200:
            raise PlatformError(PLATFORM, api, f"HTTP {status}", "unexpected answer")
        failure = business_failure(data)
        if failure is not None:
            raise PlatformError(PLATFORM, api, *failure)
        return data

    # --- reads ---------------------------------------------------------------------------------

    def buyer_view(self, order_id: str) -> dict[str, Any]:
        """The supplier order as its buyer sees it (§4.7): ``baseInfo``, ``productItems``."""
        result = self.call(BUYER_VIEW, {"webSite": "1688", "orderId": order_id}).get("result")
        return result if isinstance(result, dict) else {}

    def refund_reasons(self, order_id: str, entry_ids: list[str], goods_status: str) -> list[dict[str, Any]]:
        """The refund reasons of an order's entries in a goods status (§4.1)."""
        params = {
            "orderId": order_id,
            "orderEntryIds": id_list(entry_ids),
            "goodsStatus": goods_status,
        }
        result = self.call(REFUND_REASONS, params).get("result", {})
        inner = result.get("result", {}) if isinstance(result, dict) else {}
        reasons = inner.get("reasons") if isinstance(inner, dict) else None
        return [r for r in reasons or [] if isinstance(r, dict)]

    def refunds(
        self,
        *,
        page: int = 0,
        page_size: int = 20,
        modified_since: datetime | None = None,
        order_id: str = "",
    ) -> tuple[list[dict[str, Any]], int]:
        """One page of the buyer's refunds (§4.4; ``page`` as the platform counts it, 0-based
        in its examples) and their total count."""
        params: dict[str, Any] = {"currentPageNum": page, "pageSize": page_size}
        if modified_since is not None:
            params["modifyStartTime"] = modified_since
        if order_id:
            params["orderId"] = order_id
        result = self.call(REFUND_LIST, params).get("result") or {}
        rows = result.get("opOrderRefundModels") if isinstance(result, dict) else None
        total = result.get("totalCount", 0) if isinstance(result, dict) else 0
        return [r for r in rows or [] if isinstance(r, dict)], int(total or 0)

    def refund_detail(self, refund_id: str) -> dict[str, Any]:
        """One refund (§4.5) with its operations (``refundOperationList``)."""
        params = {"refundId": refund_id, "needTimeOutInfo": True, "needOrderRefundOperation": True}
        result = self.call(REFUND_DETAIL, params).get("result")
        detail = result.get("opOrderRefundModelDetail") if isinstance(result, dict) else None
        return detail if isinstance(detail, dict) else {}

    def refund_history(self, refund_id: str, *, page: int = 1, page_size: int = 20) -> list[dict[str, Any]]:
        """One page of a refund's operations, newest first (§4.6)."""
        params = {"refundId": refund_id, "pageNo": page, "pageSize": page_size}
        result = self.call(REFUND_HISTORY, params).get("result")
        rows = result.get("opOrderRefundOperationModels") if isinstance(result, dict) else None
        return [r for r in rows or [] if isinstance(r, dict)]

    # --- writes --------------------------------------------------------------------------------

    def upload_voucher(self, data: bytes, *, filename: str, content_type: str) -> str:
        """Upload one evidence image (§4.2); the voucher URL ``createRefund`` takes."""
        files = {"imageData": (filename, data, content_type)}
        result = self.call(UPLOAD_VOUCHER, files=files).get("result", {})
        inner = result.get("result", {}) if isinstance(result, dict) else {}
        domain = str(inner.get("imageDomain") or "").strip("/") if isinstance(inner, dict) else ""
        relative = str(inner.get("imageRelativeUrl") or "").lstrip("/") if isinstance(inner, dict) else ""
        if not domain or not relative:
            raise PlatformError(PLATFORM, UPLOAD_VOUCHER, "malformed", "no image address in the answer")
        return f"{domain}/{relative}" if "://" in domain else f"https://{domain}/{relative}"

    def create_refund(self, request: dict[str, Any]) -> dict[str, Any]:
        """File a refund request (§4.3), sent once: ``result.result`` (``refundId`` …).

        ``request`` holds ``orderId``, ``orderEntryIds`` (text ids), ``disputeRequest``,
        ``applyPayment`` and ``applyCarriage`` (fen), ``applyReasonId``, ``description``,
        ``goodsStatus``, ``vouchers`` (URLs) and, for a return, ``orderEntryCountList``."""
        params = dict(request)
        params["orderEntryIds"] = id_list(request.get("orderEntryIds") or [])
        counts = request.get("orderEntryCountList") or []
        if counts:
            params["orderEntryCountList"] = (
                "[" + ",".join(f'{{"id":{_digits(c["id"])},"count":{int(c["count"])}}}' for c in counts) + "]"
            )
        else:
            params.pop("orderEntryCountList", None)
        if not request.get("vouchers"):
            params.pop("vouchers", None)
        result = self.call(CREATE_REFUND, params, retry=False).get("result", {})
        inner = result.get("result", {}) if isinstance(result, dict) else {}
        if not isinstance(inner, dict) or not str(inner.get("refundId") or "").strip():
            raise PlatformError(PLATFORM, CREATE_REFUND, "malformed", "no refund id in the answer")
        return inner


def _digits(value: Any) -> str:
    text = str(value).strip()
    if not text.isdigit():
        raise ValueError(f"not a 1688 id: {text[:30]!r}")
    return text


def id_list(ids: list[Any]) -> str:
    """Ids as 1688 takes a ``long[]``: a JSON array of bare digits (18-digit ids stay exact)."""
    return "[" + ",".join(_digits(i) for i in ids) + "]"


def business_failure(data: dict[str, Any]) -> tuple[str, str] | None:
    """(code, message) of a business error in any of the three envelopes (1688.md §3), else None."""
    result = data.get("result")
    if isinstance(result, dict) and result.get("success") in (False, "false"):  # (a)
        return str(result.get("code") or "failed"), str(result.get("message") or "")
    if data.get("success") in (False, "false"):  # (b)
        return str(data.get("errorCode") or "failed"), str(
            data.get("errorMsg") or data.get("errorMessage") or ""
        )
    if data.get("errorCode") and "success" not in data:  # (c)
        message = data.get("errorMessage") or data.get("extErrorMessage") or ""
        return str(data["errorCode"]), str(message)
    return None
