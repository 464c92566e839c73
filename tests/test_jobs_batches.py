"""The periodic passes work in batches: queries per batch, not per item; a pass that dies half way
leaves each batch done or not, and the next pass finishes the rest without doing anything twice.

The hook that stops a pass between batches is ``orders.jobs.after_batch``; the crash inside a
batch is a real process killed with SIGKILL in the middle of its transaction (PostgreSQL).
"""

import os
import signal
import subprocess
import sys
import textwrap
from collections import Counter
from datetime import timedelta
from pathlib import Path

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evidence import services as evidence
from evidence.models import Communication
from orders import jobs
from orders.models import Notification, NotificationStatus, Order, OrderEvent, Refund, Status
from orders.workflow import events, outbox
from shopops.errors import Refused

from .concurrency_support import wait_until
from .factories import OrderFactory
from .test_jobs import supplier_refund

BASE_DIR = Path(__file__).resolve().parent.parent

pytestmark = pytest.mark.django_db


class PassKilled(BaseException):
    """What a dying worker looks like to the pass: not an Exception it could catch and go on."""


def unpaid(n: int, *, hours_ago: float, **fields) -> list[Order]:
    placed = timezone.now() - timedelta(hours=hours_ago)
    return [OrderFactory(placed_at=placed - timedelta(seconds=i), **fields) for i in range(n)]


@pytest.fixture
def hours(settings):
    settings.SHOPOPS_PAYMENT_REMINDER_HOURS = 24
    settings.SHOPOPS_PAYMENT_TIMEOUT_HOURS = 72
    settings.SHOPOPS_SUPPLIER_CHASE_HOURS = 24


def _queries(run) -> int:
    with CaptureQueriesContext(connection) as queries:
        run()
    return len(queries)


def _reminded_once(orders: list[Order]) -> None:
    """Each order reminded once: one event, one email and one SMS, its timestamp set."""
    pks = [o.pk for o in orders]
    events_per_order = Counter(
        OrderEvent.objects.filter(transition="send_payment_reminder").values_list("order_id", flat=True)
    )
    assert {pk: events_per_order[pk] for pk in pks} == dict.fromkeys(pks, 1)
    notes = Counter(Notification.objects.filter(order_id__in=pks).values_list("order_id", "channel"))
    assert set(notes.values()) == {1} and len(notes) == 2 * len(pks)
    assert not Order.objects.filter(pk__in=pks, payment_reminded_at__isnull=True).exists()


# --- queries per batch, not per item ----------------------------------------------------------------


@pytest.mark.parametrize(
    "make, run",
    [
        (lambda n: unpaid(n, hours_ago=25), jobs.send_payment_reminders),
        (lambda n: unpaid(n, hours_ago=80), jobs.close_timed_out_orders),
        (lambda n: [supplier_refund() for _ in range(n)], jobs.chase_supplier_refunds),
    ],
    ids=["payment reminders", "payment timeout", "supplier chase"],
)
def test_a_pass_runs_the_same_queries_for_3_or_12_items_in_one_batch(hours, make, run):
    # given
    make(3)
    three = _queries(lambda: run(batch_size=50))
    make(12)

    # when
    twelve = _queries(lambda: run(batch_size=50))
    nothing_due = _queries(lambda: run(batch_size=50))
    make(12)
    four_batches = _queries(lambda: run(batch_size=3))

    # then: the queries depend on the number of batches only
    assert twelve == three
    per_batch = twelve - nothing_due
    assert four_batches == nothing_due + 4 * per_batch


def test_a_batch_of_reminders_is_a_handful_of_statements_whatever_its_size(hours):
    orders = unpaid(20, hours_ago=25)

    with CaptureQueriesContext(connection) as queries:
        result = jobs.send_payment_reminders(batch_size=100)

    assert result.done == 20
    statements = [q["sql"].split()[0].upper() for q in queries]
    # the selection, the lock, one UPDATE of the orders, the 40 outbox rows (one INSERT; on
    # PostgreSQL a COPY into a temporary table and one INSERT … SELECT) and the 20 events (one
    # INSERT; on PostgreSQL one COPY), and the savepoints around them
    assert statements.count("UPDATE") == 1
    assert len(statements) <= 12, statements
    _reminded_once(orders)


# --- a pass that dies half way -------------------------------------------------------------------


