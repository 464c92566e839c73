"""Celery tasks: thin wrappers that take ids, call the services, and retry only what can be fixed.

This is the only module that knows Celery's task API; nothing imports it. The outbox hands a
message over by task name (``shopops.celery.hand_off``), and beat runs the periodic tasks by
name from its schedule rows.

Delivery (``deliver_notification``, and ``deliver_notifications`` for a batch) is idempotent: it
claims the outbox row before sending (see
``orders.workflow.outbox`` and ``orders.delivery``), so a duplicate message, a redelivery after a
worker died, or the relay enqueuing it again all end in one send. A retryable failure
schedules the next attempt with a countdown (capped below the broker's visibility timeout); if
even that publish fails, the row is ``pending`` with its ``next_attempt_at`` and the relay picks
it up.

The periodic tasks (schedules in django-celery-beat, created by a migration) each run one pass
of ``orders.jobs``; every pass is safe to run twice or in parallel.

A task takes ids (or a job's token), never a URL, a file path or a query: whoever may edit a
schedule row or publish a message must not choose what a worker reads, fetches or writes.
Addresses and paths come from settings (``tests/test_fx_rates.py`` checks every task here).
"""

from __future__ import annotations

from celery import shared_task

from . import delivery, jobs
from .packs import jobs as pack_jobs
from .platforms import filing, sync
from .workflow import outbox, rates


# Nobody reads a delivery's result (the outcome is on the outbox row): none is stored, which also
# skips the STARTED state write. A caller that wants one asks with apply_async(ignore_result=False).
@shared_task(name="orders.deliver_notification", ignore_result=True)
def deliver_notification(notification_id: int) -> str:
    """Send one outbox notification (if no one else is); schedule a retry when it may succeed later."""
    result = delivery.deliver(notification_id)
    if result.outcome == "retry":
        outbox.enqueue(notification_id, countdown=result.retry_in)
    elif result.outcome == "released":
        outbox.enqueue(notification_id)
    return result.outcome


@shared_task(name="orders.deliver_notifications", ignore_result=True)
def deliver_notifications(notification_ids: list[int]) -> dict[str, int]:
    """Send a batch of outbox notifications (one claim, one SMTP session); hand retries back in
    batches, grouped by their delay. Returns how many ended in each outcome."""
    results = delivery.deliver_many(notification_ids)
    retries: dict[float, list[int]] = {}
    for pk, result in results.items():
        if result.outcome == "retry":
            retries.setdefault(result.retry_in or 0.0, []).append(pk)
    for delay, ids in retries.items():
        outbox.enqueue_many(ids, countdown=delay)
    outbox.enqueue_many(pk for pk, result in results.items() if result.outcome == "released")
    counts: dict[str, int] = {}
    for result in results.values():
        counts[result.outcome] = counts.get(result.outcome, 0) + 1
    return counts


@shared_task(name="orders.relay_notifications", ignore_result=True)
def relay_notifications() -> int:
    """Hand Celery the notifications that are due but were never delivered (broker outage, crash)."""
    return jobs.relay_notifications()


@shared_task(name="orders.send_payment_reminders")
def send_payment_reminders() -> dict:
    """Remind buyers of unpaid orders past the reminder delay (one reminder per order)."""
    return jobs.send_payment_reminders().as_dict()


@shared_task(name="orders.close_timed_out_orders")
def close_timed_out_orders() -> dict:
    """Close unpaid orders past the payment timeout with ``payment_timeout``, acted by the system."""
    return jobs.close_timed_out_orders().as_dict()


@shared_task(name="orders.chase_supplier_refunds")
def chase_supplier_refunds() -> dict:
    """Send the supplier a reminder for each refund still requested, once per chase interval."""
    return jobs.chase_supplier_refunds().as_dict()


@shared_task(name="orders.report_overdue_supplier_refunds")
def report_overdue_supplier_refunds() -> dict:
    """Flag supplier refunds past their deadline and send the supervisors one digest of them."""
    return jobs.report_overdue_supplier_refunds().as_dict()


@shared_task(name="orders.check_refund_arrivals")
def check_refund_arrivals() -> int:
    """Count (and log) refunds that succeeded but were not received within the arrival days."""
    return jobs.check_refund_arrivals()


@shared_task(name="orders.hand_off_supplier_answers")
def hand_off_supplier_answers() -> dict:
    """Tell the people who record a supplier's answer that it is due (once per refund)."""
    return jobs.hand_off_supplier_answers().as_dict()


@shared_task(name="orders.send_staff_digests")
def send_staff_digests() -> dict:
    """Email each person who chose the daily digest the hand-offs held for them."""
    return jobs.send_staff_digests().as_dict()


@shared_task(name="orders.build_evidence_pack")
def build_evidence_pack(token: str) -> dict:
    """Build the evidence pack of job ``token`` (too large for a request); progress is in the job."""
    job = pack_jobs.run_job(token)
    return {"state": job.get("state"), "done": job.get("done"), "total": job.get("total")}


@shared_task(
    name="orders.fetch_fx_rates",
    autoretry_for=(OSError,),
    retry_backoff=300,
    max_retries=5,
)
def fetch_fx_rates() -> dict:
    """Load the ECB's daily reference rates from ``SHOPOPS_FX_URL`` (a network error retries).

    It takes no argument: where it fetches from is the deployment's setting, never a schedule
    row's (a row given arguments fails with ``TypeError`` instead of being followed).
    """
    return rates.fetch_daily_rates().as_dict()


@shared_task(name="orders.sync_platforms", ignore_result=True)
def sync_platforms() -> int:
    """Beat's pass over the platforms: one ``orders.sync_store`` task per connected store, so that
    one store's outage (its retries, its timeouts) never holds up another. Takes no argument:
    the gateways are the deployment's settings, never a schedule row's."""
    stores = sync.connected_stores()
    expires = 5 * 60  # a store's task left in the queue longer than the schedule's interval is dropped
    for store in stores:
        sync_store.apply_async(args=(store.pk,), expires=expires)
    return len(stores)


@shared_task(name="orders.sync_store")
def sync_store(store_id: int) -> dict:
    """One pass of the store ``store_id`` (docs/platforms.md); a store another pass holds is skipped."""
    found = sync.connected_stores_by_id([store_id])
    if not found:
        return {"store": store_id, "skipped": "not connected"}
    report = sync.run_pass(found[0])
    return {"store": report.store, "ok": report.ok, "skipped": report.skipped, "counts": dict(report.counts)}


@shared_task(name="orders.file_supplier_refund", ignore_result=True)
def file_supplier_refund(filing_id: int) -> str:
    """One attempt at filing a supplier refund on 1688 (``orders.platforms.filing``): handed over
    after the commit that recorded it, and again after a failure a later try may fix. A duplicate
    message, or one for a request another worker holds, does nothing (the claim)."""
    return filing.file_request(int(filing_id))
