"""What the order page's timeline shows: everything recorded about one order (SPEC section 3).

One query per kind of record, related users joined, whatever the length of the history.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from evidence.models import Attachment, Communication

from ..models import Notification, Order, OrderEvent, Refund, StockMovement


@dataclass(frozen=True)
class OrderHistory:
    """The records of one order, each kind as a queryset (read when iterated) or a list."""

    events: QuerySet[OrderEvent]
    communications: QuerySet[Communication]
    attachments: QuerySet[Attachment]
    refunds: Iterable[Refund]
    notifications: QuerySet[Notification]
    movements: QuerySet[StockMovement]


def order_history(order: Order, refunds: Iterable[Refund] | None = None) -> OrderHistory:
    """History events, communications, attachments, refunds, notifications and stock movements
    of ``order``: six queries when read (five when the caller already has the refunds)."""
    return OrderHistory(
        events=OrderEvent.objects.filter(order=order).select_related("actor"),
        communications=Communication.objects.filter(order=order).select_related("recorded_by"),
        attachments=Attachment.objects.filter(order=order).select_related("uploaded_by"),
        refunds=Refund.objects.filter(order=order) if refunds is None else refunds,
        notifications=Notification.objects.filter(order=order),
        movements=StockMovement.objects.filter(order=order).select_related("sku", "actor"),
    )
