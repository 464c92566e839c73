"""Hand-offs: the supervisor's queues on the admin index, who an order waits on, "waiting on me"."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.timesince import timesince

from evidence import services
from orders.models import Order, RefundStatus, Status
from orders.selectors.queues import QUEUES
from tests.factories import OrderFactory, RefundFactory, staff

pytestmark = pytest.mark.django_db

LIST = "/admin/orders/order/"
QUEUE_KEYS = {queue.key for queue in QUEUES}


def in_status(status, *, age, **fields):
    """An order that has been in ``status`` for ``age``."""
    return OrderFactory(status=status, status_changed_at=timezone.now() - age, **fields)


def supplier_pending(*, age, respond_in):
    order = in_status(Status.SUPPLIER_REFUND_PENDING, age=age)
    RefundFactory(order=order, supplier=True, respond_by=timezone.now() + respond_in)
    return order


@pytest.fixture
def queued():
    """Each queue's orders (with how long they have waited), and orders that just miss each."""
    refund_pending = in_status(Status.REFUND_PENDING, age=timedelta(days=3))
    RefundFactory(order=refund_pending)
    escalated = [in_status(Status.ESCALATED, age=age) for age in (timedelta(days=2), timedelta(hours=5))]
    for order in escalated:
        RefundFactory(order=order)
    # missed: the buyer refund already went through
    RefundFactory(order=in_status(Status.REFUND_PENDING, age=timedelta(days=9)), succeeded=True)

    returns = [in_status(Status.RETURN_RECEIVED, age=age) for age in (timedelta(days=5), timedelta(hours=2))]
    in_status(Status.RETURN_IN_TRANSIT, age=timedelta(days=9))  # missed: not received yet

    answers = [
        supplier_pending(age=timedelta(days=4), respond_in=-timedelta(days=1)),  # overdue
        supplier_pending(age=timedelta(days=2, hours=18), respond_in=timedelta(hours=6)),  # due
    ]
    supplier_pending(age=timedelta(days=9), respond_in=timedelta(days=3))  # missed: not due yet
    # an early answer is work too: the supplier said yes (or no) days before its deadline
    early = supplier_pending(age=timedelta(days=1), respond_in=timedelta(days=5))
    services.record_communication(
        early,
        by=None,
        counterparty="supplier",
        channel="1688_wangwang",
        direction="inbound",
        summary="同意退款 / we agree to refund",
    )
    answers.append(early)
    # missed: only our own reminder went to the supplier, no answer came back
    reminded = supplier_pending(age=timedelta(days=1), respond_in=timedelta(days=5))
    services.record_communication(
        reminded,
        by=None,
        counterparty="supplier",
        channel="email",
        direction="outbound",
        kind="reminder",
        summary="Reminder: refund request",
    )

    disputes = [in_status(Status.DISPUTED, age=age) for age in (timedelta(days=7), timedelta(days=1))]
    OrderFactory(status=Status.CLOSED, close_reason="other", closed_at=timezone.now())  # missed: closed
    # a dispute with the supplier on 1688 is in the supplier's queue, not the buyer's
    supplier_disputes = [in_status(Status.DISPUTED, age=timedelta(days=3))]
    Order.objects.filter(pk=supplier_disputes[0].pk).update(dispute_with="supplier")
    # a closed sale whose 1688 cancellation still waits for the supplier
    cancelled = OrderFactory(status=Status.CLOSED, close_reason="out_of_stock", closed_at=timezone.now())
    RefundFactory(order=cancelled, supplier=True, respond_by=timezone.now() + timedelta(days=2))
    Order.objects.filter(pk=cancelled.pk).update(status_changed_at=timezone.now() - timedelta(days=1))
    cancelled.refresh_from_db()

    return {
        "refunds_to_confirm": [refund_pending, *escalated],
        "escalations_open": escalated,
        "returns_to_claim": returns,
        "supplier_answers": answers,
        "buyer_disputes_to_resolve": disputes,
        "supplier_disputes_to_resolve": supplier_disputes,
        "purchase_refunds_open": [cancelled],
    }


def index(client):
    response = client.get("/admin/")
    assert response.status_code == 200
    return {item.key: item for item in response.context["worklist"]}


