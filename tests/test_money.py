"""Money rules of SPEC section 2: Decimal with two places, more than 0, a limit per direction,
and one request retried never makes two refunds."""

from decimal import Decimal

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from orders import workflow
from orders.models import OrderEvent, Refund, Status
from shopops.errors import NotPermitted, Refused
from tests.factories import OrderFactory, SupplierOrderFactory, staff
from tests.workflow_support import private_media, snapshot  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


@pytest.fixture
def shipped():
    return OrderFactory(status=Status.SHIPPED, total_amount=Decimal("100.00"))


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("0", "more than 0"),
        ("0.00", "more than 0"),
        ("-1.00", "more than 0"),
        ("12.345", "two decimal places"),
        ("abc", "not an amount"),
        ("NaN", "must be a number"),
        ("Infinity", "must be a number"),
        ("", "not an amount"),
    ],
)
def test_bad_amounts_are_refused_and_write_nothing(shipped, amount, message):
    before = snapshot(shipped)
    with pytest.raises(Refused, match=message) as refused:
        workflow.create_refund(shipped, by=None, amount=amount, idempotency_key="k")
    assert refused.value.field == "amount"
    assert snapshot(shipped) == before


def test_amounts_are_stored_as_two_place_decimals(shipped):
    refund = workflow.create_refund(shipped, by=None, amount="19.9", idempotency_key="k")
    assert Refund.objects.get(pk=refund.pk).amount == Decimal("19.90")
    float_refund = workflow.create_refund(shipped, by=None, amount=0.1, idempotency_key="k2")
    assert Refund.objects.get(pk=float_refund.pk).amount == Decimal("0.10")


def test_buyer_refunds_never_exceed_what_was_paid(shipped):
    workflow.create_refund(shipped, by=None, amount="60.00", idempotency_key="a")
    before = snapshot(shipped)
    with pytest.raises(Refused, match=r"at most 40\.00 USD can still be refunded"):
        workflow.create_refund(shipped, by=None, amount="40.01", idempotency_key="b")
    assert snapshot(shipped) == before
    workflow.create_refund(shipped, by=None, amount="40.00", idempotency_key="c")
    assert workflow.refundable(shipped) == Decimal("0.00")


def test_supplier_refunds_are_limited_by_the_supplier_orders_not_the_sale(shipped):
    SupplierOrderFactory(order=shipped, amount=Decimal("150.00"))
    SupplierOrderFactory(order=shipped, amount=Decimal("50.00"))
    workflow.create_refund(shipped, by=None, amount="100.00", idempotency_key="buyer")  # other direction

    workflow.create_refund(shipped, by=None, amount="199.99", idempotency_key="s1", direction="from_supplier")
    with pytest.raises(Refused, match="the supplier order"):
        workflow.create_refund(
            shipped, by=None, amount="0.02", idempotency_key="s2", direction="from_supplier"
        )
    supplier = Refund.objects.get(idempotency_key="s1")
    assert supplier.currency == "CNY"
    assert workflow.refundable(shipped, "from_supplier") == Decimal("0.01")


def test_rejected_refunds_no_longer_count(shipped):
    refund = workflow.create_refund(shipped, by=None, amount="100.00", idempotency_key="a")
    refund.reject(timezone.now())
    refund.save()
    assert workflow.refundable(shipped) == Decimal("100.00")
    workflow.create_refund(shipped, by=None, amount="100.00", idempotency_key="b")


def test_same_key_twice_returns_the_first_refund_and_creates_nothing(shipped):
    first = workflow.create_refund(shipped, by=None, amount="20.00", idempotency_key="retry")
    before = snapshot(shipped)

    again = workflow.create_refund(shipped, by=None, amount="20.00", idempotency_key="retry")

    assert again.pk == first.pk
    assert snapshot(shipped) == before
    assert OrderEvent.objects.filter(order=shipped, transition="create_refund").count() == 1


def test_same_key_with_another_amount_or_order_is_refused(shipped):
    workflow.create_refund(shipped, by=None, amount="20.00", idempotency_key="retry")
    other = OrderFactory(status=Status.SHIPPED)
    before, before_other = snapshot(shipped), snapshot(other)

    with pytest.raises(Refused, match="already used for a different refund") as refused:
        workflow.create_refund(shipped, by=None, amount="25.00", idempotency_key="retry")
    assert refused.value.field == "idempotency_key"
    with pytest.raises(Refused, match="already used for a different refund"):
        workflow.create_refund(other, by=None, amount="20.00", idempotency_key="retry")

    assert snapshot(shipped) == before
    assert snapshot(other) == before_other


def test_nothing_to_refund_on_an_unpaid_order():
    order = OrderFactory(status=Status.AWAITING_PAYMENT)
    with pytest.raises(Refused, match="nothing to refund"):
        workflow.create_refund(order, by=None, amount="1.00", idempotency_key="k")


