"""The three close flows of the article, end to end through the workflow API, as the people in
each group would run them."""

from decimal import Decimal

import pytest

from evidence import services
from orders import workflow
from orders.models import Notification, Order, Refund, Status
from tests.factories import OrderFactory, SupplierOrderFactory, staff
from tests.workflow_support import png_upload, private_media, say  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


@pytest.fixture
def team():
    return {g: staff(g) for g in ("Operator", "Supervisor", "Finance")}


def _history(order: Order) -> list[tuple[str, str, str]]:
    return list(order.events.order_by("pk").values_list("transition", "from_status", "to_status"))


def to_buyer(order: Order):
    """The messages to the order's buyer (not the hand-offs to staff, issue 23)."""
    return Notification.objects.filter(order=order).exclude(template__in=("staff_handoff", "staff_digest"))


def test_unpaid_order_closed(team):
    # given
    order = OrderFactory(status=Status.AWAITING_PAYMENT)

    # when
    workflow.close_unpaid(order, by=team["Operator"], reason="other", note="Buyer asked by message")

    # then
    order.refresh_from_db()
    assert (order.status, order.close_reason, order.outcome, order.close_stage) == (
        "closed",
        "other",
        "cancelled_unpaid",
        "unpaid",
    )
    assert order.closed_by == team["Operator"] and order.closed_at
    assert _history(order) == [("close_unpaid", "awaiting_payment", "closed")]
    assert not Refund.objects.filter(order=order).exists()
    assert not Notification.objects.filter(order=order).exists()


def test_paid_order_buyer_refuses_to_cancel_and_it_stays_paid(team):
    op = team["Operator"]
    order = OrderFactory(status=Status.PAID)

    say(order, by=op)
    workflow.request_cancellation(order, by=op, note="Out of stock, may we cancel?")
    say(order, kind="refusal", by=op)
    workflow.record_buyer_refusal(order, by=op)

    order.refresh_from_db()
    assert order.status == "paid" and not order.close_stage
    assert _history(order) == [
        ("request_cancellation", "paid", "cancel_requested"),
        ("record_buyer_refusal", "cancel_requested", "paid"),
    ]
    assert not Refund.objects.filter(order=order).exists()


def test_paid_order_buyer_consents_escalated_refunded_and_closed(team):
    op, sup, fin = team["Operator"], team["Supervisor"], team["Finance"]
    order = OrderFactory(status=Status.PAID, buyer_language="zh-hans")
    workflow.record_movement(order.sku, delta=5, reason="restock", by=None)

    say(order, by=op)
    workflow.request_cancellation(order, by=op)
    consent = say(order, kind="consent", by=op)
    workflow.record_buyer_consent(order, by=op, reason="out_of_stock")
    refund = Refund.objects.get(order=order)
    assert (refund.direction, refund.status, refund.amount) == ("to_buyer", "requested", Decimal("100.00"))
    assert not to_buyer(order).exists()  # nothing succeeded yet
    # the supervisors are told a refund waits for them (issue 23)
    assert Notification.objects.filter(order=order, template="staff_handoff").exists()

    # the platform offers no close button: support is shown the screenshot of the consent
    services.attach_file(order, by=op, file=png_upload("consent.png"), communication=consent)
    workflow.escalate_to_support(order, by=sup, reference="ALI-CS-20261126")
    workflow.confirm_refund(order, by=sup, reference="ALI-RF-99")

    order.refresh_from_db()
    refund.refresh_from_db()
    assert (order.status, order.outcome, order.close_reason, order.close_stage) == (
        "closed",
        "refunded",
        "out_of_stock",
        "paid",
    )
    assert order.closed_by == sup
    assert (refund.status, refund.reference) == ("succeeded", "ALI-RF-99") and refund.succeeded_at
    assert _history(order) == [
        ("request_cancellation", "paid", "cancel_requested"),
        ("record_buyer_consent", "cancel_requested", "refund_pending"),
        ("escalate_to_support", "refund_pending", "escalated"),
        ("confirm_refund", "escalated", "closed"),
    ]
    # the refund confirmation: one email and one SMS, in the buyer's language
    sent = Notification.objects.filter(order=order, template="refund_confirmation")
    assert sorted(sent.values_list("channel", "recipient", "language", "refund_id")) == [
        ("email", order.buyer_email, "zh-hans", refund.pk),
        ("sms", order.buyer_phone, "zh-hans", refund.pk),
    ]
    # out of stock: the SKU is flagged and zeroed with a movement
    order.sku.refresh_from_db()
    assert (order.sku.stock_on_hand, order.sku.out_of_stock) == (0, True)
    assert order.sku.movements.filter(reason="out_of_stock", order=order, delta=-5).exists()

    workflow.mark_refund_received(refund, by=fin)
    refund.refresh_from_db()
    assert refund.status == "received"


