"""Filing a supplier refund on 1688: one attempt of one recorded request (docs/platforms.md).

``file_request(filing_id)`` (the task ``orders.file_supplier_refund``, and each
``sync_platforms`` pass for the requests still waiting) claims the request
(``workflow.refund_filing``) and, for the supplier refund's ``createRefund`` parameters
(``selectors.purchase.refund_request``: ids as text, the amount in fen, the kind):

1. reads the 1688 order (``get.buyerView``): the goods status that fits its status (1688.md
   §4.3), and its entries when the purchase records none;
2. when an earlier attempt may have reached 1688 (``create_sent_at``), looks for the request among
   the order's refunds (``queryOrderRefundList``) and takes it when found — never a second
   request;
3. lists the refund reasons and chooses one (by the close's reason, one that needs no voucher
   when the order has no photo);
4. uploads the vouchers (the images the 1688 evidence pack would choose: JPEG/PNG, 1–5, under
   1 MB) — once: a later attempt reuses their URLs;
5. sends ``createRefund`` once (``create_sent_at`` committed first); a 5010 after an earlier
   attempt is looked for again as in 2;
6. records 1688's refund id (``TQ…``) as the refund's reference.

A timeout, a 5xx or throttling is tried again later; anything else fails the request in 1688's
words on the order page, where it can be tried again. The order never moves here.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from ..models import CloseReason, PlatformRefund, RefundStatus
from ..selectors.platform_refunds import filings_due, known_platform_ids
from ..selectors.purchase import refund_request
from ..workflow import refund_filing
from .alibaba1688 import Alibaba1688Client
from .common import PlatformError, Transport, from_china
from .connection import NotConnected, alibaba_client
from .vouchers import voucher_images

logger = logging.getLogger(__name__)

# The goods statuses that fit a 1688 order's status (1688.md §4.3 [U: inferred there]).
FITS = {
    "waitsellersend": ("refundWaitSellerSend",),
    "waitbuyerreceive": ("refundWaitBuyerReceive", "refundBuyerReceived"),
    "confirm_goods": ("refundBuyerReceived", "aftersaleBuyerReceived", "aftersaleBuyerNotReceived"),
    "success": ("aftersaleBuyerReceived", "aftersaleBuyerNotReceived"),
}
RECEIVED = ("refundBuyerReceived", "aftersaleBuyerReceived")
# The words a reason's name holds that fit the close (1688's reasons are Chinese, and vary [U]).
REASON_WORDS = {
    "cancel": ("协商", "不想要", "缺货", "拍错", "未发货", "不发货"),
    CloseReason.QUALITY_ISSUE: ("质量", "破损", "描述不符", "与描述"),
    CloseReason.PRODUCT_INFO_ERROR: ("描述不符", "与描述", "颜色", "款式", "规格"),
    CloseReason.SHIPPING_ISSUE: ("物流", "未收到", "破损", "少件"),
}
KIND_PREFIX = {"refund": "仅退款：", "returnRefund": "退货退款："}
DEFAULT_DESCRIPTION = {"refund": "申请退款", "returnRefund": "商品已退回，申请退款"}
# A request found on 1688 was applied for at most this long before our first send (clocks differ).
SKEW = timedelta(minutes=10)


class CannotFile(Exception):
    """What stops a request before 1688 is asked: ``code`` (``selectors.platform_refunds``'
    words) and the detail."""

    def __init__(self, code: str, message: str = ""):
        self.code, self.message = code, message
        super().__init__(f"{code}: {message}")


@dataclass(frozen=True)
class Reason:
    id: str
    name: str
    needs_voucher: bool


def file_request(filing_id: int, *, transport: Transport | None = None, now: datetime | None = None) -> str:
    """One attempt at filing request ``filing_id``. Returns ``filed``, ``retry``, ``failed``,
    ``not_needed`` or ``skipped`` (another worker holds it, or it is not due). Never raises."""
    filing = refund_filing.claim(filing_id, now or timezone.now())
    if filing is None:
        return "skipped"
    refund = filing.refund
    if refund.status != RefundStatus.REQUESTED or refund.reference:
        refund_filing.mark_not_needed(filing)
        return "not_needed"
    client = None
    try:
        client = alibaba_client(filing.store, transport)
        return _file(client, filing)
    except PlatformError as error:
        if error.retryable and filing.attempts < int(settings.SHOPOPS_1688_REFUND_ATTEMPTS):
            refund_filing.schedule_retry(filing, code=error.code, message=str(error))
            return "retry"
        refund_filing.mark_failed(filing, code=error.code, message=error.message or str(error))
    except NotConnected as error:
        refund_filing.mark_failed(filing, code="not connected", message=str(error))
    except CannotFile as error:
        refund_filing.mark_failed(filing, code=error.code, message=error.message)
    except Exception as error:  # a bug: logged, and the request is kept to try again
        logger.exception("Filing 1688 refund request %s failed", filing.pk)
        message = f"{type(error).__name__}: {error}"[:500]
        if filing.attempts < int(settings.SHOPOPS_1688_REFUND_ATTEMPTS):
            refund_filing.schedule_retry(filing, code="unexpected", message=message)
            return "retry"
        refund_filing.mark_failed(filing, code="unexpected", message=message)
    finally:
        if client is not None and transport is None:
            client.close()
    return "failed"


def send_due(store, *, transport: Transport | None = None, now: datetime | None = None) -> dict[str, int]:
    """Every request of ``store`` waiting to be sent (a sync pass's "send what waits"): the
    outcomes counted."""
    counts: dict[str, int] = {}
    for filing_id in filings_due(store, now or timezone.now()):
        outcome = file_request(filing_id, transport=transport, now=now)
        counts[outcome] = counts.get(outcome, 0) + 1
    return counts


def _file(client: Alibaba1688Client, filing: PlatformRefund) -> str:
    refund = filing.refund
    request = refund_request(refund)
    if not request["orderId"]:
        raise CannotFile("no 1688 order")
    view = client.buyer_view(request["orderId"])
    base = view.get("baseInfo") if isinstance(view.get("baseInfo"), dict) else {}
    status = str(base.get("status") or "")
    entries = [str(e) for e in request["orderEntryIds"]] or _entries(view)
    request = {**request, "orderEntryIds": entries, "goodsStatus": _goods_status(status, request)}
    if filing.create_sent_at is not None:  # an earlier attempt may have reached 1688
        found = _find_ours(client, filing, request)
        if found:
            refund_filing.mark_filed(filing, found, found=True)
            return "filed"
    vouchers = list(filing.vouchers or [])
    images = [] if vouchers else voucher_images(filing.order)
    reasons = client.refund_reasons(request["orderId"], entries, request["goodsStatus"])
    reason = _choose(reasons, filing, photos=bool(vouchers or images))
    if images:
        vouchers = [
            client.upload_voucher(v.data, filename=v.name, content_type=v.content_type) for v in images
        ]
        refund_filing.keep_vouchers(filing, vouchers)
    if reason.needs_voucher and not vouchers:
        raise CannotFile("no vouchers", reason.name)
    request.update(
        applyReasonId=reason.id,
        description=description(refund.reason, request["disputeRequest"]),
        vouchers=vouchers[:5],
        applyCarriage=0,
    )
    refund_filing.note_sending(
        filing,
        reason_id=reason.id,
        reason_name=reason.name,
        goods_status=request["goodsStatus"],
        vouchers=vouchers,
    )
    try:
        answer = client.create_refund(request)
    except PlatformError as error:
        if error.code == "5010":  # perhaps a repeat of our own request whose answer was lost
            found = _find_ours(client, filing, request)
            if found:
                refund_filing.mark_filed(filing, found, found=True)
                return "filed"
        raise
    refund_filing.mark_filed(filing, str(answer["refundId"]).strip())
    return "filed"


def _entries(view: dict[str, Any]) -> list[str]:
    items = view.get("productItems") if isinstance(view.get("productItems"), list) else []
    found = [str(i.get("subItemIDString") or i.get("subItemID") or "") for i in items if isinstance(i, dict)]
    return [entry for entry in found if entry.isdigit()]


def _goods_status(order_status: str, request: dict[str, Any]) -> str:
    """The goods status Shopops suggests when it fits the 1688 order's status; else the one that
    fits (a return needs goods received)."""
    fits = FITS.get(order_status)
    if not fits:
        raise CannotFile("order status", order_status or "?")
    wanted = request["goodsStatus"]
    if wanted in fits:
        return wanted
    if request["disputeRequest"] == "returnRefund":
        received = [g for g in fits if g in RECEIVED]
        if not received:
            raise CannotFile("order status", order_status)
        return received[-1]
    return fits[0]


def _choose(reasons: list[dict[str, Any]], filing: PlatformRefund, *, photos: bool) -> Reason:
    """1688's reason for the request: one whose name fits the close, else the first; one that needs
    no voucher first when the order has no photo for 1688."""
    found = [
        Reason(str(r.get("id")), str(r.get("name") or "")[:200], r.get("needVoucher") in (True, "true"))
        for r in reasons
        if str(r.get("id") or "").isdigit()
    ]
    if not found:
        raise PlatformError("1688", "alibaba.trade.getRefundReasonList", "5004", "no refund reason offered")
    key = (
        "cancel"
        if filing.refund.kind == "refund" and filing.order.status != "supplier_refund_pending"
        else ""
    )
    words = REASON_WORDS.get(key or filing.order.close_reason, ())
    fitting = [r for word in words for r in found if word in r.name]  # the first word's first
    fitting = list(dict.fromkeys(fitting))
    ranked = fitting + [r for r in found if r not in fitting]
    if not photos:
        ranked.sort(key=lambda r: r.needs_voucher)  # stable: the fitting ones first within each
    return ranked[0]


def description(reason: str, kind: str) -> str:
    """The request's description for the supplier: 2–150 characters (1688.md §4.3)."""
    text = " ".join(str(reason or "").split())
    text = KIND_PREFIX.get(kind, "") + (text or DEFAULT_DESCRIPTION.get(kind, "申请退款"))
    return text if len(text) <= 150 else text[:149] + "…"


def _find_ours(client: Alibaba1688Client, filing: PlatformRefund, request: dict[str, Any]) -> str:
    """The 1688 refund id of our request when 1688 holds it: on the same order and entries, for the
    same amount, applied for since our first send, not one Shopops already holds. "" otherwise."""
    since = (filing.create_sent_at or timezone.now()) - SKEW
    known = known_platform_ids(filing.store, filing.order_id)
    entries = set(request["orderEntryIds"])
    page, seen = 0, 0
    while True:
        rows, total = client.refunds(page=page, page_size=50, order_id=request["orderId"])
        for row in rows:
            platform_id = str(row.get("refundId") or "").strip()
            applied = from_china(str(row.get("gmtApply") or ""))
            if (
                platform_id
                and platform_id not in known
                and {str(e) for e in row.get("orderEntryIdList") or []} & entries
                and str(row.get("applyPayment")) == str(request["applyPayment"])
                and (applied is None or applied >= since)
            ):
                return platform_id
        seen += len(rows)
        if not rows or seen >= total:
            return ""
        page += 1