def listed(client, url) -> set[int]:
    response = client.get(url)
    assert response.status_code == 200, url
    return {order.pk for order in response.context["cl"].result_list}


def test_each_queue_counts_its_orders_gives_the_oldest_age_and_links_to_exactly_them(client, queued):
    # given: a supervisor
    client.force_login(staff("Supervisor"))
    # when: they open the admin index
    items = index(client)
    page = client.get("/admin/").content.decode()
    # then: each queue shows its count and the age of its oldest order ...
    for key, orders in queued.items():
        item = items[key]
        oldest = min(order.status_changed_at for order in orders)
        assert (item.count, item.oldest) == (len(orders), oldest), key
        assert f"oldest: {timesince(oldest, depth=1)}" in page
        # ... and its link lists exactly those orders
        assert item.url == f"{LIST}?queue={key}"
        assert f'href="{LIST}?queue={key}"' in page
        assert listed(client, item.url) == {order.pk for order in orders}, key
    assert "Refunds to confirm" in page
    assert "Buyer disputes to resolve (AliExpress)" in page
    assert "Supplier disputes to resolve (1688, in CNY)" in page
    assert "Supplier answers: received, due or overdue" in page


def test_a_queues_list_reads_the_orders_table_once(client, queued):
    # given: a supervisor; when: they open each queue's list
    client.force_login(staff("Supervisor"))
    for key, orders in queued.items():
        with CaptureQueriesContext(connection) as queries:
            assert listed(client, f"{LIST}?queue={key}") == {order.pk for order in orders}, key
        # then: the queue's conditions are the list's own, never "id IN (the queue's orders)", a
        # second scan of the orders a stale-statistics plan turns into a loop over both
        reads = [query["sql"] for query in queries.captured_queries if 'FROM "orders_order"' in query["sql"]]
        assert reads, key
        for sql in reads:
            assert sql.count('FROM "orders_order"') == 1, f"{key}: {sql}"


def test_queues_are_shown_to_the_supervisor_only(client, queued):
    # given: an operator, who may not confirm refunds, ask suppliers or resolve disputes
    client.force_login(staff("Operator"))
    # when / then: none of the supervisor's queues is on their index
    assert not QUEUE_KEYS & set(index(client))
    assert "Refunds to confirm" not in client.get("/admin/").content.decode()
    # and finance and analysts neither
    for group in ("Finance", "Analyst"):
        client.force_login(staff(group))
        assert not QUEUE_KEYS & set(index(client)), group
    # when: a supervisor opens it, every queue is there
    client.force_login(staff("Supervisor"))
    assert set(index(client)) >= QUEUE_KEYS


def test_an_empty_queue_shows_zero_and_no_age(client):
    client.force_login(staff("Supervisor"))
    items = index(client)
    assert {(items[key].count, items[key].age) for key in QUEUE_KEYS} == {(0, "")}


def test_the_index_query_count_does_not_grow_with_the_orders(client, queued):
    client.force_login(staff("Supervisor"))
    index(client)  # warm the session and the permission cache of the first request
    with CaptureQueriesContext(connection) as before:
        index(client)
    # given: three times as many orders waiting in every queue
    for _ in range(2):
        for status in (Status.REFUND_PENDING, Status.ESCALATED):
            RefundFactory(order=in_status(status, age=timedelta(days=1)))
        in_status(Status.RETURN_RECEIVED, age=timedelta(days=1))
        supplier_pending(age=timedelta(days=1), respond_in=-timedelta(hours=1))
        in_status(Status.DISPUTED, age=timedelta(days=1))
    # when: the index is shown again
    with CaptureQueriesContext(connection) as after:
        items = index(client)
    # then: the same queries, the larger counts
    assert len(after) == len(before), [q["sql"] for q in after]
    assert items["buyer_disputes_to_resolve"].count == 4


# --- the order page: who the order waits on ---------------------------------------------------


def next_steps(client, order) -> str:
    response = client.get(f"/admin/orders/order/{order.pk}/change/")
    assert response.status_code == 200
    return response.content.decode()


