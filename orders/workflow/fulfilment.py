"""The order's way without a close: paid, shipped, completed."""

from __future__ import annotations

from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Order
from . import inputs
from .core import transition


def mark_paid(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    paid_at: datetime | str | None = None,
    take_over: bool = False,
) -> Order:
    """Awaiting payment → paid. Requires the paid time (default: now; never before the order)."""
    with transition("mark_paid", order, by=by, take_over=take_over) as t:
        paid_at = inputs.past_moment(paid_at, "paid_at", default=timezone.now(), not_before=t.order.placed_at)
        t.apply(paid_at)
        t.event(paid_at=paid_at)
    return t.order


def mark_shipped(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    tracking_number: str,
    carrier: str = "",
    shipped_at: datetime | str | None = None,
    take_over: bool = False,
) -> Order:
    """Paid → shipped. Requires the tracking number; the shipped time defaults to now."""
    tracking = inputs.required_text(tracking_number, "tracking_number", _("Enter the tracking number."), 64)
    carrier = inputs.optional_text(carrier, "carrier", 64)
    with transition("mark_shipped", order, by=by, take_over=take_over) as t:
        shipped_at = inputs.past_moment(
            shipped_at, "shipped_at", default=timezone.now(), not_before=t.order.placed_at
        )
        t.apply(tracking, carrier, shipped_at)
        t.event(tracking_number=tracking, carrier=carrier, shipped_at=shipped_at)
    return t.order


def mark_completed(order: Order | int, *, by: AbstractBaseUser | None, take_over: bool = False) -> Order:
    """Shipped → completed (delivered, funds released)."""
    with transition("mark_completed", order, by=by, take_over=take_over) as t:
        t.apply()
    return t.order
