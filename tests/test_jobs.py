"""The periodic passes (orders.jobs), run directly as beat's tasks would run them."""

import threading
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core import mail
from django.db import connection
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from evidence.models import Communication, Kind
from orders import delivery, jobs, workflow
from orders.models import (
    Notification,
    NotificationStatus,
    Order,
    OrderEvent,
    Status,
)
from orders.workflow import chasing
from shopops.celery import app
from shopops.errors import NotPermitted

from .factories import (
    NotificationFactory,
    OrderFactory,
    RefundFactory,
    SupplierOrderFactory,
    UserFactory,
    staff,
)

pytestmark = pytest.mark.django_db


def supplier_refund(
    *, requested_hours_ago: float = 30, respond_in_hours: float = 48, contact="chenguang@example.cn"
):
    order = OrderFactory(status=Status.SUPPLIER_REFUND_PENDING, close_reason="quality_issue")
    supplier_order = SupplierOrderFactory(order=order, supplier_contact=contact)
    now = timezone.now()
    refund = RefundFactory(
        order=order,
        supplier=True,
        amount=Decimal("120.00"),
        reason="质量问题, 买家已退货",
        reference=f"TK{order.pk:06d}",
        idempotency_key=f"supplier-refund-{order.pk}",
        requested_at=now - timedelta(hours=requested_hours_ago),
        respond_by=now + timedelta(hours=respond_in_hours),
    )
    return refund, supplier_order


def reminders(refund):
    return Communication.objects.filter(order=refund.order, counterparty="supplier", kind=Kind.REMINDER)


# --- supplier chasing ----------------------------------------------------------------------------


def test_two_chase_passes_in_one_interval_send_one_reminder_per_refund(settings):
    # given
    settings.SHOPOPS_SUPPLIER_CHASE_HOURS = 24
    first, contact_1 = supplier_refund()
    second, _ = supplier_refund(contact="wang@example.cn")
    fresh, _ = supplier_refund(requested_hours_ago=2)  # asked 2 h ago: not due yet

    # when
    result_1 = jobs.chase_supplier_refunds()
    result_2 = jobs.chase_supplier_refunds(timezone.now() + timedelta(hours=1))

    # then
    assert result_1.done == 2
    assert result_2.done == 0
    for refund in (first, second):
        refund.refresh_from_db()
        assert refund.chase_count == 1
        assert refund.last_chased_at is not None
        assert reminders(refund).count() == 1
    assert Notification.objects.filter(template="supplier_reminder").count() == 2
    note = Notification.objects.get(refund=first)
    assert note.key == f"refund:{first.pk}:email:supplier_reminder:1"
    assert note.recipient == contact_1.supplier_contact
    assert note.language == "zh-hans"
    assert "退款催办" in note.subject and contact_1.supplier_order_id in note.subject
    assert "第 1 次提醒" in note.body
    # the evidence on the order is the text that is sent
    comm = reminders(first).get()
    assert comm.channel == "email" and comm.direction == "outbound" and comm.recorded_by is None
    assert note.body.strip() in comm.body
    fresh.refresh_from_db()
    assert fresh.chase_count == 0 and not reminders(fresh).exists()
    # each chase is one history event on the order, by the system
    chased = OrderEvent.objects.filter(transition="chase_supplier")
    assert sorted(chased.values_list("order_id", "actor", "data__chase_number")) == sorted(
        [(first.order_id, None, 1), (second.order_id, None, 1)]
    )


def test_a_pass_after_the_interval_sends_the_next_reminder(settings):
    # given
    settings.SHOPOPS_SUPPLIER_CHASE_HOURS = 24
    refund, _ = supplier_refund()
    jobs.chase_supplier_refunds()

    # when
    result = jobs.chase_supplier_refunds(timezone.now() + timedelta(hours=24, minutes=1))

    # then
    assert result.done == 1
    refund.refresh_from_db()
    assert refund.chase_count == 2
    assert reminders(refund).count() == 2
    keys = sorted(Notification.objects.filter(refund=refund).values_list("key", flat=True))
    assert keys == [
        f"refund:{refund.pk}:email:supplier_reminder:1",
        f"refund:{refund.pk}:email:supplier_reminder:2",
    ]
    assert "第 2 次提醒" in Notification.objects.get(key=keys[1]).body


