"""Analytics recommendations: each rule fires on the exact figures, not on the rounded share."""

from datetime import date
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import CloseReason, CloseStage
from orders.selectors import analytics, recommendations

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
