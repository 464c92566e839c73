"""The periodic passes that Celery beat runs (see ``orders.tasks`` and the beat-schedule migration).

Each pass finds what is due with one indexed query (``orders.selectors``), then handles each item
in its own transaction through the workflow or the outbox, so one refused item never stops the
pass and a crash loses at most the item in hand. Every pass is safe to run twice or in parallel
(two beats, a manual run beside the scheduled one): the workflow re-checks each order under its
row lock, and the supplier chase claims each refund with ``SELECT … FOR UPDATE SKIP LOCKED`` and
re-checks that it is still due.

Each takes ``now`` so that tests and the benchmark can run a pass "later" without waiting.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from evidence import services as evidence
from evidence.models import Channel, Counterparty, Direction, Kind
from shopops.errors import Refused

from . import notifications, outbox, selectors, workflow
from .models import CloseReason, Notification, NotificationChannel, NotificationStatus, NotificationTemplate

logger = logging.getLogger(__name__)

# A pending notification younger than this is left to its own task (enqueued on commit or as a
# scheduled retry); the relay only takes over the ones that task evidently never ran for.
RELAY_GRACE = timedelta(seconds=60)
RELAY_BATCH = 1000
# At most this many refunds are listed in one digest email (all are counted).
DIGEST_LISTED = 200


@dataclass
class PassResult:
    """What one pass did: items done, skipped (someone else did them first), refused, failed."""

    done: int = 0
    skipped: int = 0
    refused: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


# --- the outbox relay ----------------------------------------------------------------------


def relay_notifications(now: datetime | None = None, *, limit: int = RELAY_BATCH) -> int:
    """Enqueue notifications that are due but not delivered: pending past ``RELAY_GRACE``, or
    ``sending`` with an expired claim (their worker died). Returns how many were enqueued.

    Stops at the first publish failure: the broker is still down, the next pass tries again.
    Enqueuing one twice is harmless — delivery claims the row first.
    """
    now = now or timezone.now()
    due = (
        Notification.objects.filter(
            Q(status=NotificationStatus.PENDING, next_attempt_at__lte=now - RELAY_GRACE)
            | Q(status=NotificationStatus.SENDING, claimed_until__lt=now)
        )
        .order_by("next_attempt_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )
    enqueued = 0
    for pk in list(due):
        if not outbox.enqueue(pk, probe=True):
            break
        enqueued += 1
    if enqueued:
        logger.info("Relay enqueued %d undelivered notification(s)", enqueued)
    return enqueued


# --- payment reminders and timeout -----------------------------------------------------------


def send_payment_reminders(now: datetime | None = None) -> PassResult:
    """One payment reminder per unpaid order past ``SHOPOPS_PAYMENT_REMINDER_HOURS``.

    Orders already past the payment timeout are left to the timeout (no "please pay" for an
    order about to be closed), and so are orders with neither email nor phone. Each goes through
    ``workflow.send_payment_reminder(by=None)``: one history event and the outbox messages.
    """
    now = now or timezone.now()
    timeout_cutoff = now - timedelta(hours=float(settings.SHOPOPS_PAYMENT_TIMEOUT_HOURS))
    ids = list(
        selectors.unpaid_due_for_reminder(now)
        .filter(placed_at__gt=timeout_cutoff)
        .exclude(buyer_email="", buyer_phone="")
        .order_by("placed_at", "pk")
        .values_list("pk", flat=True)
    )
    result = PassResult()
    for pk in ids:
        try:
            # A concurrent pass that reminded it first makes this call a no-op (no second event or message).
            workflow.send_payment_reminder(pk, by=None)
        except Refused as exc:
            result.refused += 1
            logger.info("Payment reminder for order %s refused: %s", pk, exc)
            continue
        except Exception:  # one broken order must not stop the reminders of all the others
            result.errors += 1
            logger.exception("Payment reminder for order %s failed", pk)
            continue
        result.done += 1
    _log_pass("payment reminders", result)
    return result


def close_timed_out_orders(now: datetime | None = None) -> PassResult:
    """Close unpaid orders past ``SHOPOPS_PAYMENT_TIMEOUT_HOURS`` with ``payment_timeout``.

    Through ``workflow.close_unpaid(by=None)``: the system is the actor, one history event per
    order. An order paid meanwhile is refused by the workflow and counted, not fatal.
    """
    now = now or timezone.now()
    ids = list(selectors.unpaid_timed_out(now).order_by("placed_at", "pk").values_list("pk", flat=True))
    result = PassResult()
    for pk in ids:
        try:
            workflow.close_unpaid(pk, by=None, reason=CloseReason.PAYMENT_TIMEOUT)
        except Refused as exc:
            result.refused += 1
            logger.info("Payment-timeout close of order %s refused: %s", pk, exc)
            continue
        except Exception:  # one broken order must not keep the others open
            result.errors += 1
            logger.exception("Payment-timeout close of order %s failed", pk)
            continue
        result.done += 1
    _log_pass("payment timeouts", result)
    return result


# --- supplier chasing ---------------------------------------------------------------------------


def chase_supplier_refunds(now: datetime | None = None) -> PassResult:
    """Remind the supplier of each refund still requested, at most once per chase interval.

    For each due refund, in one transaction: claim it (``FOR UPDATE SKIP LOCKED`` and still due,
    so parallel passes never chase one refund twice), increment ``chase_count``, set
    ``last_chased_at``, record the Chinese reminder email in the outbox and the same text as a
    ``reminder`` communication with the supplier on the order. A refund whose supplier order
    has no contact email is skipped (and logged) — there is nobody to write to.
    """
    now = now or timezone.now()
    ids = list(
        selectors.supplier_refunds_to_chase(now).order_by("requested_at", "pk").values_list("pk", flat=True)
    )
    result = PassResult()
    for pk in ids:
        try:
            chased = _chase_one(pk, now)
        except Exception:  # one broken refund must not stop the chase of the others
            result.errors += 1
            logger.exception("Chasing supplier refund %s failed", pk)
            continue
        if chased is None:
            result.skipped += 1
        elif chased:
            result.done += 1
        else:
            result.refused += 1
    _log_pass("supplier chase", result)
    return result


@transaction.atomic
def _chase_one(refund_id: int, now: datetime) -> bool | None:
    """Chase one refund. True: reminder recorded; None: not due any more; False: no contact."""
    refund = (
        selectors.supplier_refunds_to_chase(now)
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("order")
        .filter(pk=refund_id)
        .first()
    )
    if refund is None:
        return None
    supplier_order = refund.order.supplier_orders.exclude(supplier_contact="").order_by("pk").first()
    if supplier_order is None:
        logger.warning(
            "Supplier refund %s on order %s: no supplier contact to chase", refund.pk, refund.order
        )
        return False
    number = refund.chase_count + 1
    context = outbox.supplier_reminder_context(refund, supplier_order, number)
    text = notifications.render(
        NotificationTemplate.SUPPLIER_REMINDER, NotificationChannel.EMAIL, "zh-hans", context
    )
    refund.chase_count = number
    refund.last_chased_at = now
    refund.save(update_fields=["chase_count", "last_chased_at"])
    outbox.record_supplier_reminder(
        refund, supplier_order=supplier_order, chase_number=number, subject=text.subject, body=text.body
    )
    evidence.record_communication(
        refund.order,
        by=None,
        counterparty=Counterparty.SUPPLIER,
        channel=Channel.EMAIL,
        direction=Direction.OUTBOUND,
        kind=Kind.REMINDER,
        summary=_("Refund reminder %(n)d sent to %(contact)s")
        % {"n": number, "contact": supplier_order.supplier_contact},
        body=f"{text.subject}\n\n{text.body}",
        occurred_at=min(now, timezone.now()),
    )
    return True


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


def report_overdue_supplier_refunds(now: datetime | None = None) -> PassResult:
    """Flag supplier refunds newly past their respond-by deadline; one digest to the supervisors.

    In one transaction: take the overdue refunds not yet reported (``FOR UPDATE SKIP LOCKED``),
    set their ``overdue_notified_at`` and record one digest email per supervisor listing them,
    with the suggestion to ask 1688 to intervene. A refund is reported once; the next day's
    digest only lists refunds that became overdue since. With no supervisor address nothing
    is flagged, so the refunds are reported once someone is there to read it.
    """
    now = now or timezone.now()
    recipients = supervisor_emails()
    result = PassResult()
    with transaction.atomic():
        refunds = list(
            selectors.supplier_refunds_overdue(now)
            .filter(overdue_notified_at__isnull=True)
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("order")
            .order_by("respond_by", "pk")
        )
        if not refunds:
            return result
        if not recipients:
            logger.warning(
                "%d supplier refund(s) overdue but no supervisor email to report them to "
                "(set SHOPOPS_SUPERVISOR_EMAILS or give the Supervisors email addresses)",
                len(refunds),
            )
            result.skipped = len(refunds)
            return result
        ids = [r.pk for r in refunds]
        contacts = _supplier_orders_by_order([r.order_id for r in refunds[:DIGEST_LISTED]])
        listed = []
        for refund in refunds[:DIGEST_LISTED]:
            supplier_order = contacts.get(refund.order_id)
            listed.append(
                {
                    "order_id": refund.order.platform_order_id,
                    "supplier_name": supplier_order.supplier_name if supplier_order else "",
                    "supplier_order_id": supplier_order.supplier_order_id if supplier_order else "",
                    "amount": str(refund.amount),
                    "reference": refund.reference,
                    "respond_by": timezone.localtime(refund.respond_by).strftime("%Y-%m-%d %H:%M"),
                    "chase_count": refund.chase_count,
                }
            )
        type(refunds[0]).objects.filter(pk__in=ids).update(overdue_notified_at=now)
        digest_id = hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:20]
        outbox.record_overdue_digest(
            digest_id=digest_id,
            recipients=recipients,
            refunds=listed,
            total=len(ids),
        )
        result.done = len(ids)
    _log_pass("overdue supplier refunds", result)
    return result


def _supplier_orders_by_order(order_ids: list[int]) -> dict:
    from .models import SupplierOrder

    found: dict = {}
    for supplier_order in SupplierOrder.objects.filter(order_id__in=order_ids).order_by("pk"):
        found.setdefault(supplier_order.order_id, supplier_order)
    return found


# --- refund arrival ----------------------------------------------------------------------------


def check_refund_arrivals(now: datetime | None = None) -> int:
    """Count refunds succeeded but not received after ``SHOPOPS_REFUND_ARRIVAL_DAYS``; log them.

    Finance's list and the admin index use the same selector; this daily pass leaves a trace
    in the logs (and a number in the task result) for monitoring.
    """
    count = selectors.refunds_not_arrived(now or timezone.now()).count()
    if count:
        logger.warning(
            "%d refund(s) succeeded more than %s days ago but not marked received",
            count,
            settings.SHOPOPS_REFUND_ARRIVAL_DAYS,
        )
    return count


def _log_pass(name: str, result: PassResult) -> None:
    if result.done or result.refused or result.errors:
        logger.info("Pass %s: %s", name, result.as_dict())
