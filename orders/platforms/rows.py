"""An AliExpress order as the values of an import row, and what its status means in Shopops.

The values are text, exactly as a CSV cell would hold them: the import's own parsers then check
them (``orders.imports.values``). Nothing here trusts the platform's answer: a field of the wrong
type, a missing block or a list where an object was expected gives a blank or odd text, which
the parsers refuse by name ("placed_at is required", "… is not an amount").

The status mapping (docs/platforms.md, aliexpress.md §6): each AliExpress status gives the state
on Shopops' forward path that an import sets (awaiting payment → paid → shipped → completed),
the close-workflow states it agrees with (an order there keeps its state), and a follow-up the
pull runs once the row is written (a cancellation request; an order that ended unpaid).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from ..models import FORWARD_PATH, Status
from .common import items

CLOSE_STATES = frozenset(str(s) for s in Status.values if s not in {str(f) for f in FORWARD_PATH})
CANCELLING = frozenset({Status.CANCEL_REQUESTED, Status.REFUND_PENDING, Status.ESCALATED, Status.CLOSED})
DISPUTING = CLOSE_STATES - {Status.CANCEL_REQUESTED}

# AliExpress status → (Shopops state, the close-workflow states that agree with it, follow-up).
# FINISH, IN_FROZEN: the state depends on how far the order got (``_finished``).
STATUSES: dict[str, tuple[str, frozenset[str], str]] = {
    "PLACE_ORDER_SUCCESS": (Status.AWAITING_PAYMENT, frozenset(), ""),
    "RISK_CONTROL": (Status.PAID, frozenset(), ""),
    "WAIT_SELLER_SEND_GOODS": (Status.PAID, frozenset(), ""),
    "WAIT_SELLER_EXAMINE_MONEY": (Status.PAID, frozenset(), ""),
    "IN_CANCEL": (Status.PAID, CANCELLING, "cancel"),
    "SELLER_PART_SEND_GOODS": (Status.SHIPPED, frozenset(), ""),
    "WAIT_BUYER_ACCEPT_GOODS": (Status.SHIPPED, frozenset(), ""),
    "FUND_PROCESSING": (Status.COMPLETED, frozenset(), ""),
    "IN_ISSUE": (Status.SHIPPED, DISPUTING, ""),
}
SHIPPED_LOGISTICS = {"SELLER_SEND_GOODS", "SELLER_SEND_PART_GOODS", "BUYER_ACCEPT_GOODS"}
LONGEST_DEADLINE = timedelta(days=366)


@dataclass(frozen=True)
class PlatformOrder:
    """One AliExpress order: the import row's values and what the pull does besides."""

    order_id: str
    values: dict[str, str]
    platform_status: str
    agrees: frozenset[str]
    follow_up: str  # "", "cancel" (the buyer asked to cancel), "ended_unpaid"
    end_reason: str
    deadline: datetime | None  # an open dispute's answer-by time (the order's time left)
    needs_tracking: bool  # shipped on the platform: the tracking number comes from the detail


def _text(value: Any) -> str:
    if value is None or isinstance(value, dict | list):
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _money(block: Any) -> tuple[str, str]:
    if isinstance(block, dict):
        return _text(block.get("amount")), _text(block.get("currency_code"))
    return _text(block), ""


def _finished(order: dict[str, Any], shipped: bool) -> tuple[str, frozenset[str], str]:
    status = _text(order.get("order_status"))
    paid = bool(order.get("gmt_pay_time")) or _text(order.get("fund_status")) == "PAY_SUCCESS"
    if shipped:
        return Status.COMPLETED if status == "FINISH" else Status.SHIPPED, CLOSE_STATES, ""
    if not paid:
        return Status.AWAITING_PAYMENT, CLOSE_STATES, "ended_unpaid" if status == "FINISH" else ""
    return Status.PAID, CLOSE_STATES, ""


def platform_order(order: dict[str, Any], *, now: datetime) -> PlatformOrder:
    """The row values of AliExpress order ``order`` (an ``order_dto`` of §5.1), read at ``now``."""
    status = _text(order.get("order_status"))
    lines = [line for line in items(order.get("product_list"), "order_product_dto") if isinstance(line, dict)]
    first = lines[0] if lines else {}
    sku = _text(first.get("sku_code")) or _text(first.get("product_id"))
    same = [line for line in lines if (_text(line.get("sku_code")) or _text(line.get("product_id"))) == sku]
    counts = [line.get("product_count") for line in same]
    quantity = (
        str(sum(counts))
        if counts and all(type(c) is int for c in counts)
        else _text(first.get("product_count"))
    )
    total, currency = _money(order.get("pay_amount"))
    unit, _unit_currency = _money(first.get("product_unit_price"))
    shipped = (
        bool(order.get("gmt_send_goods_time")) or _text(order.get("logistics_status")) in SHIPPED_LOGISTICS
    )
    if status in STATUSES:
        state, agrees, follow_up = STATUSES[status]
    elif status in ("FINISH", "IN_FROZEN"):
        state, agrees, follow_up = _finished(order, shipped)
    else:
        state, agrees, follow_up = status, frozenset(), ""  # the status parser refuses it by name
    values = {
        "order_id": _text(order.get("order_id")),
        "status": state,
        "platform_status": status,
        "placed_at": _text(order.get("gmt_create")),
        "paid_at": _text(order.get("gmt_pay_time")),
        "shipped_at": _text(order.get("gmt_send_goods_time")),
        "buyer_name": _text(order.get("buyer_signer_fullname")) or _text(order.get("buyer_login_id")),
        "sku": sku,
        "product_title": _text(first.get("product_name")),
        "quantity": quantity,
        "unit_price": unit,
        "total_amount": total,
        "currency": currency,
    }
    return PlatformOrder(
        order_id=values["order_id"],
        values=values,
        platform_status=status,
        agrees=agrees,
        follow_up=follow_up,
        end_reason=_text(order.get("end_reason"))[:100],
        deadline=_deadline(order, now),
        needs_tracking=state in (Status.SHIPPED, Status.COMPLETED),
    )


def _deadline(order: dict[str, Any], now: datetime) -> datetime | None:
    """An order in dispute: now + its ``timeout_left_time`` (milliseconds [1]), when plausible."""
    if "IN_ISSUE" not in (_text(order.get("order_status")), _text(order.get("issue_status"))):
        return None
    left = order.get("timeout_left_time")
    if type(left) is not int:
        return None
    delta = timedelta(milliseconds=left)
    if not timedelta(0) < delta <= LONGEST_DEADLINE:
        return None
    return (now + delta).replace(microsecond=0)


def tracking_of(detail: dict[str, Any]) -> tuple[str, str]:
    """(tracking number, carrier) of the first shipment an order's detail lists (§5.2 [U])."""
    block = detail.get("logistic_info_list")
    shipments = items(block, "global_aeop_tp_logistic_info_dto") or items(block, "aeop_tp_logistic_info_dto")
    for shipment in shipments:
        if isinstance(shipment, dict) and shipment.get("logistics_no"):
            carrier = _text(shipment.get("logistics_service")) or _text(shipment.get("logistics_type_code"))
            return _text(shipment.get("logistics_no")), carrier
    return "", ""