def test_the_supplier_reminder_email_goes_out_in_chinese(settings):
    # given
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    refund, supplier_order = supplier_refund()
    jobs.chase_supplier_refunds()
    note = Notification.objects.get(refund=refund)

    # when
    sent = delivery.deliver(note.pk)

    # then
    assert sent.outcome == "sent"
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert email.to == [supplier_order.supplier_contact]
    assert email.subject.startswith("【退款催办】")
    assert "请于" in email.body and refund.reference in email.body


def test_refunds_no_longer_requested_or_without_contact_are_not_chased():
    # given
    answered, _ = supplier_refund()
    workflow.record_supplier_approval(answered.order, by=None)
    supplier_refund(contact="")

    # when
    result = jobs.chase_supplier_refunds()

    # then
    assert result.done == 0
    assert result.refused == 1  # the one without a contact: logged, nothing recorded
    assert not Notification.objects.exists()
    assert not Communication.objects.exists()


def test_chasing_by_hand_needs_the_permission_and_records_who():
    # given
    refund, _ = supplier_refund()

    # when / then: an operator may not, a supervisor may
    with pytest.raises(NotPermitted):
        chasing.chase_supplier_refund(refund, by=staff("Operator"))
    assert not reminders(refund).exists()
    supervisor = staff("Supervisor")
    chased = chasing.chase_supplier_refund(refund, by=supervisor)

    assert chased.chase_count == 1
    assert reminders(refund).get().recorded_by == supervisor
    assert OrderEvent.objects.get(order=refund.order, transition="chase_supplier").actor == supervisor


@pytest.mark.postgres
def test_parallel_chase_passes_send_one_reminder_per_refund(transactional_db):
    # given: 30 refunds due, and two beats (or workers) running the chase at the same moment
    refunds = [supplier_refund()[0] for _ in range(30)]
    barrier = threading.Barrier(2)
    results = []

    def run():
        try:
            barrier.wait()
            results.append(jobs.chase_supplier_refunds())
        finally:
            connection.close()

    # when
    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    # then
    assert sum(r.done for r in results) == 30
    for refund in refunds:
        refund.refresh_from_db()
        assert refund.chase_count == 1
        assert reminders(refund).count() == 1
    assert Notification.objects.filter(template="supplier_reminder").count() == 30


# --- overdue digest ------------------------------------------------------------------------------


def test_overdue_refunds_produce_one_digest_to_the_supervisors(settings):
    # given
    settings.SHOPOPS_SUPERVISOR_EMAILS = ["lead@shop.example", "boss@shop.example"]
    late_1, so_1 = supplier_refund(respond_in_hours=-5)
    late_2, _ = supplier_refund(respond_in_hours=-30)
    on_time, _ = supplier_refund(respond_in_hours=10)

    # when
    first = jobs.report_overdue_supplier_refunds()
    again = jobs.report_overdue_supplier_refunds(timezone.now() + timedelta(hours=1))

    # then
    assert first.done == 2
    assert again.done == 0
    digests = Notification.objects.filter(template="overdue_digest")
    assert sorted(digests.values_list("recipient", flat=True)) == ["boss@shop.example", "lead@shop.example"]
    for refund in (late_1, late_2):
        refund.refresh_from_db()
        assert refund.overdue_notified_at is not None
    on_time.refresh_from_db()
    assert on_time.overdue_notified_at is None
    flagged = OrderEvent.objects.filter(transition="supplier_refund_overdue")
    assert sorted(flagged.values_list("order_id", "actor", "data__refund")) == sorted(
        [(late_1.order_id, None, late_1.pk), (late_2.order_id, None, late_2.pk)]
    )
    # what the supervisor reads
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    delivery.deliver(digests.get(recipient="lead@shop.example").pk)
    email = mail.outbox[0]
    assert email.subject == "2 supplier refunds are overdue"
    assert late_1.order.platform_order_id in email.body and late_2.order.platform_order_id in email.body
    assert so_1.supplier_order_id in email.body
    assert on_time.order.platform_order_id not in email.body
    assert "ask the platform (1688) to intervene" in email.body


