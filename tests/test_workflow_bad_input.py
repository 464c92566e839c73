"""The close workflow and evidence under bad input: a clear refusal (never a 500 or a
database error) and writes nothing; a partial return always refunds the buyer something."""

from decimal import Decimal

import pytest

from evidence import services as evidence
from orders import workflow
from orders.imports import feedback
from orders.models import Feedback, MovementReason, Refund, RefundStatus, Status, StockMovement
from shopops.errors import Refused
from tests.factories import OrderFactory, SkuFactory, SupplierOrderFactory, staff
from tests.workflow_support import private_media, say, snapshot  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


# --- feedback import: an impossible calendar date ------------------------------------------------


@pytest.mark.parametrize("bad", ["2026-02-30", "2026-03-01 25:00", "2026-13-01 10:00:00"])
def test_feedback_import_names_an_impossible_date_instead_of_crashing(bad):
    # given a file whose date has the right shape but does not exist
    order = OrderFactory(status=Status.COMPLETED)
    data = f"order_id,rating,comment,date\n{order.platform_order_id},1,broken,{bad}\n".encode()
    # when it is imported
    result = feedback.import_feedback(data, by=None)
    # then the row is named, and nothing is imported
    assert [(e.row, e.column) for e in result.errors] == [(2, "date")]
    assert bad in str(result.errors[0])
    assert not Feedback.objects.exists()


def test_feedback_import_of_an_impossible_date_through_the_admin_is_a_form_error(client):
    from django.core.files.uploadedfile import SimpleUploadedFile

    order = OrderFactory(status=Status.COMPLETED)
    client.force_login(staff("Supervisor"))
    upload = SimpleUploadedFile(
        "f.csv", f"order_id,rating,comment,date\n{order.platform_order_id},1,x,2026-02-30\n".encode()
    )
    response = client.post("/admin/orders/feedback/import/", {"file": upload})
    assert response.status_code == 400
    assert "Row 2, date" in response.content.decode()


# --- stock: a change larger than the figure can hold ----------------------------------------------


@pytest.mark.parametrize("delta", ["99999999999", "-99999999999", "2147483647"])
def test_adjust_stock_refuses_a_change_beyond_what_the_figure_holds(delta):
    sku = SkuFactory(code="CASE-BIG")
    workflow.adjust_stock(sku, by=None, delta=5, reason=MovementReason.RESTOCK, note="1688 order 1")
    with pytest.raises(Refused) as refused:
        workflow.adjust_stock(sku, by=None, delta=delta, reason=MovementReason.ADJUSTMENT, note="count")
    assert refused.value.field == "delta"
    sku.refresh_from_db()
    assert sku.stock_on_hand == 5
    assert StockMovement.objects.filter(sku=sku).count() == 1


def test_adjust_stock_through_the_admin_with_a_huge_number_is_a_form_error(client):
    sku = SkuFactory(code="CASE-HUGE")
    client.force_login(staff("Supervisor"))
    response = client.post(
        f"/admin/orders/sku/{sku.pk}/adjust/",
        {"delta": "99999999999", "reason": "restock", "note": "typo"},
    )
    assert response.status_code == 400
    sku.refresh_from_db()
    assert sku.stock_on_hand == 0


# --- partial return of an order imported without a unit price -------------------------------------


def test_partial_return_without_a_unit_price_refunds_the_share_of_the_total():
    # given an order of 2 for 100.00 whose unit price the import did not give
    order = OrderFactory(
        status=Status.RETURN_IN_TRANSIT,
        unit_price=Decimal("0.00"),
        quantity=2,
        total_amount=Decimal("100.00"),
        close_reason="quality_issue",
    )
    # when one of the two comes back
    workflow.receive_return(order, by=staff("Operator"), quantity=1, condition="damaged")
    # then the buyer is refunded half of what was paid, not nothing
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.status) == (Decimal("50.00"), RefundStatus.SUCCEEDED)


# --- workflow API (scripts): over-long or absurd inputs are refused, not database errors ---------


def test_mark_shipped_refuses_an_over_long_carrier():
    order = OrderFactory(status=Status.PAID)
    before = snapshot(order)
    with pytest.raises(Refused) as refused:
        workflow.mark_shipped(order, by=None, tracking_number="LP1", carrier="x" * 65)
    assert refused.value.field == "carrier"
    assert snapshot(order) == before


def test_return_agreement_refuses_an_over_long_return_tracking_number():
    order = OrderFactory(status=Status.RETURN_REQUESTED)
    say(order, kind="consent")
    before = snapshot(order)
    with pytest.raises(Refused) as refused:
        workflow.record_return_agreement(order, by=None, reason="quality_issue", tracking_number="t" * 65)
    assert refused.value.field == "tracking_number"
    assert snapshot(order) == before


def test_supplier_approval_refuses_an_over_long_reference():
    order = OrderFactory(status=Status.SUPPLIER_REFUND_PENDING, close_reason="quality_issue")
    SupplierOrderFactory(order=order, amount=Decimal("300.00"))
    workflow.create_refund(
        order, by=None, amount="120.00", idempotency_key="s-long", direction="from_supplier"
    )
    before = snapshot(order)
    with pytest.raises(Refused) as refused:
        workflow.record_supplier_approval(order, by=None, reference="r" * 101)
    assert refused.value.field == "reference"
    assert snapshot(order) == before
    assert Refund.objects.get(order=order).status == RefundStatus.REQUESTED


@pytest.mark.parametrize("amount", ["1e30", "12345678901234567890.00"])
def test_an_absurd_amount_is_refused_with_a_message(amount):
    order = OrderFactory(status=Status.PAID)
    with pytest.raises(Refused) as refused:
        workflow.create_refund(order, by=None, amount=amount, idempotency_key="absurd")
    assert refused.value.field == "amount"
    assert not Refund.objects.exists()


def test_record_communication_refuses_a_time_that_is_not_a_datetime():
    order = OrderFactory(status=Status.PAID)
    with pytest.raises(Refused) as refused:
        evidence.record_communication(
            order,
            by=None,
            counterparty="buyer",
            channel="email",
            direction="inbound",
            summary="Buyer wrote",
            occurred_at="yesterday",
        )
    assert refused.value.field == "occurred_at"
    assert not order.communications.exists()
