"""What may still be refunded on an order, in each direction.

The workflow checks a new refund against these under the order lock; the admin shows them.
Amounts come back to the cent (``shopops.money``): SQLite returns its sums with fourteen decimals.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import QuerySet, Sum

from shopops.money import money

from ..models import (
    REFUND_RELEASED_STATUSES,
    CloseStage,
    Order,
    Refund,
    RefundDirection,
    RefundStatus,
    Status,
)

ZERO = Decimal("0.00")


def never_paid(order: Order) -> bool:
    """The buyer never paid: the order awaits payment, or was closed while it did."""
    return order.status == Status.AWAITING_PAYMENT or (
        order.status == Status.CLOSED and order.close_stage == CloseStage.UNPAID
    )


def refunded_total(order: Order, direction: str) -> Decimal:
    """What counts against the limit: the direction's refunds not rejected or cancelled."""
    total = (
        Refund.objects.filter(order=order, direction=direction)
        .exclude(status__in=REFUND_RELEASED_STATUSES)
        .aggregate(total=Sum("amount"))["total"]
    )
    return money(total or ZERO)


def refund_limit(order: Order, direction: str) -> Decimal:
    """The most the direction's refunds may add up to: what the buyer paid (nothing on an order
    that was never paid), or the supplier orders' amount (CNY)."""
    if direction == RefundDirection.TO_BUYER:
        return ZERO if never_paid(order) else money(order.total_amount)
    total = order.supplier_orders.aggregate(total=Sum("amount"))["total"]
    return money(total or ZERO)


def refundable(order: Order, direction: str = RefundDirection.TO_BUYER) -> Decimal:
    """What may still be refunded in ``direction`` (never negative), to the cent."""
    return max(refund_limit(order, direction) - refunded_total(order, direction), ZERO)


def requested_refunds(order: Order, direction: str) -> QuerySet[Refund]:
    """The order's refunds of ``direction`` still waiting for an answer, newest first."""
    return Refund.objects.filter(order=order, direction=direction, status=RefundStatus.REQUESTED).order_by(
        "-requested_at", "-id"
    )
