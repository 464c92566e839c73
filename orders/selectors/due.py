"""What the periodic jobs (``orders.jobs``) select: the ids due for each pass, and the reads around.

Each pass takes ids here, in a stable order (one query), and hands them in batches to a workflow
batch operation that locks and re-checks them; so a read here may be stale by the time the item
is handled, never wrong.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Exists, OuterRef, Q, QuerySet

from ..models import (
    Notification,
    NotificationStatus,
    NotificationTemplate,
    Refund,
    RefundDirection,
    RefundStatus,
    Status,
    SupplierOrder,
)
from . import (
    per_store,
    refunds_not_arrived,
    supplier_refunds_overdue,
    supplier_refunds_to_chase,
    unpaid_due_for_reminder,
    unpaid_timed_out,
)
from .queues import SUPPLIER_ANSWER_DUE_WITHIN

# A pending notification younger than this is left to its own task (enqueued on commit or as a
# scheduled retry); the relay only takes over the ones that task evidently never ran for.
RELAY_GRACE = timedelta(seconds=60)


def notifications_to_relay(now: datetime, *, limit: int) -> list[int]:
    """Notifications due but not delivered: pending past ``RELAY_GRACE``, or ``sending`` with an
    expired claim (their worker died). Oldest due first."""
    return list(
        Notification.objects.filter(
            Q(status=NotificationStatus.PENDING, next_attempt_at__lte=now - RELAY_GRACE)
            | Q(status=NotificationStatus.SENDING, claimed_until__lt=now)
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def orders_to_remind(now: datetime) -> list[int]:
    """Unpaid orders due a payment reminder, oldest first.

    Each store's delays (``per_store``). Orders already past their payment timeout are left to
    the timeout (no "please pay" for an order about to be closed), and so are orders with
    neither email nor phone.
    """
    before_timeout = per_store(
        lambda hours: Q(placed_at__gt=now - timedelta(hours=float(hours))), "payment_timeout_hours"
    )
    return list(
        unpaid_due_for_reminder(now)
        .filter(before_timeout)
        .exclude(buyer_email="", buyer_phone="")
        .order_by("placed_at", "pk")
        .values_list("pk", flat=True)
    )


def orders_timed_out(now: datetime) -> list[int]:
    """Unpaid orders past the payment timeout, oldest first."""
    return list(unpaid_timed_out(now).order_by("placed_at", "pk").values_list("pk", flat=True))


def supplier_refunds_due_for_chase(now: datetime) -> list[int]:
    """Supplier refunds still requested and not chased within the interval, oldest request first."""
    return list(supplier_refunds_to_chase(now).order_by("requested_at", "pk").values_list("pk", flat=True))


def supplier_refunds_overdue_unreported(now: datetime) -> QuerySet[Refund]:
    """Supplier refunds past their respond-by deadline that no digest has reported yet."""
    return supplier_refunds_overdue(now).filter(overdue_notified_at__isnull=True)


def supplier_contacts(order_ids: list[int]) -> dict[int, SupplierOrder]:
    """The supplier order to write to about each order's refund: its first one with a contact,
    by order id (orders without one are absent). One query for a whole batch."""
    found: dict[int, SupplierOrder] = {}
    rows = SupplierOrder.objects.filter(order_id__in=order_ids).exclude(supplier_contact="").order_by("pk")
    for supplier_order in rows:
        found.setdefault(supplier_order.order_id, supplier_order)
    return found


def first_supplier_orders(order_ids: list[int]) -> dict[int, SupplierOrder]:
    """The first supplier order of each order, by order id (orders without one are absent)."""
    found: dict[int, SupplierOrder] = {}
    for supplier_order in SupplierOrder.objects.filter(order_id__in=order_ids).order_by("pk"):
        found.setdefault(supplier_order.order_id, supplier_order)
    return found


def supervisor_emails() -> list[str]:
    """Who gets the overdue digest: ``SHOPOPS_SUPERVISOR_EMAILS``, else active Supervisors."""
    if settings.SHOPOPS_SUPERVISOR_EMAILS:
        return list(dict.fromkeys(settings.SHOPOPS_SUPERVISOR_EMAILS))
    return list(
        get_user_model()
        .objects.filter(is_active=True, groups__name="Supervisor")
        .exclude(email="")
        .order_by("email")
        .values_list("email", flat=True)
        .distinct()
    )


def refunds_not_arrived_count(now: datetime) -> int:
    """How many refunds succeeded more than ``SHOPOPS_REFUND_ARRIVAL_DAYS`` ago, not received."""
    return refunds_not_arrived(now).count()


# --- hand-offs to staff (orders.workflow.handoffs) -----------------------------------------------


def supplier_answers_unannounced(now: datetime) -> QuerySet[Refund]:
    """Supplier refunds awaiting the supplier's answer, due within
    ``queues.SUPPLIER_ANSWER_DUE_WITHIN`` or overdue, that no hand-off has told staff of yet."""
    told = Notification.objects.filter(refund=OuterRef("pk"), template=NotificationTemplate.STAFF_HANDOFF)
    return Refund.objects.filter(
        direction=RefundDirection.FROM_SUPPLIER,
        status=RefundStatus.REQUESTED,
        respond_by__lte=now + SUPPLIER_ANSWER_DUE_WITHIN,
        order__status=Status.SUPPLIER_REFUND_PENDING,
    ).exclude(Exists(told))


def supplier_answers_to_hand_off(now: datetime) -> list[int]:
    """The ids of :func:`supplier_answers_unannounced`, the earliest deadline first."""
    return list(supplier_answers_unannounced(now).order_by("respond_by", "pk").values_list("pk", flat=True))


def held_for_digest() -> QuerySet[Notification]:
    """The hand-off emails held for a daily digest, not listed in one yet."""
    return Notification.objects.filter(
        status=NotificationStatus.HELD, template=NotificationTemplate.STAFF_HANDOFF
    )


def held_handoffs() -> list[int]:
    """The ids of :func:`held_for_digest`, by recipient (a batch holds each person's together)."""
    return list(held_for_digest().order_by("recipient", "pk").values_list("pk", flat=True))
