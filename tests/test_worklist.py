"""The admin index as a worklist: counts that match the data, links that land on those rows."""

from datetime import timedelta

import pytest
from django.utils import timezone

from orders.models import Feedback, FollowupStatus, RefundStatus, Status
from orders.selectors.queues import QUEUES
from orders.workflow import feedback
from tests.factories import OrderFactory, RefundFactory, SupplierOrderFactory, staff

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
    expected["refunds_not_arrived"] = {
        refund(closed[0], "to_buyer", RefundStatus.SUCCEEDED, "n1", succeeded_at=now - timedelta(days=10)).pk,
        refund(closed[1], "to_buyer", RefundStatus.SUCCEEDED, "n2", succeeded_at=now - timedelta(days=8)).pk,
    }
    refund(closed[2], "to_buyer", RefundStatus.SUCCEEDED, "n3", succeeded_at=now - timedelta(days=1))

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
    client.force_login(staff("Supervisor"))
    items = worklist(client)
    # The supervisor's queues follow these; tests/test_handoffs.py checks them; "Mine" (issue 23)
    # leads the list, tests/test_team.py checks it.
    assert set(items) - set(waiting) == {queue.key for queue in QUEUES} | {"mine"}
    items = {key: item for key, item in items.items() if key in waiting}
    assert {key: count for key, (count, _url) in items.items()} == dict.fromkeys(waiting, 2)
    for key, (_count, url) in items.items():
        # when: the supervisor follows the link
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


def test_each_user_sees_only_the_lists_they_may_view(client, waiting):
    client.force_login(staff("Finance"))
    assert set(worklist(client)) == {
        "supplier_refunds_overdue",
        "refunds_not_arrived",
        "unpaid_timing_out",
        "waiting_on_buyer",
    }
    page = client.get("/admin/").content.decode()
    assert "/admin/orders/analytics/" not in page  # Finance has no analytics
    client.force_login(staff("Operator"))
    assert "open_negative_feedback" in worklist(client)


def test_nothing_waiting_shows_zeros(client):
    client.force_login(staff("Supervisor"))
    assert {count for count, _url in worklist(client).values()} == {0}