def test_an_operator_sees_that_the_order_waits_on_a_supervisor(client):
    # given: the buyer agreed; the refund now waits on a supervisor
    order = in_status(Status.REFUND_PENDING, age=timedelta(hours=1))
    RefundFactory(order=order)
    # when: the operator opens the order
    client.force_login(staff("Operator"))
    page = next_steps(client, order)
    # then: the panel says who and what, and offers no step of the supervisor's
    assert "Waiting for a supervisor: “Escalate to platform support” or “Confirm refund and close”." in page
    assert 'data-transition="confirm_refund"' not in page
    assert "Nothing you can do on this order now." not in page


def test_the_supervisor_sees_the_buttons_not_a_wait(client):
    order = in_status(Status.REFUND_PENDING, age=timedelta(hours=1))
    RefundFactory(order=order)
    client.force_login(staff("Supervisor"))
    page = next_steps(client, order)
    assert 'data-transition="confirm_refund"' in page
    assert "Waiting for" not in page


def test_finance_sees_that_a_paid_order_waits_on_an_operator(client):
    order = OrderFactory(status=Status.PAID)
    client.force_login(staff("Finance"))
    page = next_steps(client, order)
    assert "Waiting for an operator: “Mark shipped” or “Ask the buyer to cancel”." in page


def test_a_closed_order_waits_on_nobody(client):
    order = OrderFactory(status=Status.CLOSED, close_reason="other", closed_at=timezone.now())
    client.force_login(staff("Operator"))
    page = next_steps(client, order)
    assert "Waiting for" not in page


# --- the list: waiting on me ------------------------------------------------------------------

OPERATOR_STATUSES = {
    Status.AWAITING_PAYMENT,
    Status.PAID,
    Status.SHIPPED,
    Status.CANCEL_REQUESTED,
    Status.RETURN_REQUESTED,
    Status.RETURN_IN_TRANSIT,
}
SUPERVISOR_STATUSES = {
    Status.REFUND_PENDING,
    Status.ESCALATED,
    Status.RETURN_RECEIVED,
    Status.SUPPLIER_REFUND_PENDING,
    Status.DISPUTED,
}


@pytest.fixture
def one_per_status():
    orders = {}
    for status in Status.values:
        fields = {"close_reason": "other", "closed_at": timezone.now()} if status == Status.CLOSED else {}
        orders[status] = OrderFactory(status=status, **fields)
    # a buyer refund already through on the refund-pending order changes nothing here
    RefundFactory(order=orders[Status.REFUND_PENDING], status=RefundStatus.SUCCEEDED)
    return orders


def test_waiting_on_me_for_an_operator(client, one_per_status):
    client.force_login(staff("Operator"))
    shown = listed(client, f"{LIST}?waiting_on=me")
    assert shown == {one_per_status[s].pk for s in OPERATOR_STATUSES}
    assert "Waiting on me" in client.get(LIST).content.decode()


def test_waiting_on_me_for_a_supervisor_is_the_supervisors_own_steps(client, one_per_status):
    # A Supervisor may also run the Operator's steps, but those are the Operator's job.
    client.force_login(staff("Supervisor"))
    shown = listed(client, f"{LIST}?waiting_on=me")
    assert shown == {one_per_status[s].pk for s in SUPERVISOR_STATUSES}


def test_waiting_on_me_for_a_user_who_runs_no_step(client, one_per_status):
    client.force_login(staff("Finance"))
    assert listed(client, f"{LIST}?waiting_on=me") == set()


def test_the_order_lists_queue_filter_offers_only_the_queues_one_can_work(client, queued):
    # an Operator runs none of the queues' steps: the list has no queue filter for them
    client.force_login(staff("Operator"))
    filters = {f.title for f in client.get(LIST).context["cl"].filter_specs if f.has_output()}
    assert "supervisor's queue" not in filters
    # a Supervisor gets every queue to filter by
    client.force_login(staff("Supervisor"))
    page = client.get(LIST)
    [queue_filter] = [f for f in page.context["cl"].filter_specs if f.title == "supervisor's queue"]
    assert {key for key, _label in queue_filter.lookup_choices} == QUEUE_KEYS
