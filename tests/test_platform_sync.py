"""The AliExpress pull (issue 22): one pass per store against the fake gateway over real HTTP.

Orders go through the CSV import's rules (new, updated with one ``imported`` event listing old
and new values, staff corrections kept, frozen money refused in words), statuses map as
docs/platforms.md says, disputes open or update a buyer dispute, and a pass that fails keeps what
it finished and resumes there.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from evidence.models import Communication
from orders import workflow
from orders.models import Order, OrderEvent, PlatformDispute, Status, SyncState
from orders.platforms.common import pacific_text
from orders.platforms.fake import fake_order
from tests.factories import default_store
from tests.platform_support import AE_TOKEN, connect, fake_gateways, run  # noqa: F401 (the fixture "fake")

pytestmark = pytest.mark.django_db

ID = "8100000000000001"


@pytest.fixture
def store(fake):
    store = default_store()
    connect(store)
    return store


def ago(minutes: float) -> datetime:
    return timezone.now() - timedelta(minutes=minutes)


# --- orders --------------------------------------------------------------------------------------


def test_a_pass_creates_the_orders_changed_since_the_last_pass_with_one_imported_event(fake, store):
    # given
    fake.put_order(AE_TOKEN, fake_order(ID, amount="11.99", modified=ago(5)))
    fake.put_order(AE_TOKEN, fake_order("8100000000000002", status="PLACE_ORDER_SUCCESS", modified=ago(5)))
    # when
    report = run(store)
    # then
    assert report.ok, report.error
    assert (report.counts["new"], report.counts["invalid"]) == (2, 0)
    order = Order.objects.get(platform_order_id=ID)
    assert (order.store, order.status, order.platform_status) == (
        store,
        Status.PAID,
        "WAIT_SELLER_SEND_GOODS",
    )
    assert (order.total_amount, order.currency, order.sku.code, order.buyer_name) == (
        Decimal("11.99"),
        "USD",
        "SKU-PHC-001",
        "Maria Garcia",
    )
    event = order.events.get()
    assert (event.transition, event.actor, event.data["source"]) == ("imported", None, "AliExpress")
    assert Order.objects.get(platform_order_id="8100000000000002").status == Status.AWAITING_PAYMENT
    state = SyncState.objects.get(store=store)
    assert state.last_good_pass_at is not None and state.cursor == {} and state.last_error == ""


def test_order_dates_are_us_pacific_wall_time_with_daylight_saving():
    # given: 2024-07-01 10:00 PDT (UTC-7) and 2024-01-15 10:00 PST (UTC-8)
    from orders.platforms.common import from_pacific

    # then
    assert from_pacific("2024-07-01 10:00:00") == datetime(2024, 7, 1, 17, 0, tzinfo=UTC)
    assert from_pacific("2024-01-15 10:00:00") == datetime(2024, 1, 15, 18, 0, tzinfo=UTC)
    assert pacific_text(datetime(2024, 7, 1, 17, 0, tzinfo=UTC)) == "2024-07-01 10:00:00"


def test_a_change_is_one_imported_event_with_old_and_new_values_and_the_mark_moves_on(fake, store):
    # given
    fake.put_order(AE_TOKEN, fake_order(ID, modified=ago(30)))
    run(store)
    fake.change_order(
        AE_TOKEN,
        ID,
        at=ago(3),
        order_status="WAIT_BUYER_ACCEPT_GOODS",
        gmt_send_goods_time=pacific_text(ago(4)),
    )
    # when
    report = run(store)
    # then
    assert report.counts["updated"] == 1, report.problems
    order = Order.objects.get(platform_order_id=ID)
    assert order.status == Status.SHIPPED
    assert order.tracking_number == f"LP{ID}"  # from the order's detail
    imported = order.events.filter(transition="imported").order_by("id").last()
    assert imported.data["platform_status"] == {
        "old": "WAIT_SELLER_SEND_GOODS",
        "new": "WAIT_BUYER_ACCEPT_GOODS",
    }
    assert order.events.filter(transition="mark_shipped").count() == 1
    # and a third pass over the same data changes nothing
    events = OrderEvent.objects.count()
    again = run(store)
    assert (again.counts["updated"], again.counts["new"]) == (0, 0)
    assert OrderEvent.objects.count() == events


def test_a_staff_correction_is_kept_and_frozen_money_is_refused_in_words(fake, store):
    # given
    fake.put_order(AE_TOKEN, fake_order(ID, modified=ago(30), buyer="Maria Garcia"))
    run(store)
    order = Order.objects.get(platform_order_id=ID)
    workflow.correct_contact(order, by=None, buyer_name="María García López", note="as on her passport")
    workflow.create_refund(
        order, by=None, direction="to_buyer", amount="1.00", reason="goodwill", idempotency_key="test-refund"
    )
    fake.change_order(
        AE_TOKEN,
        ID,
        at=ago(3),
        buyer_signer_fullname="M. Garcia",
        pay_amount={"amount": "9.99", "currency_code": "USD"},
    )
    # when
    report = run(store)
    # then
    order.refresh_from_db()
    assert order.buyer_name == "María García López"
    assert order.total_amount == Decimal("2.35")
    assert report.counts["refused"] == 1
    assert "never changes amount paid" in report.problems[0]["problem"] and report.problems[0]["order"] == ID


def test_a_buyers_cancellation_request_arrives_as_one(fake, store):
    # given
    fake.put_order(AE_TOKEN, fake_order(ID, modified=ago(30)))
    run(store)
    fake.change_order(AE_TOKEN, ID, at=ago(3), order_status="IN_CANCEL")
    # when
    report = run(store)
    # then
    order = Order.objects.get(platform_order_id=ID)
    assert order.status == Status.CANCEL_REQUESTED, report.problems
    assert report.counts["cancellations"] == 1
    message = Communication.objects.get(order=order)
    assert (message.counterparty, message.direction, message.channel) == (
        "buyer",
        "inbound",
        "aliexpress_message",
    )
    # and the next change of that order (still IN_CANCEL) neither refuses the row nor asks again
    fake.change_order(AE_TOKEN, ID, at=ago(2), buyer_signer_fullname="Maria G.")
    report = run(store)
    order.refresh_from_db()
    assert (order.status, order.buyer_name, report.counts["refused"]) == (
        Status.CANCEL_REQUESTED,
        "Maria G.",
        0,
    )
    assert order.events.filter(transition="request_cancellation").count() == 1


def test_a_finished_order_arrives_completed_from_its_own_query(fake, store):
    # given: FINISH is only listed when asked for
    fake.put_order(AE_TOKEN, fake_order(ID, status="FINISH", modified=ago(5)))
    # when
    report = run(store)
    # then
    assert report.ok
    assert Order.objects.get(platform_order_id=ID).status == Status.COMPLETED
    assert fake.calls("aliexpress", "aliexpress.solution.order.get") >= 2


def test_an_order_that_ended_unpaid_is_closed_unpaid(fake, store):
    fake.put_order(AE_TOKEN, fake_order(ID, status="PLACE_ORDER_SUCCESS", modified=ago(30)))
    run(store)
    fake.change_order(AE_TOKEN, ID, at=ago(3), order_status="FINISH", end_reason="buyer_pay_timeout")
    run(store)
    order = Order.objects.get(platform_order_id=ID)
    assert (order.status, order.close_reason) == (Status.CLOSED, "payment_timeout")


def test_orders_of_another_store_are_never_moved(fake, store):
    from tests.factories import OrderFactory, StoreFactory

    other = StoreFactory(code="eu")
    OrderFactory(platform_order_id=ID, store=other)
    fake.put_order(AE_TOKEN, fake_order(ID, modified=ago(5)))
    report = run(store)
    assert Order.objects.get(platform_order_id=ID).store == other
    assert report.counts["refused"] == 1 and "never moves to another store" in report.problems[0]["problem"]


def test_many_pages_are_read_and_each_order_is_written_once(fake, store, settings):
    settings.SHOPOPS_SYNC_PAGE_SIZE = 10
    for n in range(35):
        fake.put_order(AE_TOKEN, fake_order(str(8100000000000100 + n), modified=ago(5)))
    report = run(store)
    assert (report.counts["pages"], report.counts["new"]) == (5, 35)  # 4 pages, then FINISH's one
    assert Order.objects.count() == 35


# --- disputes -------------------------------------------------------------------------------------


def _issue(issue_id: str = "9100000000000001", status: str = "processing") -> dict:
    return {
        "issue_id": int(issue_id),
        "order_id": int(ID) + 1_000_000_000_000,
        "parent_order_id": int(ID),
        "buyer_login_id": "us000001",
        "issue_status": status,
        "gmt_create": pacific_text(ago(60)),
        "gmt_modified": pacific_text(ago(10)),
        "reason_english": "Item not as described",
    }


def test_a_dispute_opens_a_buyer_dispute_with_the_platforms_id_and_deadline(fake, store):
    # given: a shipped order, in dispute, with 5 days left
    left = 5 * 24 * 3600 * 1000
    fake.put_order(AE_TOKEN, fake_order(ID, status="IN_ISSUE", modified=ago(5), timeout_left_time=left))
    fake.put_issue(AE_TOKEN, _issue())
    # when
    report = run(store)
    # then
    assert report.counts["disputes_opened"] == 1, report.problems
    order = Order.objects.get(platform_order_id=ID)
    assert (order.status, order.platform_reference) == (Status.DISPUTED, "9100000000000001")
    dispute = PlatformDispute.objects.get()
    assert dispute.order == order and dispute.reason == "Item not as described"
    assert abs(dispute.deadline - (timezone.now() + timedelta(days=5))) < timedelta(minutes=5)
    # when the platform closes it
    fake.put_issue(AE_TOKEN, _issue(status="finish"))
    report = run(store)
    # then the dispute is updated, once, with an event naming the change
    dispute.refresh_from_db()
    assert dispute.status == "finish" and report.counts["disputes_updated"] == 1
    assert order.events.filter(transition="platform_dispute").count() == 1
    assert run(store).counts["disputes_updated"] == 0


def test_a_dispute_of_an_order_shopops_does_not_hold_is_a_problem_not_a_failure(fake, store):
    fake.put_issue(AE_TOKEN, _issue())
    report = run(store)
    assert report.ok and not PlatformDispute.objects.exists()
    assert "does not hold" in report.problems[0]["problem"]
