"""Real concurrency on PostgreSQL: threads with their own connections, released together."""

from decimal import Decimal

import pytest

from orders import workflow
from orders.models import Order, OrderEvent, Refund, Status
from shopops.errors import OrderChanged, Refused
from tests.concurrency_support import race
from tests.factories import OrderFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def test_twenty_conflicting_transitions_exactly_one_wins(transactional_db):
    # given: one unpaid order, loaded once, as twenty operators' screens would have it
    order = OrderFactory(status=Status.AWAITING_PAYMENT)
    seen = Order.objects.get(pk=order.pk)
    calls = [lambda: workflow.close_unpaid(seen, by=None, reason="buyer_cancelled")] * 10
    calls += [lambda: workflow.mark_paid(seen, by=None)] * 10

    # when
    results = race(calls)

    # then
    wins = [value for outcome, value in results if outcome == "ok"]
    errors = [value for outcome, value in results if outcome == "error"]
    assert len(wins) == 1
    assert len(errors) == 19
    assert all(isinstance(e, OrderChanged) for e in errors), errors
    assert all("has changed" in str(e) for e in errors)
    assert OrderEvent.objects.filter(order=order).count() == 1
    final = Order.objects.get(pk=order.pk)
    assert final.status == wins[0].status
    assert final.status in (Status.CLOSED, Status.PAID)


def test_ten_refunds_of_twenty_on_a_hundred_exactly_five_succeed(transactional_db):
    order = OrderFactory(status=Status.SHIPPED, total_amount=Decimal("100.00"))
    calls = [
        (
            lambda key=f"goodwill-{n}": workflow.create_refund(
                order.pk, by=None, amount="20.00", idempotency_key=key
            )
        )
        for n in range(10)
    ]

    results = race(calls)

    wins = [value for outcome, value in results if outcome == "ok"]
    errors = [value for outcome, value in results if outcome == "error"]
    assert len(wins) == 5
    assert len(errors) == 5
    assert all(isinstance(e, Refused) and "exceed" in str(e) for e in errors), errors
    refunds = Refund.objects.filter(order=order)
    assert refunds.count() == 5
    assert sum(r.amount for r in refunds) == Decimal("100.00")
    assert OrderEvent.objects.filter(order=order, transition="create_refund").count() == 5


def test_the_same_refund_key_sent_ten_times_at_once_makes_one_refund(transactional_db):
    order = OrderFactory(status=Status.SHIPPED)
    calls = [
        lambda: workflow.create_refund(order.pk, by=None, amount="20.00", idempotency_key="retry-1")
    ] * 10

    results = race(calls)

    assert [outcome for outcome, _value in results] == ["ok"] * 10
    assert len({value.pk for _outcome, value in results}) == 1
    assert Refund.objects.filter(order=order).count() == 1
