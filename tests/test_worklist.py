"""The admin index as a worklist: counts that match the data, links that land on those rows."""

from datetime import timedelta

import pytest
from django.contrib.auth import get_user_model
from django.utils import timezone
from django_fsm import can_proceed

from orders import policy
from orders.demo import DEMO_PREFIX
from orders.models import Feedback, FollowupStatus, Order, Refund, RefundStatus, Status
from orders.selectors.queues import QUEUES
from orders.transitions import TRANSITIONS
from orders.workflow import feedback
from orders.workflow.feedback import FOLLOWUP_PERMISSION
from orders.workflow.purchase import APPROVAL_PERMISSION, REFUSAL_PERMISSION
from tests.factories import OrderFactory, RefundFactory, SupplierOrderFactory, UserFactory, staff

pytestmark = pytest.mark.django_db


def refund(order, direction, status, key, **fields):
    return RefundFactory(order=order, direction=direction, status=status, idempotency_key=key, **fields)


@pytest.fixture
def waiting():
    """Two of each kind of waiting work that should be counted, and one just short of it."""
    now = timezone.now()
    expected = {}

    pending = [OrderFactory(status=Status.SUPPLIER_REFUND_PENDING) for _ in range(3)]
    for o in pending:
        SupplierOrderFactory(order=o)
    expected["supplier_refunds_overdue"] = {
        refund(pending[0], "from_supplier", "requested", "o1", respond_by=now - timedelta(days=1)).pk,
        refund(pending[1], "from_supplier", "requested", "o2", respond_by=now - timedelta(minutes=5)).pk,
    }
    refund(pending[2], "from_supplier", "requested", "o3", respond_by=now + timedelta(days=1))

    closed = [
        OrderFactory(status=Status.CLOSED, close_reason="buyer_cancelled", closed_at=now) for _ in range(3)
    ]
    expected["buyer_refunds_not_arrived"] = {
        refund(closed[0], "to_buyer", RefundStatus.SUCCEEDED, "n1", succeeded_at=now - timedelta(days=10)).pk,
        refund(closed[1], "to_buyer", RefundStatus.SUCCEEDED, "n2", succeeded_at=now - timedelta(days=8)).pk,
    }
    refund(closed[2], "to_buyer", RefundStatus.SUCCEEDED, "n3", succeeded_at=now - timedelta(days=1))
    # money due to us: the supplier refunded ten days ago, nothing in our account yet
    returned = [
        OrderFactory(status=Status.CLOSED, close_reason="quality_issue", closed_at=now) for _ in range(3)
    ]
    for o in returned:
        SupplierOrderFactory(order=o)
    expected["supplier_refunds_not_arrived"] = {
        refund(
            returned[0], "from_supplier", RefundStatus.SUCCEEDED, "s1", succeeded_at=now - timedelta(days=9)
        ).pk,
        refund(
            returned[1], "from_supplier", RefundStatus.SUCCEEDED, "s2", succeeded_at=now - timedelta(days=30)
        ).pk,
    }
    refund(returned[2], "from_supplier", RefundStatus.SUCCEEDED, "s3", succeeded_at=now - timedelta(hours=5))

    done = OrderFactory(status=Status.COMPLETED)
    new = feedback.record_feedback(done, by=None, rating=1, received_at=now - timedelta(hours=3))
    contacted = feedback.record_feedback(done, by=None, rating=2, received_at=now - timedelta(hours=2))
    Feedback.objects.filter(pk=contacted.pk).update(followup_status=FollowupStatus.CONTACTED)
    resolved = feedback.record_feedback(done, by=None, rating=1, received_at=now - timedelta(hours=1))
    Feedback.objects.filter(pk=resolved.pk).update(followup_status=FollowupStatus.RESOLVED)
    feedback.record_feedback(done, by=None, rating=5, received_at=now)
    expected["open_negative_feedback"] = {new.pk, contacted.pk}

    # Timeout 72 h, "soon" 12 h: placed between 60 and 72 hours ago.
    expected["unpaid_timing_out"] = {
        OrderFactory(placed_at=now - timedelta(hours=61)).pk,
        OrderFactory(placed_at=now - timedelta(hours=71)).pk,
    }
    OrderFactory(placed_at=now - timedelta(hours=2))

    # Waiting on the buyer for more than 48 h.
    expected["waiting_on_buyer"] = {
        OrderFactory(status=Status.CANCEL_REQUESTED, status_changed_at=now - timedelta(hours=50)).pk,
        OrderFactory(status=Status.RETURN_REQUESTED, status_changed_at=now - timedelta(days=5)).pk,
    }
    OrderFactory(status=Status.CANCEL_REQUESTED, status_changed_at=now - timedelta(hours=1))
    return expected