def test_a_refund_overdue_later_gets_its_own_digest_without_repeating_the_old_ones(settings):
    # given
    settings.SHOPOPS_SUPERVISOR_EMAILS = ["lead@shop.example"]
    supplier_refund(respond_in_hours=-5)
    jobs.report_overdue_supplier_refunds()
    new, _ = supplier_refund(respond_in_hours=2)

    # when
    result = jobs.report_overdue_supplier_refunds(timezone.now() + timedelta(hours=3))

    # then
    assert result.done == 1
    digests = list(Notification.objects.filter(template="overdue_digest").order_by("pk"))
    assert len(digests) == 2
    assert [r["order_id"] for r in digests[1].context["refunds"]] == [new.order.platform_order_id]


def test_digest_goes_to_active_supervisors_by_default(settings):
    # given
    settings.SHOPOPS_SUPERVISOR_EMAILS = []
    UserFactory(username="sup-a", email="a@shop.example", groups=["Supervisor"])
    UserFactory(username="sup-off", email="off@shop.example", groups=["Supervisor"], is_active=False)
    UserFactory(username="op", email="op@shop.example", groups=["Operator"])
    supplier_refund(respond_in_hours=-1)

    # when
    jobs.report_overdue_supplier_refunds()

    # then
    assert list(Notification.objects.values_list("recipient", flat=True)) == ["a@shop.example"]


def test_without_any_supervisor_address_nothing_is_flagged(settings):
    settings.SHOPOPS_SUPERVISOR_EMAILS = []
    refund, _ = supplier_refund(respond_in_hours=-1)

    result = jobs.report_overdue_supplier_refunds()

    assert result.done == 0 and result.skipped == 1
    refund.refresh_from_db()
    assert refund.overdue_notified_at is None  # reported once someone can read it
    assert not OrderEvent.objects.filter(transition="supplier_refund_overdue").exists()


# --- payment reminders and timeout ------------------------------------------------------------


def test_unpaid_order_past_the_reminder_delay_gets_one_reminder(settings):
    # given
    settings.SHOPOPS_PAYMENT_REMINDER_HOURS = 24
    settings.SHOPOPS_PAYMENT_TIMEOUT_HOURS = 72
    due = OrderFactory(placed_at=timezone.now() - timedelta(hours=25), buyer_language="zh-hans")
    recent = OrderFactory(placed_at=timezone.now() - timedelta(hours=2))

    # when
    first = jobs.send_payment_reminders()
    second = jobs.send_payment_reminders(timezone.now() + timedelta(minutes=10))

    # then
    assert first.done == 1
    assert second.done == 0
    due.refresh_from_db()
    assert due.payment_reminded_at is not None
    events = OrderEvent.objects.filter(order=due, transition="send_payment_reminder")
    assert events.count() == 1
    assert events.get().actor is None
    notes = Notification.objects.filter(order=due, template="payment_reminder")
    assert sorted(notes.values_list("channel", flat=True)) == ["email", "sms"]
    assert set(notes.values_list("language", flat=True)) == {"zh-hans"}
    recent.refresh_from_db()
    assert recent.payment_reminded_at is None
    assert not Notification.objects.filter(order=recent).exists()


def test_unpaid_order_past_the_timeout_is_closed_by_the_system(settings):
    # given
    settings.SHOPOPS_PAYMENT_TIMEOUT_HOURS = 72
    late = OrderFactory(placed_at=timezone.now() - timedelta(hours=73))
    young = OrderFactory(placed_at=timezone.now() - timedelta(hours=71))
    paid = OrderFactory(status=Status.PAID, placed_at=timezone.now() - timedelta(hours=100))

    # when
    result = jobs.close_timed_out_orders()

    # then
    assert result.done == 1
    late.refresh_from_db()
    assert late.status == Status.CLOSED
    assert late.close_reason == "payment_timeout"
    assert late.closed_by is None and late.closed_at is not None
    event = OrderEvent.objects.get(order=late)
    assert (event.transition, event.from_status, event.to_status) == (
        "close_unpaid",
        "awaiting_payment",
        "closed",
    )
    assert event.actor is None and event.reason == "payment_timeout"
    young.refresh_from_db()
    paid.refresh_from_db()
    assert young.status == Status.AWAITING_PAYMENT
    assert paid.status == Status.PAID
    # a second pass finds nothing to do
    assert jobs.close_timed_out_orders().done == 0
    assert OrderEvent.objects.filter(order=late).count() == 1


