"""Reusable reads: what is due, overdue or waiting. Querysets only — the caller decides what to do.

Every function takes ``now`` so that jobs, the worklist and tests agree on one instant, and
each is a single indexed query (no Python-side scans). The payment delays are each store's
(``Store.payment_reminder_hours`` / ``payment_timeout_hours``, the environment's when blank):
``stores.per_store`` reads them first (one small query) and makes one condition per value.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.db.models import Count, Q, QuerySet

from ..models import FollowupStatus, Order, Refund, RefundDirection, RefundStatus, Status
from .analytics import CloseAnalytics, close_analytics, skus_with_repeated_out_of_stock  # noqa: F401
from .refunds import refund_limit, refundable, refunded_total  # noqa: F401
from .stores import per_store

# Statuses in which the next move is the buyer's (we asked; they have not answered yet).
WAITING_ON_BUYER = (Status.CANCEL_REQUESTED, Status.RETURN_REQUESTED, Status.RETURN_IN_TRANSIT)


def _hours(value: float) -> timedelta:
    return timedelta(hours=float(value))


def unpaid_due_for_reminder(now: datetime) -> QuerySet[Order]:
    """Unpaid orders placed more than their store's reminder delay ago that were never reminded."""
    placed = per_store(lambda hours: Q(placed_at__lte=now - _hours(hours)), "payment_reminder_hours")
    return Order.objects.filter(placed, status=Status.AWAITING_PAYMENT, payment_reminded_at__isnull=True)


def unpaid_timed_out(now: datetime) -> QuerySet[Order]:
    """Unpaid orders past their store's payment timeout: to be closed with ``payment_timeout``."""
    placed = per_store(lambda hours: Q(placed_at__lte=now - _hours(hours)), "payment_timeout_hours")
    return Order.objects.filter(placed, status=Status.AWAITING_PAYMENT)


def unpaid_timing_out_soon(now: datetime) -> QuerySet[Order]:
    """Unpaid orders that the timeout will close within ``SHOPOPS_TIMEOUT_SOON_HOURS``."""
    soon = _hours(settings.SHOPOPS_TIMEOUT_SOON_HOURS)

    def closing_soon(hours: float) -> Q:
        timeout = _hours(hours)
        return Q(placed_at__gt=now - timeout, placed_at__lte=now - timeout + soon)

    return Order.objects.filter(
        per_store(closing_soon, "payment_timeout_hours"), status=Status.AWAITING_PAYMENT
    )


def waiting_on_buyer(now: datetime) -> QuerySet[Order]:
    """Orders whose next step is the buyer's answer, waiting longer than the configured time."""
    cutoff = now - _hours(settings.SHOPOPS_WAITING_ON_BUYER_HOURS)
    return Order.objects.filter(status__in=WAITING_ON_BUYER, status_changed_at__lte=cutoff)


def supplier_refunds_to_chase(now: datetime) -> QuerySet[Refund]:
    """Supplier refunds still requested, not chased within the chase interval."""
    cutoff = now - _hours(settings.SHOPOPS_SUPPLIER_CHASE_HOURS)
    return Refund.objects.filter(
        direction=RefundDirection.FROM_SUPPLIER,
        status=RefundStatus.REQUESTED,
        requested_at__lte=cutoff,
    ).exclude(last_chased_at__gt=cutoff)


def supplier_refunds_overdue(now: datetime) -> QuerySet[Refund]:
    """Supplier refunds still requested after their respond-by deadline."""
    return Refund.objects.filter(
        direction=RefundDirection.FROM_SUPPLIER, status=RefundStatus.REQUESTED, respond_by__lt=now
    )


def refunds_not_arrived(now: datetime) -> QuerySet[Refund]:
    """Refunds that succeeded more than ``SHOPOPS_REFUND_ARRIVAL_DAYS`` ago but were not received."""
    cutoff = now - timedelta(days=float(settings.SHOPOPS_REFUND_ARRIVAL_DAYS))
    return Refund.objects.filter(status=RefundStatus.SUCCEEDED, succeeded_at__lte=cutoff)


def open_negative_feedback():
    """Feedback follow-ups not finished yet (new or buyer contacted)."""
    from ..models import Feedback

    return Feedback.objects.filter(followup_status__in=(FollowupStatus.NEW, FollowupStatus.CONTACTED))


def overdue_supplier_refunds_by_supplier(now: datetime, supplier: str | None = None) -> dict[str, int]:
    """Overdue supplier refunds (``supplier_refunds_overdue``) counted per 1688 supplier name."""
    qs = supplier_refunds_overdue(now)
    if supplier:
        qs = qs.filter(order__supplier_orders__supplier_name=supplier)
    rows = (
        qs.values_list("order__supplier_orders__supplier_name")
        .annotate(n=Count("pk", distinct=True))
        .order_by()
    )
    return {name or "": n for name, n in rows}
