"""What may still be refunded on an order, in each direction.

The workflow checks a new refund against these under the order lock; the admin shows them.
"""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Sum

from ..models import REFUND_RELEASED_STATUSES, Order, Refund, RefundDirection


def refunded_total(order: Order, direction: str) -> Decimal:
    """What counts against the limit: the direction's refunds not rejected or cancelled."""
    total = (
        Refund.objects.filter(order=order, direction=direction)
        .exclude(status__in=REFUND_RELEASED_STATUSES)
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or Decimal("0.00")


def refund_limit(order: Order, direction: str) -> Decimal:
    """The most the direction's refunds may add up to: what the buyer paid, or the supplier
    orders' amount (CNY)."""
    if direction == RefundDirection.TO_BUYER:
        return order.total_amount
    total = order.supplier_orders.aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")


def refundable(order: Order, direction: str = RefundDirection.TO_BUYER) -> Decimal:
    """What may still be refunded in ``direction`` (never negative)."""
    return max(refund_limit(order, direction) - refunded_total(order, direction), Decimal("0.00"))