def test_a_refused_close_does_not_stop_the_pass(settings, monkeypatch):
    # given: three timed-out orders; the buyer of the second pays just as the pass reaches it
    # (after the first batch, the pass selected them all and works one order a batch)
    settings.SHOPOPS_PAYMENT_TIMEOUT_HOURS = 72
    orders = [OrderFactory(placed_at=timezone.now() - timedelta(hours=80 - i)) for i in range(3)]

    def buyer_pays_second(name, number):
        if number == 1:
            workflow.mark_paid(orders[1], by=None)

    monkeypatch.setattr(jobs, "after_batch", buyer_pays_second)

    # when
    result = jobs.close_timed_out_orders(batch_size=1)

    # then
    assert (result.done, result.refused) == (2, 1)
    statuses = [Order.objects.get(pk=o.pk).status for o in orders]
    assert statuses == [Status.CLOSED, Status.PAID, Status.CLOSED]


# --- refund arrival -------------------------------------------------------------------------------


def test_refund_arrival_check_counts_refunds_not_received(settings):
    settings.SHOPOPS_REFUND_ARRIVAL_DAYS = 7
    order = OrderFactory(status=Status.CLOSED, close_reason="buyer_cancelled", closed_at=timezone.now())
    for days, key in ((8, "late"), (2, "recent")):
        RefundFactory(
            order=order,
            succeeded=True,
            succeeded_at=timezone.now() - timedelta(days=days),
            idempotency_key=key,
        )

    assert jobs.check_refund_arrivals() == 1


# --- relay ------------------------------------------------------------------------------------------


def test_relay_takes_over_only_what_its_own_task_evidently_did_not_deliver(monkeypatch):
    # given
    order = OrderFactory()
    now = timezone.now()

    def note(key, **fields):
        return NotificationFactory(key=key, order=order, recipient="b@example.com", **fields)

    stale = note("stale", next_attempt_at=now - timedelta(minutes=5))
    note("fresh", next_attempt_at=now)  # its own task was just enqueued on commit
    abandoned = note("abandoned", status=NotificationStatus.SENDING, claimed_until=now - timedelta(seconds=1))
    note("held", status=NotificationStatus.SENDING, claimed_until=now + timedelta(minutes=4))
    note("sent", status=NotificationStatus.SENT, next_attempt_at=now - timedelta(hours=1))
    note("failed", status=NotificationStatus.FAILED, next_attempt_at=now - timedelta(hours=1))
    # The broker itself is exercised in test_outbox (Redis); here: what the relay picks.
    enqueued = []
    monkeypatch.setattr(jobs.outbox, "enqueue_many", lambda ids, **kw: enqueued.extend(ids) or True)

    # when
    count = jobs.relay_notifications(now)

    # then
    assert count == 2
    assert sorted(enqueued) == sorted([stale.pk, abandoned.pk])


def test_relay_stops_at_the_first_publish_failure(monkeypatch, settings):
    order = OrderFactory()
    old = timezone.now() - timedelta(minutes=5)
    for i in range(3):
        NotificationFactory(key=f"k{i}", order=order, recipient="b@x.example", next_attempt_at=old)
    settings.SHOPOPS_NOTIFICATION_BATCH = 1
    attempts = []
    monkeypatch.setattr(jobs.outbox, "enqueue_many", lambda ids, **kw: attempts.append(ids) and False)

    assert jobs.relay_notifications() == 0
    assert len(attempts) == 1  # the broker is down: no point hammering it 1,000 times


# --- schedules ------------------------------------------------------------------------------------


def test_beat_schedules_exist_for_every_periodic_task():
    tasks = dict(PeriodicTask.objects.filter(enabled=True).values_list("task", "name"))
    expected = {
        "orders.relay_notifications",
        "orders.send_payment_reminders",
        "orders.close_timed_out_orders",
        "orders.chase_supplier_refunds",
        "orders.report_overdue_supplier_refunds",
        "orders.check_refund_arrivals",
    }
    assert expected <= set(tasks)
    app.loader.import_default_modules()
    assert expected <= set(app.tasks)
    relay = PeriodicTask.objects.get(task="orders.relay_notifications")
    assert (relay.interval.every, relay.interval.period) == (1, "minutes")