def worklist(client) -> dict[str, tuple[int, str | None]]:
    response = client.get("/admin/")
    assert response.status_code == 200
    page = response.content.decode()
    # above the usual app list
    assert page.index('id="worklist"') < page.index('class="app-orders module')
    return {item.key: (item.count, item.url) for item in response.context["worklist"]}


def test_counts_match_the_data_and_links_land_on_those_rows(client, waiting):
    client.force_login(UserFactory(username="root", is_superuser=True))
    items = worklist(client)
    # The supervisor's queues follow these; tests/test_handoffs.py checks them; "Mine" (issue 23)
    # leads the list, tests/test_team.py checks it.
    assert set(items) - set(waiting) == {queue.key for queue in QUEUES} | {"mine"}
    items = {key: item for key, item in items.items() if key in waiting}
    assert {key: count for key, (count, _url) in items.items()} == dict.fromkeys(waiting, 2)
    for key, (_count, url) in items.items():
        # when: the user follows the link
        response = client.get(url)
        # then: the list shows exactly the rows counted
        assert response.status_code == 200, (key, url)
        listed = {obj.pk for obj in response.context["cl"].result_list}
        assert listed == waiting[key], key


def test_the_counts_are_shown_on_the_page(client, waiting):
    client.force_login(staff("Supervisor"))
    page = client.get("/admin/").content.decode()
    assert "Supplier refunds overdue" in page
    assert "Waiting on the buyer for more than 48 hours" in page
    assert 'href="/admin/orders/refund/?overdue=yes"' in page
    assert 'href="/admin/orders/feedback/?followup=open"' in page
    assert 'href="/admin/orders/analytics/"' in page


def test_each_group_is_offered_the_lists_it_can_act_on(client, waiting):
    # an Operator works the buyers, the unpaid orders and the follow-ups, not the refunds' money
    client.force_login(staff("Operator"))
    assert set(worklist(client)) == {
        "mine",
        "open_negative_feedback",
        "unpaid_timing_out",
        "waiting_on_buyer",
    }
    page = client.get("/admin/").content.decode()
    assert "Supplier refunds overdue" not in page and "not yet arrived" not in page
    # Finance sees the money due to us arrive; it runs no step of an order
    client.force_login(staff("Finance"))
    assert set(worklist(client)) == {"supplier_refunds_not_arrived"}
    assert "/admin/orders/analytics/" not in client.get("/admin/").content.decode()  # no analytics
    # an Analyst reads: nothing waits on them
    client.force_login(staff("Analyst"))
    assert worklist(client) == {}
    # a Supervisor records the supplier's answers, sees buyers' refunds arrive on the platform, and
    # runs the operators' steps too
    client.force_login(staff("Supervisor"))
    offered = set(worklist(client))
    assert {"supplier_refunds_overdue", "buyer_refunds_not_arrived", "open_negative_feedback"} <= offered
    assert "supplier_refunds_not_arrived" not in offered


def test_finance_sees_the_money_due_to_us_apart_from_the_buyers_refunds(client, waiting):
    # given: buyer refunds and supplier refunds, both succeeded long ago and not marked received
    client.force_login(staff("Finance"))
    count, url = worklist(client)["supplier_refunds_not_arrived"]
    # then: the line counts the supplier refunds only, and its list shows exactly them
    assert count == 2
    listed = client.get(url).context["cl"].result_list
    assert {r.pk for r in listed} == waiting["supplier_refunds_not_arrived"]
    assert {r.direction for r in listed} == {"from_supplier"}
    page = client.get("/admin/").content.decode()
    assert "Supplier refunds not yet arrived (money due to us)" in page
    assert ">Refunds not yet arrived<" not in page


def test_nothing_waiting_shows_zeros(client):
    client.force_login(staff("Supervisor"))
    assert {count for count, _url in worklist(client).values()} == {0}


# --- each group's own work: every line offered opens rows its user can act on (issue 23) --------

DEMO_USERS = ("operator", "operator_eu", "supervisor", "finance", "analyst")