def test_a_pass_killed_between_batches_is_finished_by_the_next_without_duplicates(hours, monkeypatch):
    # given: 10 orders due a reminder, a pass of batches of 3 that dies after its second batch
    orders = unpaid(10, hours_ago=25)

    def die_after_two(name, number):
        if number == 2:
            raise PassKilled

    monkeypatch.setattr(jobs, "after_batch", die_after_two)

    # when
    with pytest.raises(PassKilled):
        jobs.send_payment_reminders(batch_size=3)

    # then: two whole batches done, nothing of the others
    assert Order.objects.filter(payment_reminded_at__isnull=False).count() == 6
    assert OrderEvent.objects.filter(transition="send_payment_reminder").count() == 6
    assert Notification.objects.count() == 12

    # when: the next pass
    monkeypatch.setattr(jobs, "after_batch", None)
    result = jobs.send_payment_reminders(batch_size=3)

    # then: it did the other four, and each order was reminded exactly once
    assert (result.done, result.skipped, result.refused, result.errors) == (4, 0, 0, 0)
    _reminded_once(orders)


def test_a_chase_killed_inside_a_batch_leaves_that_batch_undone_and_the_next_pass_does_it(hours, monkeypatch):
    # given: 7 refunds due; the pass dies in its second batch after the reminders were recorded
    refunds = [supplier_refund()[0] for _ in range(7)]
    real = events.record_events
    calls = []

    def dies_in_second_batch(*args, **kwargs):
        calls.append(1)
        written = real(*args, **kwargs)
        if len(calls) == 2:
            raise PassKilled
        return written

    monkeypatch.setattr(events, "record_events", dies_in_second_batch)
    monkeypatch.setattr("orders.workflow.chasing.record_events", dies_in_second_batch)

    # when
    with pytest.raises(PassKilled):
        jobs.chase_supplier_refunds(batch_size=3)

    # then: the first batch is whole, the second left no trace
    assert Refund.objects.filter(chase_count=1).count() == 3
    assert Notification.objects.count() == Communication.objects.count() == 3
    assert OrderEvent.objects.filter(transition="chase_supplier").count() == 3

    # when: the next pass
    monkeypatch.setattr(events, "record_events", real)
    monkeypatch.setattr("orders.workflow.chasing.record_events", real)
    result = jobs.chase_supplier_refunds(batch_size=3)

    # then: one reminder per refund, counted once
    assert result.done == 4
    for refund in refunds:
        refund.refresh_from_db()
        assert refund.chase_count == 1
    keys = Counter(Notification.objects.values_list("key", flat=True))
    assert len(keys) == 7 and set(keys.values()) == {1}
    assert Communication.objects.count() == 7
    chased = Counter(
        OrderEvent.objects.filter(transition="chase_supplier").values_list("order_id", flat=True)
    )
    assert sorted(chased) == sorted(r.order_id for r in refunds) and set(chased.values()) == {1}


def test_a_batch_that_fails_is_run_item_by_item_and_only_the_broken_item_fails(hours, monkeypatch, caplog):
    # given: 5 orders timed out, one of which breaks the close (a bug, not a refusal)
    orders = unpaid(5, hours_ago=80)
    broken = orders[2]
    real = events.record_events

    def breaks_on_one(name, entries, **kwargs):
        entries = list(entries)
        if any(order.pk == broken.pk for order, _ in entries):
            raise RuntimeError("broken order")
        return real(name, entries, **kwargs)

    monkeypatch.setattr(events, "record_events", breaks_on_one)

    # when
    result = jobs.close_timed_out_orders(batch_size=5)

    # then
    assert (result.done, result.errors) == (4, 1)
    assert Order.objects.get(pk=broken.pk).status == Status.AWAITING_PAYMENT
    assert Order.objects.filter(status=Status.CLOSED).count() == 4
    assert "batch 1 failed" in caplog.text


# --- a real worker process killed in the middle of a batch -----------------------------------------


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


# Runs one reminder pass in batches of 4, and SIGKILLs its own process inside the third batch,
# after the batch's rows were written but before its transaction commits.
_KILLED_PASS = textwrap.dedent(
    """
    import os, signal
    import django
    django.setup()
    from orders import jobs
    from orders.workflow import events, outbox

    real = events.record_events
    calls = []

    def record_events(*args, **kwargs):
        written = real(*args, **kwargs)
        calls.append(1)
        if len(calls) == 3:
            os.kill(os.getpid(), signal.SIGKILL)
        return written

    events.record_events = record_events
    with outbox.kept_from_delivery():  # what is handed to Celery is not the point here
        jobs.send_payment_reminders(batch_size=4)
    """
)


