"""Hand-offs that reach people (issue 23, part 2): when work waits on a group, the people of that
group who may do it on the order's store are told once — an email each, and one message in the
team chat (a real loopback robot that checks the DingTalk signature) — through the outbox:
recorded with the step, delivered after commit, retried, never twice. A person may choose one
email a day instead (the daily digest)."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from orders import delivery, jobs, workflow
from orders.models import (
    Notification,
    NotificationChannel,
    NotificationStatus,
    NotificationTemplate,
    Status,
)
from orders.staff_webhook import signed_url
from orders.workflow import handoffs
from orders.workflow import team as team_flow
from orders.workflow.feedback import assign_followup, record_feedback
from shopops.errors import Refused
from tests.concurrency_support import wait_until
from tests.factories import OrderFactory, RefundFactory, StoreFactory, default_store, staff
from tests.webhook_support import start_robot, stop_robot
from tests.workflow_support import say

pytestmark = pytest.mark.django_db


@pytest.fixture
def robot(settings):
    """The team chat: a robot on loopback that checks the signature."""
    found = start_robot(secret="SECabc+/=secret")
    settings.SHOPOPS_STAFF_WEBHOOK_URL = found.url
    settings.SHOPOPS_STAFF_WEBHOOK_SECRET = found.secret
    settings.SHOPOPS_STAFF_WEBHOOK_TIMEOUT = 5
    settings.SHOPOPS_SITE_URL = "https://shopops.example.com"
    yield found
    stop_robot(found)


@pytest.fixture
def team():
    """Store main: an operator, two supervisors, Finance and an Analyst; store B: a supervisor."""
    other = StoreFactory(code="B", name="Store B")
    return {
        "ana": staff("Operator", "ana"),
        "sue": staff("Supervisor", "sue"),
        "sam": staff("Supervisor", "sam"),
        "fin": staff("Finance", "fin"),
        "ann": staff("Analyst", "ann"),
        "otto": staff("Supervisor", "otto", stores=[other]),
        "other": other,
    }


def consented(**fields):
    """An order whose buyer agreed to cancel (the consent recorded): ready for the operator."""
    order = OrderFactory(status=Status.CANCEL_REQUESTED, platform_order_id="8100000000000777", **fields)
    say(order, kind="consent")
    return order


def outbox(order=None, **filters):
    rows = Notification.objects.filter(template=NotificationTemplate.STAFF_HANDOFF, **filters)
    return rows.filter(order=order) if order is not None else rows


def deliver_all() -> dict:
    return delivery.deliver_many(Notification.objects.values_list("pk", flat=True))


# --- who is told, once ---------------------------------------------------------------------------


def test_a_refund_to_confirm_tells_the_stores_supervisors_by_email_and_the_team_chat_once(
    team, robot, messages
):
    order = consented()
    workflow.record_buyer_consent(order, by=team["ana"], reason="buyer_cancelled")

    emails = outbox(order, channel=NotificationChannel.EMAIL)
    assert sorted(emails.values_list("recipient", flat=True)) == [
        "sam@shopops.example",
        "sue@shopops.example",
    ]
    assert outbox(order, channel=NotificationChannel.WEBHOOK).count() == 1

    outcomes = deliver_all()
    assert {o.outcome for o in outcomes.values()} == {"sent"}
    assert sorted(m.to[0] for m in mail.outbox) == ["sam@shopops.example", "sue@shopops.example"]
    message = next(m for m in mail.outbox if m.to == ["sue@shopops.example"])
    assert message.subject == "[Shopops] A refund to confirm: order 8100000000000777 (main)"
    assert "Hello sue," in message.body
    assert "Next step: Confirm refund and close." in message.body
    assert f"https://shopops.example.com/admin/orders/order/{order.pk}/change/" in message.body

    # The chat got one message naming the order, the store, what waits, who, and the link.
    assert len(robot.messages) == 1
    text = robot.messages[0]
    assert text.startswith("[Shopops] A refund to confirm: order 8100000000000777, store main (Main store)")
    assert "For: sam, sue" in text
    assert f"https://shopops.example.com/admin/orders/order/{order.pk}/change/" in text
    body = robot.requests[0].body
    assert body == {"msgtype": "text", "text": {"content": text}}

    # Delivering again sends nothing more; recording the same hand-off again records nothing.
    assert {o.outcome for o in deliver_all().values()} == {"skipped"}
    order.refresh_from_db()
    handoffs.after_move(order)
    assert outbox(order).count() == 3
    assert len(mail.outbox) == 2 and len(robot.requests) == 1


def test_the_chat_message_is_signed_the_dingtalk_way(team, robot, messages):
    workflow.record_buyer_consent(consented(), by=team["ana"], reason="buyer_cancelled")
    deliver_all()
    request = robot.requests[0]
    assert set(request.query) == {"access_token", "timestamp", "sign"}
    assert robot.signature_ok(request.query)
    assert request.headers["content-type"].startswith("application/json")
    assert robot.messages  # the robot accepted it: a wrong signature is refused (below)


def test_a_wrong_secret_is_a_permanent_failure_shown_on_the_row(team, robot, messages, settings):
    settings.SHOPOPS_STAFF_WEBHOOK_SECRET = "not-the-robots-secret"
    workflow.record_buyer_consent(consented(), by=team["ana"], reason="buyer_cancelled")
    deliver_all()
    chat = outbox(channel=NotificationChannel.WEBHOOK).get()
    assert chat.status == NotificationStatus.FAILED
    assert "310000" in chat.last_error and "sign not match" in chat.last_error
    assert robot.messages == []
    assert len(robot.requests) == 1  # not retried: retrying would only repeat the refusal


def test_the_signature_helper_adds_timestamp_and_sign_to_the_query():
    url = signed_url("https://oapi.dingtalk.com/robot/send?access_token=t", "s3cret", now=1_700_000_000.123)
    assert url.startswith("https://oapi.dingtalk.com/robot/send?access_token=t&timestamp=1700000000123&sign=")
    assert signed_url("https://example.com/hook", "", now=1.0) == "https://example.com/hook"
    assert "?timestamp=" in signed_url("https://example.com/hook", "s", now=1.0)


def test_a_chat_outage_is_retried_and_the_message_arrives_once(team, robot, messages, settings):
    settings.SHOPOPS_NOTIFICATION_RETRY_SECONDS = 0
    robot.fail = 1
    workflow.record_buyer_consent(consented(), by=team["ana"], reason="buyer_cancelled")
    chat = outbox(channel=NotificationChannel.WEBHOOK).get()
    assert delivery.deliver(chat.pk).outcome == "retry"
    chat.refresh_from_db()
    assert chat.status == NotificationStatus.PENDING and "503" in chat.last_error
    assert delivery.deliver(chat.pk).outcome == "sent"
    assert delivery.deliver(chat.pk).outcome == "skipped"
    assert len(robot.requests) == 2
    assert len(robot.messages) == 1
    # Both attempts carried the same key, for a relay that de-duplicates.
    assert robot.requests[0].headers["idempotency-key"] == robot.requests[1].headers["idempotency-key"]


def test_without_a_webhook_url_only_emails_are_recorded(team, messages, settings):
    settings.SHOPOPS_STAFF_WEBHOOK_URL = ""
    order = consented()
    workflow.record_buyer_consent(order, by=team["ana"], reason="buyer_cancelled")
    assert set(outbox(order).values_list("channel", flat=True)) == {NotificationChannel.EMAIL}


def test_the_assignee_alone_is_told_when_they_may_take_the_step(team, robot, messages):
    """A supervisor handling the order is told; the other supervisor is not."""
    order = consented(assignee=team["sue"])
    workflow.record_buyer_consent(order, by=team["sue"], reason="buyer_cancelled")
    assert list(outbox(order, channel="email").values_list("recipient", flat=True)) == ["sue@shopops.example"]


def test_nobody_of_another_store_finance_or_analysts_is_told(team, robot, messages):
    order = consented()
    workflow.record_buyer_consent(order, by=team["ana"], reason="buyer_cancelled")
    told = set(outbox(order, channel="email").values_list("recipient", flat=True))
    assert not told & {
        "otto@shopops.example",
        "fin@shopops.example",
        "ann@shopops.example",
        "ana@shopops.example",
    }


def test_a_refused_step_records_no_hand_off(team, robot):
    order = OrderFactory(status=Status.CANCEL_REQUESTED)  # no consent recorded
    with pytest.raises(Refused):
        workflow.record_buyer_consent(order, by=team["ana"], reason="buyer_cancelled")
    assert not outbox().exists()


def test_a_dispute_to_resolve_is_handed_to_the_supervisors(team, robot, messages):
    order = OrderFactory(status=Status.SHIPPED, platform_order_id="8100000000000888")
    workflow.open_buyer_dispute(order, by=team["ana"], reference="D-1")
    deliver_all()
    assert sorted(m.to[0] for m in mail.outbox) == ["sam@shopops.example", "sue@shopops.example"]
    assert mail.outbox[0].subject == "[Shopops] A dispute to resolve: order 8100000000000888 (main)"
    assert robot.messages[0].startswith("[Shopops] A dispute to resolve: order 8100000000000888")


# --- a supplier's answer due: the periodic pass ------------------------------------------------------


def test_a_supplier_answer_due_is_handed_off_once_by_the_pass(team, robot, messages):
    order = OrderFactory(status=Status.SUPPLIER_REFUND_PENDING, platform_order_id="8100000000000999")
    refund = RefundFactory(order=order, supplier=True, respond_by=timezone.now() + timedelta(hours=5))
    later = OrderFactory(status=Status.SUPPLIER_REFUND_PENDING)
    RefundFactory(order=later, supplier=True, respond_by=timezone.now() + timedelta(days=3))  # not due yet

    result = jobs.hand_off_supplier_answers()
    assert result.done == 1
    assert outbox(order).filter(refund=refund).count() == 3  # two supervisors and the chat
    assert not outbox(later).exists()
    assert jobs.hand_off_supplier_answers().done == 0  # told once
    deliver_all()
    assert {m.subject for m in mail.outbox} == {
        "[Shopops] A supplier answer due: order 8100000000000999 (main)"
    }
    assert "The supplier must answer by" in robot.messages[0]
    assert outbox().count() == 3


# --- a follow-up given to someone --------------------------------------------------------------------


def test_a_follow_up_assigned_tells_the_assignee(team, robot, messages):
    order = OrderFactory(status=Status.COMPLETED, platform_order_id="8100000000000555")
    feedback = record_feedback(order, by=None, rating=1, comment="broken")
    assign_followup(feedback, by=team["sue"], assignee=team["ana"])
    deliver_all()
    assert [m.to for m in mail.outbox] == [["ana@shopops.example"]]
    assert mail.outbox[0].subject == "[Shopops] A feedback follow-up to handle: order 8100000000000555 (main)"
    assert f"/admin/orders/feedback/{feedback.pk}/change/" in mail.outbox[0].body
    assert "For: ana" in robot.messages[0]


# --- the daily digest --------------------------------------------------------------------------------


def test_a_person_who_chose_the_digest_gets_one_email_a_day_listing_their_hand_offs(team, robot, messages):
    team_flow.set_preference(by=team["sue"], handoffs="digest")
    first = consented()
    workflow.record_buyer_consent(first, by=team["ana"], reason="buyer_cancelled")
    second = OrderFactory(status=Status.SHIPPED, platform_order_id="8100000000000888")
    workflow.open_buyer_dispute(second, by=team["ana"], reference="D-2")

    held = outbox(channel="email", recipient="sue@shopops.example")
    assert set(held.values_list("status", flat=True)) == {NotificationStatus.HELD}
    deliver_all()
    assert [m.to for m in mail.outbox] == [["sam@shopops.example"], ["sam@shopops.example"]]
    assert len(robot.messages) == 2  # the chat hears of each as it happens

    mail.outbox.clear()
    assert jobs.send_staff_digests().done == 2
    deliver_all()
    assert [m.to for m in mail.outbox] == [["sue@shopops.example"]]
    digest = mail.outbox[0]
    assert digest.subject == "[Shopops] 2 pieces of work handed to you"
    assert "A refund to confirm: order 8100000000000777 (main)" in digest.body
    assert "A dispute to resolve: order 8100000000000888 (main)" in digest.body
    assert set(held.values_list("status", flat=True)) == {NotificationStatus.DIGESTED}

    # Nothing new: no second digest.
    assert jobs.send_staff_digests().done == 0
    assert Notification.objects.filter(template=NotificationTemplate.STAFF_DIGEST).count() == 1


def test_the_digest_and_the_emails_speak_the_persons_language(team, robot, messages):
    team_flow.set_preference(by=team["sue"], handoffs="each", language="zh-hans")
    workflow.record_buyer_consent(consented(), by=team["ana"], reason="buyer_cancelled")
    deliver_all()
    chinese = next(m for m in mail.outbox if m.to == ["sue@shopops.example"])
    assert "您好" in chinese.body and "8100000000000777" in chinese.body
    english = next(m for m in mail.outbox if m.to == ["sam@shopops.example"])
    assert "Hello sam," in english.body


def test_a_preference_is_a_persons_own_and_checked(team):
    with pytest.raises(Refused, match="not one of"):
        team_flow.set_preference(by=team["sue"], handoffs="weekly")
    with pytest.raises(Refused):
        team_flow.set_preference(by=None, handoffs="digest")
    assert team_flow.set_preference(by=team["sue"], handoffs="digest").user == team["sue"]


def test_my_notifications_page_saves_the_choice(client, team):
    client.force_login(team["fin"])
    url = "/admin/orders/team/notifications/"
    page = client.get(url)
    assert page.status_code == 200 and "fin@shopops.example" in page.content.decode()
    assert client.post(url, {"handoffs": "digest", "language": "zh-hans"}).status_code == 302
    team["fin"].staff_preference.refresh_from_db()
    assert (team["fin"].staff_preference.handoffs, team["fin"].staff_preference.language) == (
        "digest",
        "zh-hans",
    )
    assert client.post(url, {"handoffs": "hourly"}).status_code == 400


# --- through the worker, after commit ---------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_the_worker_delivers_the_hand_off_after_the_step_commits(celery_worker, messages, robot, settings):
    ana = staff("Operator", "ana")
    staff("Supervisor", "sue")
    default_store()
    order = consented()
    workflow.record_buyer_consent(order, by=ana, reason="buyer_cancelled")
    # The worker thread runs the deliveries the step handed over when it committed.
    wait_until(
        lambda: set(outbox(order).values_list("status", flat=True)) == {"sent"}, what="the hand-off sent"
    )
    assert [m.to for m in mail.outbox] == [["sue@shopops.example"]]
    assert len(robot.messages) == 1 and "8100000000000777" in robot.messages[0]


def test_the_passes_cost_the_same_for_two_items_or_twenty(team, robot):
    """A constant number of queries per batch: never a query per refund or per person."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def due_refunds(n):
        for _ in range(n):
            order = OrderFactory(status=Status.SUPPLIER_REFUND_PENDING)
            RefundFactory(order=order, supplier=True, respond_by=timezone.now() + timedelta(hours=1))

    team_flow.set_preference(by=team["sue"], handoffs="digest")
    team_flow.set_preference(by=team["sam"], handoffs="digest")
    counts = []
    for n in (2, 20):
        due_refunds(n)
        with CaptureQueriesContext(connection) as handed:
            assert jobs.hand_off_supplier_answers().done == n
        with CaptureQueriesContext(connection) as digested:
            assert jobs.send_staff_digests().done == 2 * n
        counts.append((len(handed), len(digested)))
    assert counts[0] == counts[1]
