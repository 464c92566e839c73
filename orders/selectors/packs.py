"""What an evidence pack (``orders.packs``) reads of one order: its records, oldest first.

The pack numbers the attachments in the order the timeline shows them, read as a case is read:
oldest first (the timeline's sort key — the minute it happened, then when it was recorded).
A pack reads only what its audience may see (``orders.packs.audience``): the communications
with the counterparties it names and the steps it names; the sale and the purchase come from
``selectors.purchase`` (``sale_block``, ``purchase_block``).
"""

from __future__ import annotations

from collections.abc import Collection

from evidence.models import Attachment, Communication

from .. import policy
from ..models import Order, OrderEvent


def _minute_then_exact(at, recorded):
    return (at.replace(second=0, microsecond=0), recorded or at)


def pack_attachments(order: Order | int) -> list[Attachment]:
    """The order's attachments, oldest first (ties: by id), with the communication each belongs to."""
    rows = list(Attachment.objects.filter(order=order).select_related("communication", "uploaded_by"))
    rows.sort(key=lambda a: (*_minute_then_exact(a.uploaded_at, a.uploaded_at), a.pk))
    return rows


def pack_communications(order: Order, counterparties: Collection[str]) -> list[Communication]:
    """The order's communications with ``counterparties``, oldest first."""
    rows = list(Communication.objects.filter(order=order, counterparty__in=list(counterparties)))
    rows.sort(key=lambda c: (*_minute_then_exact(c.occurred_at, c.recorded_at), c.pk))
    return rows


def pack_events(order: Order, names: Collection[str]) -> list[OrderEvent]:
    """The order's history events named ``names``, oldest first."""
    return list(
        OrderEvent.objects.filter(order=order, transition__in=list(names)).order_by("created_at", "pk")
    )


def orders_for_pack(ids: list[int], user) -> list[Order]:
    """The orders of a pack of several that ``user`` may see, in the order they were chosen in (by id)."""
    return list(policy.scope(user, Order.objects.filter(pk__in=ids)).order_by("pk"))
