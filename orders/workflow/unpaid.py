"""An order nobody paid: a reminder to the buyer, then a close."""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops.errors import Refused, require_permission

from ..models import CloseReason, Order, Status
from . import inputs, outbox, stock
from .core import operation, status_label, transition


def close_unpaid(order: Order | int, *, by: AbstractBaseUser | None, reason: str, note: str = "") -> Order:
    """Awaiting payment → closed, with a reason (a note when the reason is “other”).

    Closing for ``out_of_stock`` zeroes and flags the SKU with a stock movement.
    """
    note = inputs.note(note)
    reason = inputs.close_reason(reason, note)
    with transition("close_unpaid", order, by=by) as t:
        t.apply(reason, note or "")
        if reason == CloseReason.OUT_OF_STOCK:
            stock.mark_out_of_stock(t.order.sku_id, by=by, order=t.order)
        t.event(note=note)
    return t.order


def send_payment_reminder(order: Order | int, *, by: AbstractBaseUser | None) -> Order:
    """Ask an unpaid order's buyer to pay, by email and SMS after commit.

    One reminder per order: later calls change nothing and write no event.
    """
    require_permission(by, "orders.send_payment_reminder", _("send payment reminders"))
    with operation("send_payment_reminder", order, by=by) as t:
        if t.order.status != Status.AWAITING_PAYMENT:
            raise Refused(
                _("Order %(order)s is “%(status)s”: only unpaid orders get a payment reminder.")
                % {"order": t.order, "status": status_label(t.order.status)}
            )
        if t.order.payment_reminded_at is not None:
            return t.order
        if not t.order.buyer_email and not t.order.buyer_phone:
            raise Refused(_("Order %(order)s has no buyer email or phone to remind.") % {"order": t.order})
        t.order.payment_reminded_at = timezone.now()
        t.order.save(update_fields=["payment_reminded_at", "updated_at"])
        outbox.record_payment_reminder(t.order)
        t.event()
    return t.order
