"""What an evidence pack (``orders.packs``) reads of one order: its records, oldest first.

The pack numbers the attachments in the order the timeline shows them, read as a case is read:
oldest first (the timeline's sort key — the minute it happened, then when it was recorded).
"""

from __future__ import annotations

from dataclasses import dataclass

from evidence.models import Attachment, Communication

from .. import policy
from ..models import Order, OrderEvent, Refund, SupplierOrder


@dataclass(frozen=True)
class PackRecords:
    order: Order
    attachments: list[Attachment]
    communications: list[Communication]
    events: list[OrderEvent]
    refunds: list[Refund]
    supplier_orders: list[SupplierOrder]


def _minute_then_exact(at, recorded):
    return (at.replace(second=0, microsecond=0), recorded or at)


def pack_attachments(order: Order | int) -> list[Attachment]:
    """The order's attachments, oldest first (ties: by id)."""
    rows = list(Attachment.objects.filter(order=order).select_related("communication", "uploaded_by"))
    rows.sort(key=lambda a: (*_minute_then_exact(a.uploaded_at, a.uploaded_at), a.pk))
    return rows


def pack_records(order: Order) -> PackRecords:
    """Everything the PDF summary tells of ``order``: five queries, whatever the history's length."""
    communications = list(Communication.objects.filter(order=order).select_related("recorded_by"))
    communications.sort(key=lambda c: (*_minute_then_exact(c.occurred_at, c.recorded_at), c.pk))
    return PackRecords(
        order=order,
        attachments=pack_attachments(order),
        communications=communications,
        events=list(
            OrderEvent.objects.filter(order=order).select_related("actor").order_by("created_at", "pk")
        ),
        refunds=list(Refund.objects.filter(order=order).order_by("requested_at", "pk")),
        supplier_orders=list(SupplierOrder.objects.filter(order=order).order_by("pk")),
    )


def orders_for_pack(ids: list[int], user) -> list[Order]:
    """The orders of a pack of several that ``user`` may see, in the order they were chosen in (by id)."""
    return list(policy.scope(user, Order.objects.filter(pk__in=ids)).order_by("pk"))
