"""The one writer of order history rows (``OrderEvent``), and the one place their labels come from.

Every change to an order's business state leaves exactly one event, written in the same
transaction as the change: by a workflow operation through :func:`record_event` (or
:func:`record_events`, the same for a batch of orders written at once), or, for the thousands of
rows of an import written with COPY, as the column values :func:`event_values` returns.
Nothing else creates ``OrderEvent`` rows.

Because every change to an order passes here, so does the kept loss ledger: an event of an order
that is closed, or was closed until then, writes the order's ledger row again, after the change
it records (``ledger.refresh_ledger``, in the same transaction). A new transition or operation
needs no code of its own for the ledger.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connections, router
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shopops import pgcopy

from ..models import Order, OrderEvent, Status
from ..transitions import TRANSITIONS
from . import ledger

# The events that are not transitions of SPEC section 7 (whose labels are declared in
# orders/transitions.py), by the name they are written under. An event without a label here or
# there shows its raw name: tests/test_transitions.py finds every name written and checks it.
OTHER_EVENT_LABELS = {
    "imported": gettext_noop("Imported (a CSV file or the platform)"),
    "platform_dispute": gettext_noop("Platform dispute changed"),
    "send_payment_reminder": gettext_noop("Payment reminder sent"),
    "create_refund": gettext_noop("Refund requested"),
    "mark_refund_received": gettext_noop("Refund marked received"),
    "correct_contact": gettext_noop("Contact details corrected"),
    "cancel_refund": gettext_noop("Refund cancelled"),
    "chase_supplier": gettext_noop("Supplier reminded"),
    "supplier_refund_overdue": gettext_noop("Supplier refund overdue"),
    "build_evidence_pack": gettext_noop("Evidence pack built"),
    "update_purchase": gettext_noop("1688 purchase updated"),
    "purchase_refund_approved": gettext_noop("Supplier approved the purchase refund"),
    "purchase_refund_refused": gettext_noop("Supplier refused the purchase refund"),
    "claim_order": gettext_noop("Taken on"),
    "assign_order": gettext_noop("Assigned"),
    "supplier_refund_filed": gettext_noop("Refund request filed on 1688"),
    "supplier_refund_filing_failed": gettext_noop("Filing the refund request on 1688 failed"),
    "supplier_refund_filing_retried": gettext_noop("Filing on 1688 tried again"),
    "platform_refund": gettext_noop("1688 refund changed"),
}


# Set inside on_behalf_of(): the platform whose word the system acts on, named by every event.
_PLATFORM: ContextVar[str] = ContextVar("shopops_event_platform", default="")


@contextmanager
def on_behalf_of(platform: str) -> Iterator[None]:
    """Every history event written inside names ``platform`` (``data["platform"]``): the system
    (``by=None``) acts because the platform said so — 1688 refunded, the supplier refused there.
    The timeline shows the platform as the actor."""
    token = _PLATFORM.set(platform)
    try:
        yield
    finally:
        _PLATFORM.reset(token)


def _with_platform(data: dict[str, Any] | None) -> dict[str, Any] | None:
    platform = _PLATFORM.get()
    return {"platform": platform, **(data or {})} if platform else data


def event_label(name: str) -> str:
    """The display label of history event ``name`` in the active language (the timeline, the
    event list, the transition buttons and forms)."""
    if name in TRANSITIONS:
        return _(TRANSITIONS[name].label)
    if name in OTHER_EVENT_LABELS:
        return _(OTHER_EVENT_LABELS[name])
    return name


def _clean(data: dict[str, Any] | None) -> dict[str, Any]:
    """Inputs left empty are not history: drop ``None`` and ``""``."""
    return {k: v for k, v in (data or {}).items() if v not in (None, "")}


def event_values(
    order_id: int,
    name: str,
    *,
    from_status: str,
    to_status: str,
    actor_id: int | None,
    created_at: datetime,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """The column values of one event row, for writers that insert many rows at once (COPY)."""
    return {
        "order_id": order_id,
        "transition": name,
        "from_status": from_status,
        "to_status": to_status,
        "actor_id": actor_id,
        "created_at": created_at,
        "reason": reason or "",
        "data": _clean(data),
    }


def record_event(
    order: Order,
    name: str,
    *,
    by: AbstractBaseUser | None,
    from_status: str | None = None,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> OrderEvent:
    """Write one history row for ``order``: ``name`` happened, by ``by`` (``None``: the system).

    ``from_status`` defaults to the order's status (an event that does not move the order);
    the row's ``to_status`` is always the order's status as it is now.
    """
    values = event_values(
        order.pk,
        name,
        from_status=order.status if from_status is None else from_status,
        to_status=order.status,
        actor_id=by.pk if by is not None else None,
        created_at=timezone.now(),
        reason=reason,
        data=_with_platform(data),
    )
    event = OrderEvent.objects.create(**values)
    if _touches_ledger(values):
        ledger.refresh_ledger([order.pk])
    return event


def _touches_ledger(values: dict[str, Any]) -> bool:
    """An event of an order closed now, or closed until this event: its ledger may have changed."""
    return Status.CLOSED in (values["to_status"], values["from_status"])


# Rows per INSERT of record_events: well under SQLite's and PostgreSQL's parameter limits.
EVENTS_PER_INSERT = 1000


def record_events(
    name: str,
    entries: Iterable[tuple[Order, dict[str, Any] | None]],
    *,
    by: AbstractBaseUser | None,
    from_status: str | None = None,
    reason: str = "",
) -> int:
    """:func:`record_event` for a batch: one ``name`` row per ``(order, data)`` entry, written at
    once (a COPY on PostgreSQL, else one INSERT per ``EVENTS_PER_INSERT`` rows).

    ``from_status`` (default: each order's status) and ``reason`` are the same for every row.
    Returns how many rows were written.
    """
    now = timezone.now()
    actor_id = by.pk if by is not None else None
    rows = [
        event_values(
            order.pk,
            name,
            from_status=order.status if from_status is None else from_status,
            to_status=order.status,
            actor_id=actor_id,
            created_at=now,
            reason=reason,
            data=_with_platform(data),
        )
        for order, data in entries
    ]
    if connections[router.db_for_write(OrderEvent)].vendor == "postgresql":
        pgcopy.insert(OrderEvent, rows, now, returning=False)  # a third of an INSERT's cost
    else:
        OrderEvent.objects.bulk_create([OrderEvent(**row) for row in rows], batch_size=EVENTS_PER_INSERT)
    closed = [row["order_id"] for row in rows if _touches_ledger(row)]
    if closed:
        ledger.refresh_ledger(closed)
    return len(rows)
