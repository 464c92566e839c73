"""The kept loss ledger (orders/workflow/ledger.py): what the workflow writes as things happen is
what a rebuild from scratch computes, whatever the history.

Hypothesis draws orders (currencies, purchases with or without an amount) and a history of
steps through the workflow — closes of the three flows, refunds asked, approved, refused or
cancelled after the close, goods back in stock, rates corrected or added — and after the
history the kept rows must be exactly those ``rebuild_ledger`` computes, and what the analytics
read from them.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.db import transaction
from django.utils import timezone
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from orders import workflow
from orders.models import ExchangeRate, Order, OrderLedger, Refund, RefundStatus, Status
from orders.selectors.ledger import closed_between, csv_rows, ledger
from orders.workflow import rates
from orders.workflow.ledger import rebuild_ledger, refresh_ledger
from shopops.errors import Refused
from tests.factories import OrderFactory, SupplierOrderFactory
from tests.workflow_support import attach, private_media, say  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

KEPT = settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
CURRENCIES = ["USD", "EUR", "BRL", "GBP"]  # GBP has no rate: its closes are incomplete


def _rates(gap: int) -> None:
    """USD, CNY and BRL on the weekdays of the last three weeks, but for the ``gap``-th day back."""
    today = timezone.localdate()
    rows = []
    for back in range(21):
        day = today - timedelta(days=back)
        if day.weekday() < 5 and back != gap:
            rows += [
                (day, "USD", Decimal("1.10")),
                (day, "CNY", Decimal("7.70")),
                (day, "BRL", Decimal("5.50")),
            ]
    rates.load_rates(rows, source="test")


def _order(flow: str, currency: str, purchase: str) -> Order:
    status = {"unpaid": Status.AWAITING_PAYMENT, "cancel": Status.PAID, "return": Status.SHIPPED}[flow]
    order = OrderFactory(status=status, currency=currency)
    if purchase != "none":
        amount = None if purchase == "no amount" else Decimal("300.00")
        SupplierOrderFactory(order=order, amount=amount, created_at=timezone.now() - timedelta(days=1))
    return order


def _said(pk: int, **kwargs) -> None:
    say(Order.objects.get(pk=pk), **kwargs)


def _script(pk: int, flow: str, choice: str, end: str) -> list[Callable[[], object]]:
    """The steps of one order's flow, in order: each draw of "advance" runs the next one."""
    if flow == "unpaid":
        reason = "out_of_stock" if choice == "out_of_stock" else "other"
        return [lambda: workflow.close_unpaid(pk, by=None, reason=reason)]
    if flow == "cancel":
        purchase = {"to_stock": "to_stock", "cancel_on_1688": "cancel_on_1688"}.get(choice, "")
        return [
            lambda: (_said(pk), workflow.request_cancellation(pk, by=None)),
            lambda: (
                _said(pk, kind="consent"),
                workflow.record_buyer_consent(pk, by=None, reason="buyer_cancelled", purchase=purchase),
            ),
            lambda: (
                attach(Order.objects.get(pk=pk)),
                workflow.escalate_to_support(pk, by=None, reference="CS-1"),
            ),
            lambda: workflow.confirm_refund(pk, by=None, reference="RF-1"),
        ]
    steps = [
        lambda: (_said(pk), workflow.propose_return(pk, by=None)),
        lambda: (
            _said(pk, kind="consent"),
            workflow.record_return_agreement(pk, by=None, reason="quality_issue", tracking_number="RT1CN"),
        ),
        lambda: workflow.receive_return(
            pk,
            by=None,
            quantity=2,
            condition="damaged" if choice == "cancel_on_1688" else "resellable",
            to_supplier=1 if choice == "to_stock" else None,
        ),
    ]
    if end == "close":
        return [*steps, lambda: workflow.close_return(pk, by=None, note="Not worth claiming")]
    steps.append(lambda: workflow.request_supplier_refund(pk, by=None, amount="100.00", reason="Broken"))
    if end == "approve":
        return [
            *steps,
            lambda: workflow.record_supplier_approval(pk, by=None, amount="80.00", reference="OK"),
        ]
    return [
        *steps,
        lambda: (
            _said(pk, kind="refusal", counterparty="supplier"),
            workflow.record_supplier_refusal(pk, by=None, reference="NO"),
        ),
        lambda: workflow.resolve_dispute(pk, by=None, outcome="won", amount="50.00"),
    ]


def _after_close(pk: int, what: str) -> None:
    """Money that moves on a closed order: a supplier refund asked, then answered or withdrawn."""
    pending = Refund.objects.filter(order_id=pk, status=RefundStatus.REQUESTED).order_by("pk").first()
    if what == "ask":
        key = f"after-{pk}-{Refund.objects.filter(order_id=pk).count()}"
        workflow.create_refund(pk, by=None, amount="10.00", direction="from_supplier", idempotency_key=key)
    elif pending is None:
        return
    elif what == "approve":
        workflow.record_purchase_refund_approval(pending, by=None, amount=None, reference="OK")
    elif what == "refuse":
        workflow.record_purchase_refund_refusal(pending, by=None, reference="NO", note="Refused")
    else:
        workflow.cancel_refund(pending, by=None, note="Not worth it")


def _rate_step(what: str, back: int, currency: str) -> None:
    day = timezone.localdate() - timedelta(days=back)
    if what == "correct":
        stored = ExchangeRate.objects.filter(currency=currency, date__lte=day).order_by("-date").first()
        if stored is not None:
            rates.correct_rate(stored, by=None, new_rate=stored.rate * Decimal("1.5"), note="ECB correction")
    else:  # a rate of a day that had none (a gap, a weekend): it converts the days after it
        rates.load_rates([(day, currency, Decimal("9.90"))], source="late file")


