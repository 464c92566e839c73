"""The periodic passes that Celery beat runs (see ``orders.tasks`` and the beat-schedule migration).

Each pass selects what is due (``orders.selectors.due``, one query) and hands it in batches of
``JOB_BATCH`` to a batch operation of the workflow (``unpaid.send_payment_reminders``,
``unpaid.close_unpaid_batch``, ``chasing.chase_supplier_refunds``): one transaction and a
constant number of queries per batch, so a pass costs the same per item at 1,000 or 100,000
items, and a pass that dies half way leaves each batch done or not — the next pass selects
what is still due and finishes it. Nothing here writes: the operations lock (``SKIP LOCKED``)
and re-check each item, which makes every pass safe to run twice or in parallel (two beats, a
manual run beside the scheduled one). One refused item never stops its batch; a batch that
fails unexpectedly is run again item by item, so one broken item never stops the others. The
system is the actor (``by=None``).

Each takes ``now`` so that tests and the benchmark can run a pass "later" without waiting, and
``batch_size``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import datetime

from django.conf import settings
from django.utils import timezone

from .models import CloseReason
from .selectors import due
from .workflow import chasing, outbox, team, unpaid
from .workflow.batches import BatchResult

logger = logging.getLogger(__name__)

RELAY_BATCH = 1000
# Items per batch of the periodic passes: one transaction, and a constant number of queries.
JOB_BATCH = 500

# The documented test hook: when set, called after each batch of a pass has committed, with the
# pass's name and the batch's number (from 1). A test raises from it to stop a pass between
# batches as a crash would (``tests/test_jobs_batches.py``). None in production.
after_batch: Callable[[str, int], None] | None = None


@dataclass
class PassResult:
    """What one pass did: items done, skipped (someone else did them first), refused, failed."""

    done: int = 0
    skipped: int = 0
    refused: int = 0
    errors: int = 0

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def _count(name: str, batch: BatchResult, result: PassResult) -> None:
    result.done += len(batch.done)
    result.skipped += len(batch.skipped)
    result.refused += len(batch.refused)
    for pk, message in batch.refused.items():
        logger.info("%s of %s refused: %s", name, pk, message)


def _in_batches(
    name: str, ids: list[int], operation: Callable[[list[int]], BatchResult], *, batch_size: int
) -> PassResult:
    """Run ``operation`` on ``ids`` in batches of ``batch_size``; each batch commits or not.

    A batch that raises (not a refusal: those are counted per item) is run again one item at a
    time, so that one broken item fails alone (``errors``) and the others are done.
    """
    result = PassResult()
    size = max(int(batch_size), 1)
    for number, start in enumerate(range(0, len(ids), size), 1):
        chunk = ids[start : start + size]
        try:
            _count(name, operation(chunk), result)
        except Exception:  # one broken item must not stop the pass for all the others
            logger.exception("%s: batch %d failed; trying its %d items one by one", name, number, len(chunk))
            for pk in chunk:
                try:
                    _count(name, operation([pk]), result)
                except Exception:
                    result.errors += 1
                    logger.exception("%s of %s failed", name, pk)
        if after_batch is not None:
            after_batch(name, number)
    if result.done or result.refused or result.errors:
        logger.info("Pass %s: %s", name, result.as_dict())
    return result


# --- the outbox relay ----------------------------------------------------------------------


def relay_notifications(now: datetime | None = None, *, limit: int = RELAY_BATCH) -> int:
    """Enqueue notifications that are due but not delivered: pending past ``RELAY_GRACE``, or
    ``sending`` with an expired claim (their worker died). Returns how many were enqueued.

    One broker message per delivery batch (``SHOPOPS_NOTIFICATION_BATCH``); stops at the first
    publish failure: the broker is still down, the next pass tries again. Enqueuing one twice
    is harmless — delivery claims the row first.
    """
    ids = due.notifications_to_relay(now or timezone.now(), limit=limit)
    size = max(int(settings.SHOPOPS_NOTIFICATION_BATCH), 1)
    enqueued = 0
    for start in range(0, len(ids), size):
        batch = ids[start : start + size]
        if not outbox.enqueue_many(batch, probe=True):
            break
        enqueued += len(batch)
    if enqueued:
        logger.info("Relay enqueued %d undelivered notification(s)", enqueued)
    return enqueued


# --- payment reminders and timeout -----------------------------------------------------------


def send_payment_reminders(now: datetime | None = None, *, batch_size: int = JOB_BATCH) -> PassResult:
    """One payment reminder per unpaid order past its store's reminder delay
    (``SHOPOPS_PAYMENT_REMINDER_HOURS`` for a store that sets none).

    Orders past the payment timeout, or with neither email nor phone, are not selected. Each
    batch goes through ``unpaid.send_payment_reminders(by=None)``: one history event per order
    and the outbox messages; an order a concurrent pass reminded first is skipped.
    """
    ids = due.orders_to_remind(now or timezone.now())
    return _in_batches(
        "payment reminders",
        ids,
        lambda batch: unpaid.send_payment_reminders(batch, by=None),
        batch_size=batch_size,
    )


def close_timed_out_orders(now: datetime | None = None, *, batch_size: int = JOB_BATCH) -> PassResult:
    """Close unpaid orders past their store's payment timeout (``SHOPOPS_PAYMENT_TIMEOUT_HOURS``
    for a store that sets none) with ``payment_timeout``.

    Through ``unpaid.close_unpaid_batch(by=None)``: one history event per order. An order paid
    meanwhile is refused by the workflow and counted, not fatal.
    """
    ids = due.orders_timed_out(now or timezone.now())
    return _in_batches(
        "payment timeouts",
        ids,
        lambda batch: unpaid.close_unpaid_batch(batch, by=None, reason=CloseReason.PAYMENT_TIMEOUT),
        batch_size=batch_size,
    )


# --- supplier chasing ---------------------------------------------------------------------------


def chase_supplier_refunds(now: datetime | None = None, *, batch_size: int = JOB_BATCH) -> PassResult:
    """Remind the supplier of each refund still requested, at most once per chase interval.

    Through ``chasing.chase_supplier_refunds(by=None)``. A refund chased meanwhile by a parallel
    pass is skipped; one whose supplier order has no contact email is refused (and logged) —
    there is nobody to write to.
    """
    now = now or timezone.now()
    ids = due.supplier_refunds_due_for_chase(now)
    return _in_batches(
        "supplier chase",
        ids,
        lambda batch: chasing.chase_supplier_refunds(batch, by=None, now=now),
        batch_size=batch_size,
    )


def report_overdue_supplier_refunds(now: datetime | None = None) -> PassResult:
    """Flag supplier refunds newly past their respond-by deadline; one digest to the supervisors.

    Through ``workflow.chasing.report_overdue_supplier_refunds(by=None)``, one transaction for
    all of them (set-based: a constant number of queries, one INSERT of events per 1,000), so
    the supervisors get one digest per pass. Recipients: ``SHOPOPS_SUPERVISOR_EMAILS``, else the
    active Supervisors; with nobody to read the digest the refunds are left unflagged (counted
    as skipped) until someone is there.
    """
    report = chasing.report_overdue_supplier_refunds(
        by=None, recipients=due.supervisor_emails(), now=now or timezone.now()
    )
    result = PassResult(done=report.flagged, skipped=report.left)
    if result.done:
        logger.info("Pass overdue supplier refunds: %s", result.as_dict())
    return result


# --- hand-offs to staff (docs/team.md) -------------------------------------------------------------


def hand_off_supplier_answers(now: datetime | None = None, *, batch_size: int = JOB_BATCH) -> PassResult:
    """Tell the people who record a supplier's answer that it is due (its respond-by within a
    day, or past), once per refund: an email each and one team chat message, through the outbox.

    Through ``team.hand_off_supplier_answers(by=None)``; a refund told of before is not selected
    again (nor told twice by two passes at once: the outbox keys are unique).
    """
    now = now or timezone.now()
    ids = due.supplier_answers_to_hand_off(now)
    return _in_batches(
        "supplier answers due",
        ids,
        lambda batch: team.hand_off_supplier_answers(batch, by=None, now=now),
        batch_size=batch_size,
    )


def send_staff_digests(*, batch_size: int = JOB_BATCH) -> PassResult:
    """One email to each person who chose the daily digest, listing the hand-offs held for them.

    Through ``team.send_digests(by=None)``: each batch holds whole recipients where it can (the
    held rows come by recipient), marks the rows listed ``digested`` and records the digests.
    """
    return _in_batches(
        "staff digests",
        due.held_handoffs(),
        lambda batch: team.send_digests(batch, by=None),
        batch_size=batch_size,
    )


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
