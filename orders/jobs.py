"""The periodic passes that Celery beat runs (see ``orders.tasks`` and the beat-schedule migration).

Each pass selects what is due (``orders.selectors.due``) and loops over one workflow operation,
each item in its own transaction, so one refused item never stops the pass and a crash loses at
most the item in hand. Nothing here writes: the operations lock and re-check each item, which
makes every pass safe to run twice or in parallel (two beats, a manual run beside the scheduled
one). The system is the actor (``by=None``).

Each takes ``now`` so that tests and the benchmark can run a pass "later" without waiting.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from shopops.errors import Refused

from . import workflow
from .models import CloseReason
from .selectors import due
from .workflow import chasing, outbox

logger = logging.getLogger(__name__)

RELAY_BATCH = 1000


@dataclass
class PassResult:
    """What one pass did: items done, skipped (someone else did them first), refused, failed."""

    done: int = 0
    skipped: int = 0
    refused: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _each(name: str, ids: list[int], operation: Callable[[int], object]) -> PassResult:
    """Run ``operation`` on each id: ``None`` back is skipped, ``Refused`` refused, else done."""
    result = PassResult()
    for pk in ids:
        try:
            outcome = operation(pk)
        except Refused as exc:
            result.refused += 1
            logger.info("%s of %s refused: %s", name, pk, exc)
            continue
        except Exception:  # one broken item must not stop the pass for all the others
            result.errors += 1
            logger.exception("%s of %s failed", name, pk)
            continue
        if outcome is None:
            result.skipped += 1
        else:
            result.done += 1
    if result.done or result.refused or result.errors:
        logger.info("Pass %s: %s", name, result.as_dict())
    return result


# --- the outbox relay ----------------------------------------------------------------------


def relay_notifications(now: datetime | None = None, *, limit: int = RELAY_BATCH) -> int:
    """Enqueue notifications that are due but not delivered: pending past ``RELAY_GRACE``, or
    ``sending`` with an expired claim (their worker died). Returns how many were enqueued.

    Stops at the first publish failure: the broker is still down, the next pass tries again.
    Enqueuing one twice is harmless — delivery claims the row first.
    """
    enqueued = 0
    for pk in due.notifications_to_relay(now or timezone.now(), limit=limit):
        if not outbox.enqueue(pk, probe=True):
            break
        enqueued += 1
    if enqueued:
        logger.info("Relay enqueued %d undelivered notification(s)", enqueued)
    return enqueued


# --- payment reminders and timeout -----------------------------------------------------------


def send_payment_reminders(now: datetime | None = None) -> PassResult:
    """One payment reminder per unpaid order past ``SHOPOPS_PAYMENT_REMINDER_HOURS``.

    Orders past the payment timeout, or with neither email nor phone, are not selected. Each
    goes through ``workflow.send_payment_reminder(by=None)``: one history event and the outbox
    messages; a concurrent pass that reminded it first makes the call a no-op.
    """
    ids = due.orders_to_remind(now or timezone.now())
    return _each("payment reminders", ids, lambda pk: workflow.send_payment_reminder(pk, by=None))


def close_timed_out_orders(now: datetime | None = None) -> PassResult:
    """Close unpaid orders past ``SHOPOPS_PAYMENT_TIMEOUT_HOURS`` with ``payment_timeout``.

    Through ``workflow.close_unpaid(by=None)``: one history event per order. An order paid
    meanwhile is refused by the workflow and counted, not fatal.
    """
    ids = due.orders_timed_out(now or timezone.now())
    return _each(
        "payment timeouts",
        ids,
        lambda pk: workflow.close_unpaid(pk, by=None, reason=CloseReason.PAYMENT_TIMEOUT),
    )


# --- supplier chasing ---------------------------------------------------------------------------


def chase_supplier_refunds(now: datetime | None = None) -> PassResult:
    """Remind the supplier of each refund still requested, at most once per chase interval.

    Through ``workflow.chasing.chase_supplier_refund(by=None)``. A refund chased meanwhile by a
    parallel pass is skipped; one whose supplier order has no contact email is refused (and
    logged) — there is nobody to write to.
    """
    now = now or timezone.now()
    ids = due.supplier_refunds_due_for_chase(now)
    return _each("supplier chase", ids, lambda pk: chasing.chase_supplier_refund(pk, by=None, now=now))


def report_overdue_supplier_refunds(now: datetime | None = None) -> PassResult:
    """Flag supplier refunds newly past their respond-by deadline; one digest to the supervisors.

    Through ``workflow.chasing.report_overdue_supplier_refunds(by=None)``. Recipients:
    ``SHOPOPS_SUPERVISOR_EMAILS``, else the active Supervisors; with nobody to read the digest
    the refunds are left unflagged (counted as skipped) until someone is there.
    """
    report = chasing.report_overdue_supplier_refunds(
        by=None, recipients=due.supervisor_emails(), now=now or timezone.now()
    )
    result = PassResult(done=report.flagged, skipped=report.left)
    if result.done:
        logger.info("Pass overdue supplier refunds: %s", result.as_dict())
    return result


# --- refund arrival ----------------------------------------------------------------------------


def check_refund_arrivals(now: datetime | None = None) -> int:
    """Count refunds succeeded but not received after ``SHOPOPS_REFUND_ARRIVAL_DAYS``; log them.

    Finance's list and the admin index use the same selector; this daily pass leaves a trace
    in the logs (and a number in the task result) for monitoring.
    """
    count = due.refunds_not_arrived_count(now or timezone.now())
    if count:
        logger.warning(
            "%d refund(s) succeeded more than %s days ago but not marked received",
            count,
            settings.SHOPOPS_REFUND_ARRIVAL_DAYS,
        )
    return count