orders_drawn = st.lists(
    st.tuples(
        st.sampled_from(["unpaid", "cancel", "return"]),
        st.sampled_from(CURRENCIES),
        st.sampled_from(["none", "no amount", "amount"]),
        st.sampled_from(["out_of_stock", "to_stock", "cancel_on_1688", "other"]),
        st.sampled_from(["close", "approve", "refuse"]),
    ),
    min_size=1,
    max_size=4,
)
steps_drawn = st.lists(
    st.one_of(
        st.tuples(st.just("advance"), st.integers(0, 3)),
        st.tuples(
            st.just("after"), st.integers(0, 3), st.sampled_from(["ask", "approve", "refuse", "cancel"])
        ),
        st.tuples(
            st.just("rate"),
            st.sampled_from(["correct", "add"]),
            st.integers(0, 10),
            st.sampled_from(["USD", "CNY", "BRL"]),
        ),
    ),
    max_size=25,
)


@KEPT
@given(drawn=orders_drawn, steps=steps_drawn, gap=st.integers(0, 6))
def test_the_ledger_kept_step_by_step_is_the_ledger_rebuilt(drawn, steps, gap):
    with transaction.atomic():  # each example starts from the same empty database
        # given orders and the rates of the last weeks
        _rates(gap)
        orders = [_order(flow, currency, purchase) for flow, currency, purchase, _c, _e in drawn]
        scripts = [
            _script(order.pk, flow, choice, end)
            for order, (flow, _cur, _p, choice, end) in zip(orders, drawn, strict=True)
        ]
        # when the history happens through the workflow (a step it refuses writes nothing)
        for step in steps:
            try:
                if step[0] == "advance" and step[1] < len(orders) and scripts[step[1]]:
                    scripts[step[1]].pop(0)()
                elif step[0] == "after" and step[1] < len(orders):
                    _after_close(orders[step[1]].pk, step[2])
                elif step[0] == "rate":
                    _rate_step(*step[1:])
            except Refused:
                pass
        kept = list(OrderLedger.objects.order_by("pk").values())
        shown = [row.csv_row() for row in ledger(closed_between(None, None, user=None))]
        # then the rows kept are those a rebuild computes, one per closed order
        check = rebuild_ledger(check=True)
        assert check.differences == {}
        assert {row["order_id"] for row in kept} == set(
            Order.objects.filter(status=Status.CLOSED).values_list("pk", flat=True)
        )
        rebuild_ledger()
        assert list(OrderLedger.objects.order_by("pk").values()) == [
            {**row, "updated_at": after["updated_at"]}
            for row, after in zip(kept, OrderLedger.objects.order_by("pk").values(), strict=True)
        ]
        assert [row.csv_row() for row in ledger(closed_between(None, None, user=None))] == shown
        # and the CSV export says what the rows say
        exported = [[str(cell) for cell in row] for row in csv_rows(closed_between(None, None, user=None))]
        assert exported == [[str(cell) for cell in row] for row in shown]
        transaction.set_rollback(True)


def test_a_corrected_rate_changes_the_kept_cost_of_the_closes_that_used_it():
    # given a close of a sale of 100.00 BRL, paid at 5.50 BRL (1.10 USD) per euro: 20.00 USD
    _rates(gap=99)
    order = _order("cancel", "BRL", "none")
    for step in _script(order.pk, "cancel", "other", "close"):
        step()
    assert OrderLedger.objects.get(order=order).converted_paid == Decimal("20.00")
    # when Finance corrects the rate of the day it was paid (the last published by then)
    paid_day = timezone.localdate(Order.objects.get(pk=order.pk).paid_at)
    used = ExchangeRate.objects.filter(currency="BRL", date__lte=paid_day).order_by("-date").first()
    rates.correct_rate(used, by=None, new_rate="11.00", note="ECB correction")
    # then the kept ledger converts the payment at the new rate, and the old rate stays in the history
    assert OrderLedger.objects.get(order=order).converted_paid == Decimal("10.00")
    assert used.changes.get().old_rate == Decimal("5.50")
    assert rebuild_ledger(check=True).differences == {}


def test_an_order_that_is_not_closed_has_no_row():
    order = OrderFactory(status=Status.PAID)
    assert refresh_ledger([order.pk]).written == 0
    assert not OrderLedger.objects.exists()


def test_rebuild_ledger_check_reports_a_stale_row_and_writes_nothing(capsys):
    # given a close whose row was never written (a factory bypasses the workflow)
    _rates(gap=99)
    order = OrderFactory(
        status=Status.CLOSED,
        close_reason="other",
        close_stage="paid",
        closed_at=timezone.now(),
        shipped_at=None,
    )
    # when / then: --check names it and fails, writing nothing
    with pytest.raises(CommandError, match="differs for 1 of 1 orders"):
        call_command("rebuild_ledger", "--check")
    assert f"{order.platform_order_id}: (missing)" in capsys.readouterr().out
    assert not OrderLedger.objects.exists()
    # the rebuild writes it; the check then passes
    call_command("rebuild_ledger")
    assert OrderLedger.objects.get(order=order).cost_of_close == Decimal("-100.00")
    call_command("rebuild_ledger", "--check", "--store", order.store.code)
    assert "up to date: 1 orders checked" in capsys.readouterr().out
    with pytest.raises(CommandError, match="--store"):
        call_command("rebuild_ledger", "--store", "NOPE")