def work_on(user, row, list_actions: set[str]) -> list[str]:
    """What ``user`` can do about one row of a worklist's list, as the screens offer it: on an
    order, the steps it may take next that the user may run, or the answer to its 1688 purchase's
    refund; on a refund, the list's "mark received" when it succeeded, else its order's; on a
    follow-up, working it. ``orders.policy`` says what the user may do."""
    if isinstance(row, Feedback):
        return ["work the follow-up"] if policy.may(user, FOLLOWUP_PERMISSION, row) else []
    if isinstance(row, Refund):
        may_mark = policy.may(user, policy.received_permission(row.direction), row)
        received = ["mark received"] if "mark_received" in list_actions and may_mark else []
        return (received if can_proceed(row.mark_received) else []) + work_on(user, row.order, set())
    order = row
    steps = [
        t.name
        for t in order.get_available_status_transitions()
        if policy.may(user, TRANSITIONS[t.name].permission, order)
    ]
    purchase_answer = (
        order.status != Status.SUPPLIER_REFUND_PENDING
        and order.refunds.filter(direction="from_supplier", status=RefundStatus.REQUESTED).exists()
        and policy.may_any(user, (APPROVAL_PERMISSION, REFUSAL_PERMISSION), order)
    )
    return steps + (["answer the 1688 refund"] if purchase_answer else [])


@pytest.fixture
def demo(demo_data):
    """``seed_demo``'s stores, users and orders, and two orders waiting on their buyer for long
    (the demo's buyers all answered within the day): every worklist line has rows."""
    long_ago = timezone.now() - timedelta(days=4)
    for status in (Status.CANCEL_REQUESTED, Status.RETURN_REQUESTED):
        order = Order.objects.filter(platform_order_id__startswith=DEMO_PREFIX, status=status).first()
        Order.objects.filter(pk=order.pk).update(status_changed_at=long_ago)


@pytest.mark.slow
def test_every_line_on_a_demo_users_index_opens_work_they_can_do(client, demo):
    lines_with_rows = {}
    for username in DEMO_USERS:
        user = get_user_model().objects.get(username=username)
        client.force_login(user)
        lines_with_rows[username] = set()
        # every line the index offers them, found on the page
        for item in client.get("/admin/").context["worklist"]:
            response = client.get(item.url)
            assert response.status_code == 200, (username, item.key)
            form = response.context["action_form"]
            list_actions = set(dict(form.fields["action"].choices)) if form else set()
            rows = list(response.context["cl"].result_list)
            # an order they handle is theirs to follow whatever it waits for ("Mine")
            idle = [
                str(row)
                for row in rows
                if getattr(row, "assignee_id", None) != user.pk and not work_on(user, row, list_actions)
            ]
            assert not idle, f"{username}: “{item.label}” lists rows they cannot act on: {idle[:5]}"
            if rows:
                lines_with_rows[username].add(item.key)
    # the lines were there to check: each who works orders has lines with rows; analysts have none
    assert all(lines_with_rows[name] for name in ("operator", "operator_eu", "supervisor", "finance"))
    assert "waiting_on_buyer" in lines_with_rows["operator"]
    assert lines_with_rows["analyst"] == set()


def test_a_supervisor_marks_the_buyers_refunds_received_from_their_line_not_the_suppliers(client, waiting):
    # given: a Supervisor, who confirms buyers' refunds on the platform and sees them arrive there
    supervisor = staff("Supervisor")
    client.force_login(supervisor)
    count, url = worklist(client)["buyer_refunds_not_arrived"]
    assert count == 2
    listed = client.get(url).context["cl"].result_list
    assert {r.pk for r in listed} == waiting["buyer_refunds_not_arrived"]
    # when: they mark those received, and a supplier's refund too
    supplier = next(iter(waiting["supplier_refunds_not_arrived"]))
    response = client.post(
        "/admin/orders/refund/",
        {"action": "mark_received", "_selected_action": [*waiting["buyer_refunds_not_arrived"], supplier]},
        follow=True,
    )
    # then: the buyers' are received; the money due to us is Finance's to see, and says so
    page = response.content.decode()
    assert (
        set(Refund.objects.filter(status=RefundStatus.RECEIVED).values_list("pk", flat=True))
        == waiting["buyer_refunds_not_arrived"]
    )
    assert "mark a refund from a supplier received: Finance sees that money arrive" in page
    assert worklist(client)["buyer_refunds_not_arrived"][0] == 0
