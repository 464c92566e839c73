"""An order nobody paid: a reminder to the buyer, then a close.

Each operation has a batch form for the periodic jobs (``orders.jobs``): the same rules for a
batch of orders in one transaction, with a constant number of queries (``orders.workflow.batches``).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops.errors import Refused

from .. import policy
from ..models import CloseReason, Order, Status
from . import events, inputs, outbox, stock
from .batches import BatchResult, lock_orders, transition_batch, unique_ids
from .core import operation, status_label, transition


def close_unpaid(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    reason: str,
    note: str = "",
    stock_count: int | str | None = 0,
    take_over: bool = False,
) -> Order:
    """Awaiting payment → closed, with a reason (a note when the reason is “other”).

    Closing for ``out_of_stock`` sets the SKU's stock to ``stock_count``, the units really in
    stock (0 by default: then it is flagged out of stock), with a stock movement.
    """
    note = inputs.note(note)
    reason = inputs.close_reason(reason, note)
    count = inputs.stock_count(stock_count)
    with transition("close_unpaid", order, by=by, take_over=take_over) as t:
        t.apply(reason, note or "")
        if reason == CloseReason.OUT_OF_STOCK:
            stock.mark_out_of_stock(t.order.sku_id, by=by, order=t.order, count=count)
            t.event(stock_count=count)
        t.event(note=note)
    return t.order


def close_unpaid_batch(order_ids: Iterable[int], *, by: AbstractBaseUser | None, reason: str) -> BatchResult:
    """:func:`close_unpaid` for a batch of orders (the payment timeout), all or nothing.

    Orders paid meanwhile are refused, orders held elsewhere skipped (``batches``). Not for
    ``out_of_stock`` or “other”, whose close does more than move the order: one by one.
    """
    reason = inputs.close_reason(reason, "")
    if reason == CloseReason.OUT_OF_STOCK:
        raise Refused(_("Close out-of-stock orders one by one: each also flags its SKU."), field="reason")
    with transition_batch("close_unpaid", order_ids, by=by) as b:
        b.apply(reason, "")
    return b.result


def _reminder_refusal(order: Order) -> str | None:
    """Why ``order`` may not get a payment reminder, or None."""
    if order.status != Status.AWAITING_PAYMENT:
        return _("Order %(order)s is “%(status)s”: only unpaid orders get a payment reminder.") % {
            "order": order,
            "status": status_label(order.status),
        }
    if order.payment_reminded_at is None and not order.buyer_email and not order.buyer_phone:
        return _("Order %(order)s has no buyer email or phone to remind.") % {"order": order}
    return None


def send_payment_reminder(order: Order | int, *, by: AbstractBaseUser | None) -> Order:
    """Ask an unpaid order's buyer to pay, by email and SMS after commit.

    One reminder per order: later calls change nothing and write no event.
    """
    policy.require(by, "orders.send_payment_reminder", _("send payment reminders"))
    with operation("send_payment_reminder", order, by=by) as t:
        refusal = _reminder_refusal(t.order)
        if refusal:
            raise Refused(refusal)
        if t.order.payment_reminded_at is not None:
            return t.order
        t.order.payment_reminded_at = timezone.now()
        t.order.save(update_fields=["payment_reminded_at", "updated_at"])
        outbox.record_payment_reminder(t.order)
        t.event()
    return t.order


def send_payment_reminders(order_ids: Iterable[int], *, by: AbstractBaseUser | None) -> BatchResult:
    """:func:`send_payment_reminder` for a batch of orders, in one transaction.

    One ``UPDATE`` of ``payment_reminded_at``, the outbox messages in one insert (handed to
    Celery together after commit) and one ``INSERT`` of events. Orders already reminded, or held
    by another transaction, are skipped; the others the one-order operation refuses are refused.
    """
    policy.require(by, "orders.send_payment_reminder", _("send payment reminders"))
    ids = unique_ids(order_ids)
    result = BatchResult()
    with transaction.atomic():
        locked, result.skipped = lock_orders(ids, by=by)
        due = []
        for order in locked:
            refusal = _reminder_refusal(order)
            if refusal:
                result.refused[order.pk] = refusal
            elif order.payment_reminded_at is not None:
                result.skipped.append(order.pk)
            else:
                due.append(order)
        if not due:
            return result
        now = timezone.now()
        Order.objects.filter(pk__in=[o.pk for o in due]).update(payment_reminded_at=now, updated_at=now)
        with outbox.recorded_together():
            for order in due:
                order.payment_reminded_at = order.updated_at = now
                outbox.record_payment_reminder(order)
        events.record_events("send_payment_reminder", [(order, None) for order in due], by=by)
    result.done = [o.pk for o in due]
    return result
