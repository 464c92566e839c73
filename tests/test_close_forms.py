"""The close and return forms: what the default refund is, which help shows beside a reason,
what "out of stock" also does, and the bulk close counting what it leaves alone."""

from dataclasses import replace
from decimal import Decimal

import pytest

from orders import transitions
from orders.forms import TransitionForm
from orders.models import (
    CloseReason,
    Order,
    Status,
)
from tests.factories import OrderFactory, staff
from tests.workflow_support import private_media  # noqa: F401

pytestmark = pytest.mark.django_db


def transition_of(order: Order, name: str) -> str:
    return f"/admin/orders/order/{order.pk}/transition/{name}/"


LIST = "/admin/orders/order/"


@pytest.fixture
def supervisor_client(client):
    client.force_login(staff("Supervisor"))
    return client


def bulk_close(client, orders: list[Order]) -> str:
    response = client.post(LIST, {"action": "close_unpaid", "_selected_action": [o.pk for o in orders]})
    assert response.status_code == 200
    return response.content.decode()


# --- 3. a partial return does not refund everything by default --------------------------------


def test_receive_return_form_leaves_the_amount_to_the_quantity_and_says_so(client):
    # given: 2 items at 50.00 on their way back
    order = OrderFactory(status=Status.RETURN_IN_TRANSIT, close_reason=CloseReason.BUYER_CANCELLED)
    client.force_login(staff("Operator"))

    # when: the form is opened
    response = client.get(transition_of(order, "receive_return"))
    form = response.context["form"]

    # then: no amount pre-filled, and the form says how it is computed
    assert form["amount"].value() in (None, "")
    assert "unit price × quantity received" in response.content.decode()

    # when: 1 of the 2 is received, the amount left empty
    response = client.post(
        transition_of(order, "receive_return"),
        {"seen_status": order.status, "quantity": "1", "condition": "resellable", "amount": ""},
    )

    # then: the buyer gets back one item's price
    assert response.status_code == 302
    (refund,) = order.refunds.all()
    assert refund.amount == Decimal("50.00")


# --- 8. the "Other" help only beside a close reason -------------------------------------------


def test_the_other_reason_help_is_only_on_forms_with_a_reason(monkeypatch):
    help_text = "Required when the reason is “Other”."
    order = OrderFactory(status=Status.PAID)
    # every declared form: the help shows only where the reason field is
    for name, declared in transitions.TRANSITIONS.items():
        form = TransitionForm(transition=name, order=order)
        has_reason = any(i.kind == "close_reason" for i in declared.inputs)
        note = form.fields.get("note")
        if note is not None:
            assert (help_text in str(note.help_text)) == has_reason, name
    # a step declared with the reason's note but no reason (as the walk met it) does not show it
    declared = transitions.TRANSITIONS["request_cancellation"]
    monkeypatch.setitem(
        transitions.TRANSITIONS,
        "request_cancellation",
        replace(declared, inputs=(transitions.REASON_NOTE,)),
    )
    form = TransitionForm(transition="request_cancellation", order=order)
    assert help_text not in str(form.fields["note"].help_text)


def test_the_bulk_close_form_keeps_the_help_beside_its_reason():
    from orders.forms import BulkCloseForm

    form = BulkCloseForm()
    assert "reason" in form.fields and "Other" in str(form.fields["note"].help_text)


# --- bulk close -----------------------------------------------------------------------------


def test_bulk_close_of_only_unpaid_orders_names_no_others(supervisor_client):
    html = bulk_close(supervisor_client, OrderFactory.create_batch(3))
    assert "All 3 are awaiting payment and will be closed." in html
    assert "the others" not in html and "not awaiting payment" not in html
    assert 'value="Close 3 unpaid orders"' in html


def test_bulk_close_counts_the_orders_it_will_leave_alone(supervisor_client):
    html = bulk_close(supervisor_client, [*OrderFactory.create_batch(2), OrderFactory(status=Status.PAID)])
    assert "2 are awaiting payment and will be closed." in html
    assert "1 is not awaiting payment: it will be left as it is and named." in html
    assert 'value="Close 2 unpaid orders"' in html


def test_bulk_close_with_nothing_eligible_offers_no_submit(supervisor_client):
    html = bulk_close(
        supervisor_client, [OrderFactory(status=Status.PAID), OrderFactory(status=Status.SHIPPED)]
    )
    assert "None of them is awaiting payment, so none can be closed here." in html
    assert 'name="apply"' not in html and 'name="reason"' not in html
    assert "Back to the list" in html


# --- out of stock ---------------------------------------------------------------------------


STOCK_WARNING = "“Out of stock” also sets this SKU's stock to 0 and marks it out of stock."
STOCK_COUNT_WARNING = (
    "“Out of stock” also sets this SKU's stock to the units really in stock, below, and marks it "
    "out of stock when there are none."
)


@pytest.mark.parametrize(
    ("status", "name"), [("awaiting_payment", "close_unpaid"), ("cancel_requested", "record_buyer_consent")]
)
def test_a_close_form_says_out_of_stock_sets_the_stock_before_confirming(client, status, name):
    client.force_login(staff("Operator"))
    order = OrderFactory(status=status)
    html = client.get(f"/admin/orders/order/{order.pk}/transition/{name}/").content.decode()
    assert STOCK_COUNT_WARNING.replace("'", "&#x27;") in html and 'name="stock_count"' in html


def test_the_bulk_close_form_says_it_too(supervisor_client):
    assert STOCK_WARNING.replace("'", "&#x27;") in bulk_close(supervisor_client, [OrderFactory()])
