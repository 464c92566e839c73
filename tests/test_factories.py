"""The factories build records as the workflow would have left them, so a test that starts from
one asserts about a state the application can reach."""

from decimal import Decimal

import pytest

from orders import workflow
from orders.models import Refund, RefundDirection, RefundStatus, Status
from orders.selectors.refunds import refundable
from tests.factories import OrderFactory, RefundFactory, staff

pytestmark = pytest.mark.django_db

# What the workflow decides about a refund; the rest (amounts, keys, references) is the test's.
SHAPE = ("direction", "status", "currency")
STAMPS = ("succeeded_at", "received_at", "ended_at")


def _shape(refund: Refund) -> dict:
    fresh = Refund.objects.get(pk=refund.pk)
    values = {name: getattr(fresh, name) for name in SHAPE}
    values.update(
        {name: getattr(fresh, name) is not None for name in ("succeeded_at", "received_at", "ended_at")}
    )
    return values


def test_buyer_refunds_match_the_workflow_in_each_state():
    order = OrderFactory(status=Status.REFUND_PENDING, close_reason="buyer_cancelled")
    real = workflow.create_refund(order, by=None, amount="10.00", idempotency_key="real")
    assert _shape(RefundFactory()) == _shape(real)

    workflow.confirm_refund(order, by=staff("Supervisor"), reference="AE-RF-1")
    assert _shape(RefundFactory(succeeded=True)) == _shape(real)

    workflow.mark_refund_received(real, by=staff("Finance"))
    assert _shape(RefundFactory(received=True)) == _shape(real)


def test_a_supplier_refund_is_in_cny_against_a_supplier_order():
    refund = RefundFactory(supplier=True, amount=Decimal("120.00"))

    assert (refund.direction, refund.currency) == (RefundDirection.FROM_SUPPLIER, "CNY")
    assert refund.order.supplier_orders.count() == 1
    assert refundable(refund.order, RefundDirection.FROM_SUPPLIER) == Decimal("180.00")


def test_a_rejected_refund_has_ended_and_no_longer_counts():
    refund = RefundFactory(rejected=True, amount=Decimal("100.00"))

    assert refund.status == RefundStatus.REJECTED
    assert refund.ended_at is not None and refund.succeeded_at is None
    assert refundable(refund.order) == refund.order.total_amount