def _to_return_received(order: Order, team, *, to_supplier: int = 2) -> Refund:
    op = team["Operator"]
    say(order, by=op)
    workflow.propose_return(order, by=op)
    say(order, kind="consent", by=op)
    workflow.record_return_agreement(order, by=op, reason="quality_issue", tracking_number="RT998CN")
    workflow.receive_return(order, by=op, quantity=2, condition="resellable", to_supplier=to_supplier)
    return Refund.objects.get(order=order, direction="to_buyer")


def test_shipped_order_returned_and_the_supplier_refunds(team):
    sup = team["Supervisor"]
    order = OrderFactory(status=Status.SHIPPED, buyer_phone="")
    SupplierOrderFactory(order=order, amount=Decimal("300.00"))
    sku_stock = order.sku.stock_on_hand

    # one of the two units received goes to our stock, the other back to the supplier
    buyer_refund = _to_return_received(order, team, to_supplier=1)

    # the buyer is refunded when the goods arrive, and the unit we keep goes back into stock
    assert (buyer_refund.status, buyer_refund.amount) == ("succeeded", Decimal("100.00"))
    assert list(to_buyer(order).values_list("channel", flat=True)) == ["email"]
    order.sku.refresh_from_db()
    assert order.sku.stock_on_hand == sku_stock + 1
    assert order.sku.movements.filter(reason="return_resellable", delta=1, order=order).exists()
    order.refresh_from_db()
    assert (order.status, order.return_tracking_number) == ("return_received", "RT998CN")
    assert order.supplier_orders.get().returned_quantity == 1

    workflow.request_supplier_refund(
        order, by=sup, amount="120.00", reason="Stitching defects", reference="1688-RF-1"
    )
    supplier_refund = Refund.objects.get(order=order, direction="from_supplier")
    assert (supplier_refund.status, supplier_refund.currency, supplier_refund.amount) == (
        "requested",
        "CNY",
        Decimal("120.00"),
    )
    # 1688's kind: the unit sent back, and only it
    assert (supplier_refund.kind, supplier_refund.units) == ("return_refund", 1)
    assert supplier_refund.respond_by > supplier_refund.requested_at

    workflow.record_supplier_approval(order, by=sup, amount="100.00", reference="1688-OK-1")

    order.refresh_from_db()
    supplier_refund.refresh_from_db()
    assert (order.status, order.outcome, order.close_reason, order.close_stage) == (
        "closed",
        "supplier_refunded",
        "quality_issue",
        "shipped",
    )
    assert (supplier_refund.status, supplier_refund.amount) == ("succeeded", Decimal("100.00"))
    assert _history(order) == [
        ("propose_return", "shipped", "return_requested"),
        ("record_return_agreement", "return_requested", "return_in_transit"),
        ("receive_return", "return_in_transit", "return_received"),
        ("request_supplier_refund", "return_received", "supplier_refund_pending"),
        ("record_supplier_approval", "supplier_refund_pending", "closed"),
    ]
    # the supplier's money is no confirmation to the buyer: still one email in all
    assert to_buyer(order).count() == 1


def test_shipped_order_returned_supplier_refuses_dispute_won(team):
    op, sup = team["Operator"], team["Supervisor"]
    order = OrderFactory(status=Status.SHIPPED)
    SupplierOrderFactory(order=order, amount=Decimal("300.00"))
    _to_return_received(order, team)
    workflow.request_supplier_refund(
        order, by=sup, amount="300.00", reason="Defective", reference="1688-RF-2"
    )

    say(order, kind="refusal", counterparty="supplier", by=op)
    workflow.record_supplier_refusal(order, by=sup, reference="1688-DSP-2")
    rejected = Refund.objects.get(order=order, direction="from_supplier")
    assert rejected.status == "rejected"
    order.refresh_from_db()
    assert (order.status, order.platform_reference) == ("disputed", "1688-DSP-2")

    workflow.resolve_dispute(order, by=sup, outcome="won")

    order.refresh_from_db()
    assert (order.status, order.outcome) == ("closed", "won")
    recovered = Refund.objects.get(order=order, direction="from_supplier", status="succeeded")
    assert recovered.amount == Decimal("300.00")  # the rejected request no longer counts
    assert _history(order)[-2:] == [
        ("record_supplier_refusal", "supplier_refund_pending", "disputed"),
        ("resolve_dispute", "disputed", "closed"),
    ]
