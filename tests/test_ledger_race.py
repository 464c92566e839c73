"""The kept loss ledger under real concurrency (PostgreSQL): two writers of one order's row at
once end with the row a rebuild computes, never with the one computed from a state the other
replaced."""

from __future__ import annotations

import threading
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders import workflow
from orders.models import ExchangeRate, Order, OrderLedger, Refund, RefundStatus, Status
from orders.workflow import ledger as kept_ledger
from orders.workflow import rates
from orders.workflow.ledger import rebuild_ledger
from tests.concurrency_support import race
from tests.factories import OrderFactory, SupplierOrderFactory

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def closed_with_two_requests():
    """A close of a sale paid 100.00 USD, bought for 300.00 CNY, with two supplier refunds of
    50.00 CNY asked after the close; USD 1.10 and CNY 7.70 per euro on every day of the month."""
    today = timezone.localdate()
    rates.load_rates(
        [
            (today - timedelta(days=n), c, Decimal(r))
            for n in range(30)
            for c, r in (("USD", "1.10"), ("CNY", "7.70"))
        ],
        source="test",
    )
    order = OrderFactory(
        status=Status.CLOSED,
        close_reason="other",
        close_stage="paid",
        closed_at=timezone.now(),
        shipped_at=None,
        tracking_number="",
    )
    SupplierOrderFactory(order=order, amount=Decimal("300.00"), created_at=timezone.now() - timedelta(days=1))
    rebuild_ledger()  # built with factories: the workflow keeps it from here on
    for key in ("late-1", "late-2"):
        workflow.create_refund(
            order.pk, by=None, amount="50.00", direction="from_supplier", idempotency_key=key
        )
    return order


def test_two_answers_on_one_order_at_once_leave_the_row_with_both(closed_with_two_requests):
    # given two supplier refunds waiting on one closed order: its ledger is incomplete
    order = closed_with_two_requests
    assert OrderLedger.objects.get(order=order).incomplete
    first, second = Refund.objects.filter(order=order).order_by("pk")

    # when both are approved at the same moment, by two people
    results = race(
        [
            lambda: workflow.record_purchase_refund_approval(first.pk, by=None, reference="A"),
            lambda: workflow.record_purchase_refund_approval(second.pk, by=None, reference="B"),
        ]
    )

    # then the row counts both: 100.00 CNY recovered, complete, as a rebuild computes it
    assert [outcome for outcome, _value in results] == ["ok", "ok"], results
    row = OrderLedger.objects.get(order=order)
    assert (row.recovered_from_supplier_cny, row.incomplete) == (Decimal("100.00"), False)
    assert row.converted_recovered == Decimal("14.28")  # 2 × (50 × 1.10 / 7.70 = 7.14)
    assert rebuild_ledger(check=True).differences == {}


def test_a_rate_corrected_while_a_step_computes_the_row_is_not_lost(closed_with_two_requests, monkeypatch):
    # given a step on the order that is slow between computing its row and committing, and a
    # correction of today's CNY rate that starts while it holds the order
    order = closed_with_two_requests
    pending = Refund.objects.filter(order=order, status=RefundStatus.REQUESTED).order_by("pk").first()
    today_cny = ExchangeRate.objects.get(currency="CNY", date=timezone.localdate())
    slow = threading.local()
    computed = kept_ledger.computed_entries

    def computed_then_wait(orders):
        found = computed(orders)
        if getattr(slow, "on", False):
            time.sleep(1.0)  # the correction commits meanwhile, unless it waits for this step
        return found

    monkeypatch.setattr(kept_ledger, "computed_entries", computed_then_wait)

    def approve():
        slow.on = True
        return workflow.record_purchase_refund_approval(pending.pk, by=None, reference="A")

    def correct():
        time.sleep(0.3)  # the step holds the order by now
        return rates.correct_rate(today_cny, by=None, new_rate="11.00", note="ECB correction")

    # when
    results = race([approve, correct])

    # then the row has both: the refund approved, converted at the corrected rate
    assert [outcome for outcome, _value in results] == ["ok", "ok"], results
    row = OrderLedger.objects.get(order=order)
    assert row.recovered_from_supplier_cny == Decimal("50.00")
    assert row.converted_recovered == Decimal("5.00")  # 50 × 1.10 / 11.00
    assert rebuild_ledger(check=True).differences == {}
    assert Order.objects.get(pk=order.pk).status == Status.CLOSED
