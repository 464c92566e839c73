"""Things named in words in the confirmations and refusals of the screens (orders.naming): a refund
by its amount, whose it is and its order, an order by its number and buyer, never a row id."""

from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.utils import translation

from orders.models import RefundStatus, Status, choice_label
from tests.factories import OrderFactory, RefundFactory, staff

pytestmark = pytest.mark.django_db

LIST = "/admin/orders/order/"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_bulk_confirmations_name_refunds_and_orders_in_words_not_row_ids(client):
    # given: a buyer's refund that succeeded, and one still requested (which cannot be received)
    arrived = RefundFactory(
        succeeded=True, amount=Decimal("25.00"), order=OrderFactory(buyer_name="Ana García")
    )
    pending = RefundFactory(amount=Decimal("7.50"), order=OrderFactory(buyer_name="Bo Chen"))
    client.force_login(staff("Finance"))

    # when: both are marked received
    response = client.post(
        "/admin/orders/refund/", {"action": "mark_received", "_selected_action": [arrived.pk, pending.pk]}
    )

    # then: each refund is named by what it is, never by "#<id>"
    reported = messages_of(response)
    number = arrived.order.platform_order_id
    assert (
        f"Marked received: the refund of 25.00 USD to the buyer of order {number} (Ana García)." in reported
    ), reported
    assert any(
        m.startswith(
            f"The refund of 7.50 USD to the buyer of order {pending.order.platform_order_id} (Bo Chen)"
        )
        and "was refused" in m
        for m in reported
    ), reported
    assert not any(f"#{arrived.pk}" in m or f"#{pending.pk}" in m for m in reported), reported

    # and an order of a bulk action on the order list is its number and its buyer
    paid = OrderFactory(status=Status.PAID, buyer_name="Cai Wen")
    client.force_login(staff("Supervisor"))
    response = client.post(
        LIST,
        {
            "action": "close_unpaid",
            "_selected_action": [paid.pk],
            "apply": "1",
            "reason": "other",
            "note": "x",
        },
    )
    assert any(
        m.startswith(f"Order {paid.platform_order_id} (Cai Wen) was refused:") for m in messages_of(response)
    )


def test_a_choice_is_named_by_its_label_in_the_readers_language_and_an_unknown_value_as_stored():
    assert choice_label(Status, "awaiting_payment") == "Awaiting payment"
    assert choice_label(RefundStatus, "no_such_status") == "no_such_status"
    assert choice_label(Status, "") == ""
    with translation.override("zh-hans"):
        assert choice_label(Status, "awaiting_payment") == translation.gettext("Awaiting payment")
        assert choice_label(Status, "awaiting_payment") != "Awaiting payment"