def test_requesting_a_refund_is_a_supervisor_s_permission(shipped):
    with pytest.raises(NotPermitted):
        workflow.create_refund(shipped, by=staff("Operator"), amount="1.00", idempotency_key="k")
    refund = workflow.create_refund(shipped, by=staff("Supervisor"), amount="1.00", idempotency_key="k")
    assert refund.requested_by.username == "supervisor"


def test_a_refund_that_will_not_happen_is_cancelled_and_frees_the_limit(shipped):
    # given: a goodwill refund agreed, then the buyer changed their mind
    refund = workflow.create_refund(shipped, by=None, amount="30.00", idempotency_key="goodwill")
    supervisor = staff("Supervisor")

    # when
    cancelled = workflow.cancel_refund(refund.pk, by=supervisor, note="Buyer declined the goodwill refund")

    # then
    fresh = Refund.objects.get(pk=refund.pk)
    assert (cancelled.status, fresh.status) == ("cancelled", "cancelled")
    assert fresh.ended_at is not None
    assert workflow.refundable(shipped) == Decimal("100.00")
    event = OrderEvent.objects.get(order=shipped, transition="cancel_refund")
    assert (event.actor, event.from_status, event.to_status) == (supervisor, Status.SHIPPED, Status.SHIPPED)
    assert event.data["refund"] == refund.pk
    assert event.data["note"] == "Buyer declined the goodwill refund"


@pytest.mark.parametrize(
    ("by", "note", "error", "message"),
    [
        ("Operator", "not wanted", NotPermitted, "not allowed to cancel refunds"),
        ("Supervisor", "  ", Refused, "Say why the refund will not happen"),
    ],
)
def test_cancelling_a_refund_needs_the_permission_and_a_note(shipped, by, note, error, message):
    refund = workflow.create_refund(shipped, by=None, amount="30.00", idempotency_key="goodwill")
    before = snapshot(shipped)

    with pytest.raises(error, match=message):
        workflow.cancel_refund(refund, by=staff(by), note=note)

    assert snapshot(shipped) == before


def test_only_a_requested_refund_can_be_cancelled():
    order = OrderFactory(status=Status.REFUND_PENDING, close_reason="buyer_cancelled")
    refund = workflow.create_refund(order, by=None, amount="100.00", idempotency_key="consent")
    workflow.confirm_refund(order, by=None, reference="RF-1")
    before = snapshot(order)

    with pytest.raises(Refused, match="Only a requested refund can be cancelled; this one is “Succeeded”"):
        workflow.cancel_refund(refund, by=None, note="too late")

    assert snapshot(order) == before


def test_the_refund_an_order_waits_for_is_answered_on_the_order_not_cancelled():
    # given: the buyer refund a refund-pending order waits for, and a second one beside it
    order = OrderFactory(status=Status.REFUND_PENDING, close_reason="buyer_cancelled")
    first = workflow.create_refund(order, by=None, amount="60.00", idempotency_key="consent")
    second = workflow.create_refund(order, by=None, amount="40.00", idempotency_key="extra")

    # when / then: one of the two may go, the last one may not
    workflow.cancel_refund(second, by=None, note="agreed by mistake")
    before = snapshot(order)
    with pytest.raises(Refused, match="waits for this refund"):
        workflow.cancel_refund(first, by=None, note="no")
    assert snapshot(order) == before
    assert Refund.objects.get(pk=first.pk).status == "requested"


def test_a_refund_that_does_not_exist_is_refused_clearly():
    with pytest.raises(Refused, match="Refund 999999 does not exist"):
        workflow.cancel_refund(999_999, by=None, note="gone")


@pytest.mark.postgres
def test_postgresql_refuses_a_raw_insert_above_the_limit(shipped):
    workflow.create_refund(shipped, by=None, amount="90.00", idempotency_key="a")
    sql = (
        "INSERT INTO orders_refund (order_id, direction, status, amount, currency, reason, reference, "
        "idempotency_key, chase_count, requested_at) "
        "VALUES (%s, 'to_buyer', 'requested', %s, 'USD', '', '', %s, 0, now())"
    )

    with (
        pytest.raises(DatabaseError, match="above the limit"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(sql, [shipped.pk, Decimal("10.01"), "raw-1"])
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, [shipped.pk, Decimal("10.00"), "raw-2"])  # exactly the limit is fine

    assert sum(r.amount for r in Refund.objects.filter(order=shipped)) == Decimal("100.00")


@pytest.mark.postgres
def test_postgresql_refuses_a_raw_non_positive_amount(shipped):
    with (
        pytest.raises(DatabaseError, match="refund_amount_positive"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            "INSERT INTO orders_refund (order_id, direction, status, amount, currency, reason, reference, "
            "idempotency_key, chase_count, requested_at) "
            "VALUES (%s, 'to_buyer', 'requested', 0, 'USD', '', '', 'zero', 0, now())",
            [shipped.pk],
        )
    assert not Refund.objects.filter(order=shipped).exists()
