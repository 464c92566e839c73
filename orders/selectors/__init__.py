"""Reusable reads: what is due, overdue or waiting. Querysets only — the caller decides what to do.

Every function takes ``now`` so that jobs, the worklist and tests agree on one instant, and
each is a single indexed query (no Python-side scans).

Every function takes the ``user`` it reads for and returns only the rows of that user's stores
(``orders.policy.scope``); ``None`` is the system, which works for every store. The reads the
periodic jobs share (``orders.selectors.due`` calls them with ``now`` alone) default to the
system; the ones only a screen shows have no default, so a screen cannot forget its user.

The payment delays are each store's (``Store.payment_reminder_hours`` /
``payment_timeout_hours``, the environment's when blank): ``stores.per_store`` reads them first
(one small query) and makes one condition per value.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from .. import policy
from ..models import (
    Feedback,
    FollowupStatus,
    Order,
    Refund,
    RefundDirection,
    RefundStatus,
    Status,
    Store,
)
from .analytics import CloseAnalytics, close_analytics, skus_with_repeated_out_of_stock  # noqa: F401
from .refunds import refund_limit, refundable, refunded_total  # noqa: F401
from .stores import per_store

# Statuses in which the next move is the buyer's (we asked; they have not answered yet).
WAITING_ON_BUYER = (Status.CANCEL_REQUESTED, Status.RETURN_REQUESTED, Status.RETURN_IN_TRANSIT)


def _hours(value: float) -> timedelta:
    return timedelta(hours=float(value))


def _orders(user: Any) -> QuerySet[Order]:
    return policy.scope(user, Order.objects.all())


def _refunds(user: Any) -> QuerySet[Refund]:
    return policy.scope(user, Refund.objects.all())


def unpaid_due_for_reminder(now: datetime, user: Any = None) -> QuerySet[Order]:
    """Unpaid orders placed more than their store's reminder delay ago that were never reminded."""
    placed = per_store(lambda hours: Q(placed_at__lte=now - _hours(hours)), "payment_reminder_hours")
    return _orders(user).filter(placed, status=Status.AWAITING_PAYMENT, payment_reminded_at__isnull=True)


def unpaid_timed_out(now: datetime, user: Any = None) -> QuerySet[Order]:
    """Unpaid orders past their store's payment timeout: to be closed with ``payment_timeout``."""
    placed = per_store(lambda hours: Q(placed_at__lte=now - _hours(hours)), "payment_timeout_hours")
    return _orders(user).filter(placed, status=Status.AWAITING_PAYMENT)


def unpaid_timing_out_soon(now: datetime, user: Any) -> QuerySet[Order]:
    """Unpaid orders that the timeout will close within ``SHOPOPS_TIMEOUT_SOON_HOURS``."""
    soon = _hours(settings.SHOPOPS_TIMEOUT_SOON_HOURS)

    def closing_soon(hours: float) -> Q:
        timeout = _hours(hours)
        return Q(placed_at__gt=now - timeout, placed_at__lte=now - timeout + soon)

    return _orders(user).filter(
        per_store(closing_soon, "payment_timeout_hours"), status=Status.AWAITING_PAYMENT
    )


def waiting_on_buyer(now: datetime, user: Any) -> QuerySet[Order]:
    """Orders whose next step is the buyer's answer, waiting longer than the configured time."""
    cutoff = now - _hours(settings.SHOPOPS_WAITING_ON_BUYER_HOURS)
    return _orders(user).filter(status__in=WAITING_ON_BUYER, status_changed_at__lte=cutoff)


def supplier_refunds_to_chase(now: datetime, user: Any = None) -> QuerySet[Refund]:
    """Supplier refunds still requested, not chased within the chase interval."""
    cutoff = now - _hours(settings.SHOPOPS_SUPPLIER_CHASE_HOURS)
    return (
        _refunds(user)
        .filter(
            direction=RefundDirection.FROM_SUPPLIER,
            status=RefundStatus.REQUESTED,
            requested_at__lte=cutoff,
        )
        .exclude(last_chased_at__gt=cutoff)
    )


def supplier_refunds_overdue(now: datetime, user: Any = None) -> QuerySet[Refund]:
    """Supplier refunds still requested after their respond-by deadline."""
    return _refunds(user).filter(
        direction=RefundDirection.FROM_SUPPLIER, status=RefundStatus.REQUESTED, respond_by__lt=now
    )


def refunds_not_arrived(now: datetime, user: Any = None, direction: str | None = None) -> QuerySet[Refund]:
    """Refunds that succeeded more than ``SHOPOPS_REFUND_ARRIVAL_DAYS`` ago but were not received;
    of one ``direction`` when given: money due to us (``from_supplier``) apart from the buyers'."""
    cutoff = now - timedelta(days=float(settings.SHOPOPS_REFUND_ARRIVAL_DAYS))
    found = _refunds(user).filter(status=RefundStatus.SUCCEEDED, succeeded_at__lte=cutoff)
    return found if direction is None else found.filter(direction=direction)


def open_negative_feedback(user: Any) -> QuerySet[Feedback]:
    """Feedback follow-ups not finished yet (new or buyer contacted)."""
    return policy.scope(user, Feedback.objects.all()).filter(
        followup_status__in=(FollowupStatus.NEW, FollowupStatus.CONTACTED)
    )


def overdue_supplier_refunds_by_supplier(
    now: datetime, user: Any, *, supplier: str | None = None, store: Store | None = None
) -> dict[str, int]:
    """Overdue supplier refunds (``supplier_refunds_overdue``) of ``user``'s stores counted per
    1688 supplier name; of one ``store`` (among them) and one ``supplier`` when given."""
    qs = supplier_refunds_overdue(now, user)
    if store is not None:
        qs = qs.filter(order__store=store)
    if supplier:
        qs = qs.filter(order__supplier_orders__supplier_name=supplier)
    rows = (
        qs.values_list("order__supplier_orders__supplier_name")
        .annotate(n=Count("pk", distinct=True))
        .order_by()
    )
    return {name or "": n for name, n in rows}