@pytest.mark.postgres
@pytest.mark.timeout(120)
def test_a_pass_process_killed_mid_batch_commits_whole_batches_and_the_next_pass_finishes(
    transactional_db, settings
):
    # given: 14 orders due a reminder (four batches of 4)
    settings.SHOPOPS_PAYMENT_REMINDER_HOURS = 24
    settings.SHOPOPS_PAYMENT_TIMEOUT_HOURS = 72
    orders = unpaid(14, hours_ago=25)
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "SECRET_KEY": "jobs-crash-test-only",
        "SHOPOPS_PAYMENT_REMINDER_HOURS": "24",
        "SHOPOPS_PAYMENT_TIMEOUT_HOURS": "72",
        "REDIS_URL": "",
    }

    # when: the pass runs in its own process and is killed in its third batch
    process = subprocess.run([sys.executable, "-c", _KILLED_PASS], cwd=BASE_DIR, env=env, timeout=90)

    # then: it died by SIGKILL with two whole batches committed, and nothing of the third
    assert process.returncode == -signal.SIGKILL
    assert Order.objects.filter(payment_reminded_at__isnull=False).count() == 8
    assert OrderEvent.objects.filter(transition="send_payment_reminder").count() == 8
    assert Notification.objects.count() == 16

    # when: the next pass
    result = jobs.send_payment_reminders(batch_size=4)

    # then
    assert result.done == 6
    _reminded_once(orders)


# --- one broker message per batch of deliveries ----------------------------------------------------


@pytest.mark.redis
@pytest.mark.timeout(120)
def test_a_reminder_pass_hands_each_batch_over_in_one_broker_message_and_all_are_sent_once(
    celery_worker, settings, monkeypatch
):
    # given: 9 unpaid orders due a reminder (18 messages), a real worker on Redis
    settings.SHOPOPS_PAYMENT_REMINDER_HOURS = 24
    settings.SHOPOPS_PAYMENT_TIMEOUT_HOURS = 72
    settings.SHOPOPS_NOTIFICATION_BATCH = 100
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    orders = unpaid(9, hours_ago=25, buyer_phone="")  # email only: SMS delivery is tested elsewhere
    published = []
    real_hand_off = outbox.hand_off

    def counting_hand_off(task_name, *args, **kwargs):
        published.append((task_name, args))
        return real_hand_off(task_name, *args, **kwargs)

    monkeypatch.setattr(outbox, "hand_off", counting_hand_off)

    # when: a pass in batches of 4 (three batches)
    result = jobs.send_payment_reminders(batch_size=4)

    # then: three broker messages, with the 4, 4 and 1 emails of each batch
    assert result.done == 9
    assert [(name, len(args[0])) for name, args in published] == [
        (outbox.DELIVER_BATCH_TASK, n) for n in (4, 4, 1)
    ]
    wait_until(
        lambda: not Notification.objects.exclude(status=NotificationStatus.SENT).exists(),
        seconds=60,
        what="the worker to deliver every reminder",
    )
    assert sorted(m.to[0] for m in mail.outbox) == sorted(o.buyer_email for o in orders)


# --- outbox rows recorded together --------------------------------------------------------------


def test_rows_recorded_together_are_written_once_and_only_the_new_ones_handed_over(
    monkeypatch, django_capture_on_commit_callbacks
):
    # given: a message already in the outbox
    order = OrderFactory()
    fields = {"template": "payment_reminder", "channel": "email", "recipient": "b@x.example", "order": order}
    old = outbox.record(key="k:old", **fields)
    handed = []
    monkeypatch.setattr(outbox, "enqueue_many", lambda ids, **kw: handed.extend(ids) or True)

    # when: a batch records it again, a new one twice, and another new one
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        with outbox.recorded_together():
            for key in ("k:old", "k:new", "k:new", "k:other"):
                outbox.record(key=key, **fields)
        with outbox.recorded_together():  # a second batch in the same transaction
            outbox.record(key="k:third", **fields)

    # then: one row per key, the old one untouched; each batch handed its new rows over once
    assert sorted(Notification.objects.values_list("key", flat=True)) == [
        "k:new",
        "k:old",
        "k:other",
        "k:third",
    ]
    new = dict(Notification.objects.values_list("key", "pk"))
    assert len(callbacks) == 2  # one hand-off per batch
    assert sorted(handed) == sorted([new["k:new"], new["k:other"], new["k:third"]])
    assert Notification.objects.get(key="k:old").pk == old.pk


def test_a_batch_that_raises_records_no_outbox_row(hours):
    order = OrderFactory()

    with pytest.raises(RuntimeError), outbox.recorded_together():
        outbox.record(
            key="k:lost", template="payment_reminder", channel="email", recipient="b@x.example", order=order
        )
        raise RuntimeError("the batch failed")

    assert not Notification.objects.exists()


def test_communications_recorded_together_are_checked_each_and_all_refused_for_one_bad_one():
    order = OrderFactory()
    good = {"order": order, "counterparty": "supplier", "channel": "email", "direction": "outbound"}
    entries = [{**good, "summary": "Reminder 1"}, {**good, "summary": "Reminder 2", "channel": "pigeon"}]

    with pytest.raises(Refused) as refused:
        evidence.record_communications(entries, by=None)

    assert refused.value.field == "channel"
    assert not Communication.objects.exists()
    assert (
        evidence.record_communications([{**good, "summary": "Reminder 1", "kind": "reminder"}], by=None) == 1
    )
    assert Communication.objects.get().kind == "reminder"
