"""Closing unpaid orders in bulk: Operators and Supervisors alike (issue 23), each in their own
stores, within the same limit, each order through the workflow and reported by name."""

import pytest
from django.contrib.messages import get_messages

from orders.models import Order, OrderEvent, Status
from tests.factories import OrderFactory, StoreFactory, staff

pytestmark = pytest.mark.django_db

LIST = "/admin/orders/order/"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def operator():
    return staff("Operator")


def test_an_operator_closes_unpaid_orders_in_bulk_in_their_stores_only(client, operator):
    # given: an Operator of the default store, unpaid orders there and one of another store
    mine = OrderFactory.create_batch(2)
    elsewhere = OrderFactory(store=StoreFactory(code="eu"))
    client.force_login(operator)
    response = client.get(LIST)
    # the import/export buttons are wired into the list: export for an Operator, no import
    assert b'id="export-orders-csv"' in response.content and b'id="import-orders"' not in response.content
    actions = dict(response.context["action_form"].fields["action"].choices)
    assert {"close_unpaid", "send_payment_reminder", "export"} <= set(actions)
    # when: they select all three (another store's id sent by hand) and give the reason
    ids = [o.pk for o in [*mine, elsewhere]]
    response = client.post(LIST, {"action": "close_unpaid", "_selected_action": ids})
    assert response.status_code == 200 and b'name="reason"' in response.content
    response = client.post(
        LIST, {"action": "close_unpaid", "_selected_action": ids, "apply": "1", "reason": "buyer_cancelled"}
    )
    # then: their two are closed, each by the workflow; the other store's is untouched and unnamed
    reported = messages_of(response)
    assert any(m.startswith("Closed 2 orders") for m in reported), reported
    assert not any(elsewhere.platform_order_id in m for m in reported), reported
    assert set(Order.objects.filter(status=Status.CLOSED).values_list("pk", flat=True)) == {
        o.pk for o in mine
    }
    assert OrderEvent.objects.filter(transition="close_unpaid", actor=operator).count() == 2
    elsewhere.refresh_from_db()
    assert elsewhere.status == Status.AWAITING_PAYMENT


def test_an_operators_bulk_close_has_the_supervisors_limit(client, operator, monkeypatch):
    # given: a limit of 2 and three unpaid orders selected
    monkeypatch.setattr("orders.admin.actions.BULK_ACTION_LIMIT", 2)
    orders = OrderFactory.create_batch(3)
    client.force_login(operator)
    response = client.post(
        LIST,
        {
            "action": "close_unpaid",
            "_selected_action": [o.pk for o in orders],
            "apply": "1",
            "reason": "other",
        },
        follow=True,
    )
    assert "Select at most 2 orders for a bulk close; nothing was closed." in response.content.decode()
    assert not Order.objects.filter(status=Status.CLOSED).exists()


def test_finance_and_analysts_have_no_bulk_close(client):
    order = OrderFactory()
    for group in ("Finance", "Analyst"):
        client.force_login(staff(group))
        actions = dict(client.get(LIST).context["action_form"].fields["action"].choices)
        assert "close_unpaid" not in actions, group
        client.post(
            LIST, {"action": "close_unpaid", "_selected_action": [order.pk], "apply": "1", "reason": "other"}
        )
        order.refresh_from_db()
        assert order.status == Status.AWAITING_PAYMENT, group
