"""Analytics recommendations: each rule fires on the exact figures, not on the rounded share."""

from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone
from django_celery_beat.models import PeriodicTask

from orders.models import CloseReason, CloseStage
from orders.selectors import analytics, recommendations
from orders.selectors.costs import CostOfCloses
from tests.factories import StoreFactory

pytestmark = pytest.mark.django_db


# --- recommendations: the rule on the exact figures, not on the rounded share ----------------


def _view(total: int, *, reasons: dict[str, int] | None = None, paid: int = 0, quality=None):
    """The analytics of a view with these figures, as close_analytics would return them."""
    reasons = reasons or {}
    by_reason = [
        analytics.Row(
            r.value,
            str(r.label),
            reasons.get(r.value, 0),
            analytics.share_percent(reasons.get(r.value, 0), total),
        )
        for r in CloseReason
    ]
    stages = {CloseStage.PAID.value: paid, CloseStage.UNPAID.value: total - paid}
    by_stage = [
        analytics.Row(
            s.value,
            str(s.label),
            stages.get(s.value, 0),
            analytics.share_percent(stages.get(s.value, 0), total),
        )
        for s in CloseStage
    ]
    return analytics.CloseAnalytics(
        start=date(2026, 3, 1),
        end=date(2026, 3, 31),
        supplier=None,
        sku=None,
        country=None,
        bucket="day",
        total=total,
        by_reason=by_reason,
        by_stage=by_stage,
        over_time=[],
        by_supplier=[],
        by_sku=[],
        medians=[],
        supplier_quality=quality or {},
    )


def _rules(data) -> list[str]:
    return [r.rule for r in recommendations.recommend(data, now=timezone.now(), user=None)]


def test_payment_timeout_just_above_twenty_percent_recommends_reminders():
    # 81 of 404 closes = 20.05% (shown as 20.0%): above the 20% of the rule
    data = _view(404, reasons={CloseReason.PAYMENT_TIMEOUT: 81, CloseReason.OTHER: 323})
    assert Decimal(81) / 404 * 100 > recommendations.PAYMENT_TIMEOUT_SHARE
    assert "payment_timeout_share" in _rules(data)


def test_shipping_issue_just_above_fifteen_percent_recommends_carrier_review():
    # 61 of 406 = 15.02% (shown as 15.0%): above the 15% of the rule
    data = _view(406, reasons={CloseReason.SHIPPING_ISSUE: 61, CloseReason.OTHER: 345})
    assert "shipping_issue_share" in _rules(data)


def test_paid_stage_just_above_thirty_percent_recommends_checking_stock():
    # 61 of 203 = 30.05% (shown as 30.0%): above the 30% of the rule
    data = _view(203, reasons={CloseReason.OTHER: 203}, paid=61)
    assert "paid_stage_share" in _rules(data)


def test_supplier_quality_just_below_thirty_percent_does_not_fire():
    # 428 of 1429 = 29.95% (shown as 30.0%): below the 30% of the rule
    data = _view(1429, reasons={CloseReason.QUALITY_ISSUE: 428}, quality={"Z Factory": (1429, 428)})
    assert "supplier_quality" not in _rules(data)
    # and 3 of 10 = exactly 30% does
    data = _view(10, reasons={CloseReason.QUALITY_ISSUE: 3}, quality={"Z Factory": (10, 3)})
    assert "supplier_quality" in _rules(data)


# --- the actions say what is true now (issue 23) ------------------------------------------------


def _actions(data, **kwargs) -> dict[str, list[str]]:
    found: dict[str, list[str]] = {}
    for r in recommendations.recommend(data, now=timezone.now(), **kwargs):
        found.setdefault(r.rule, []).append(r.action)
    return found


def test_reminders_that_are_on_are_not_recommended_to_be_turned_on():
    # given: unpaid orders time out too often, and the reminders' schedule is on (as installed)
    data = _view(100, reasons={CloseReason.PAYMENT_TIMEOUT: 40, CloseReason.OTHER: 60})
    assert PeriodicTask.objects.filter(task="orders.send_payment_reminders", enabled=True).exists()
    # then: the action says they are on, after how long, and asks for sooner ones
    [action] = _actions(data, user=None)["payment_timeout_share"]
    assert "Turn on" not in action
    assert action == (
        "Payment reminders are on (24 hours after the order): remind buyers sooner, "
        "and check the checkout for friction."
    )


def test_each_store_says_its_own_reminder_delay():
    # given: a second store that reminds after 6 hours
    eu = StoreFactory(code="eu", payment_reminder_hours=6)
    data = _view(100, reasons={CloseReason.PAYMENT_TIMEOUT: 40, CloseReason.OTHER: 60})
    [both] = _actions(data, user=None)["payment_timeout_share"]
    assert "(eu: 6 hours, main: 24 hours)" in both
    # a view of the one store says its delay alone
    [one] = _actions(replace(data, store=eu), user=None)["payment_timeout_share"]
    assert "(6 hours after the order)" in one


def test_reminders_that_are_off_are_recommended_to_be_turned_on():
    PeriodicTask.objects.filter(task="orders.send_payment_reminders").update(enabled=False)
    name = PeriodicTask.objects.get(task="orders.send_payment_reminders").name
    data = _view(100, reasons={CloseReason.PAYMENT_TIMEOUT: 40, CloseReason.OTHER: 60})
    [action] = _actions(data, user=None)["payment_timeout_share"]
    assert action == (
        f"Turn on payment reminders (the periodic task “{name}” is disabled) and check the checkout "
        "for friction."
    )


def _refusals(**by_supplier: tuple[int, str]) -> CostOfCloses:
    """A view's cost of closes in which each supplier refused refunds: (closes, their cost)."""
    return CostOfCloses(
        currency="USD",
        total=Decimal("0"),
        closes=0,
        incomplete=0,
        by_reason=[],
        by_supplier=[],
        by_sku=[],
        by_country=[],
        over_time=[],
        supplier_refusals={name: (n, Decimal(cost)) for name, (n, cost) in by_supplier.items()},
    )


def test_only_the_supplier_whose_refusals_cost_most_is_said_to_cost_the_most():
    # given: five suppliers refused refunds, one of them cost more than the others
    costs = _refusals(A=(1, "10.00"), B=(2, "95.50"), C=(1, "40.00"), D=(3, "12.00"), E=(1, "0.50"))
    found = recommendations.recommend(_view(10), now=timezone.now(), user=None, costs=costs)
    said = [r for r in found if "cost the most" in r.action]
    assert [(r.subject, r.action, r.why) for r in said] == [
        (
            "B",
            "Renegotiate with B or move its SKUs: its refusals cost the most.",
            "2 close(s) where it refused a refund cost 95.50 USD.",
        )
    ]


def test_suppliers_whose_refusals_cost_as_much_are_said_to_tie():
    costs = _refusals(A=(1, "50.00"), B=(2, "50.00"), C=(1, "20.00"))
    found = recommendations.recommend(_view(10), now=timezone.now(), user=None, costs=costs)
    [tie] = [r for r in found if r.rule == "supplier_refusal_cost"]
    assert tie.action == (
        "Renegotiate with A and B or move their SKUs: their refusals cost the most, as much each."
    )
    assert tie.why == "The closes where each refused a refund cost 50.00 USD: A, 1 close(s); B, 2 close(s)."
    # and refusals that cost nothing make nobody "cost the most"
    free = _refusals(A=(1, "0.00"))
    assert not [
        r
        for r in recommendations.recommend(_view(10), now=timezone.now(), user=None, costs=free)
        if r.rule == "supplier_refusal_cost"
    ]
