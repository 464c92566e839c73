"""Close analytics: the numbers on a known data set, the filters, and each recommendation's rule."""

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import (
    CloseStage,
    Refund,
    Status,
)
from orders.selectors import analytics, costs, ledger, recommendations
from tests.analytics_support import (
    END,
    START,
    at,
    closed,
)
from tests.factories import OrderFactory, RefundFactory, SkuFactory, SupplierOrderFactory

pytestmark = pytest.mark.django_db


def as_counts(rows) -> dict[str, tuple[int, Decimal]]:
    return {row.key: (row.count, row.share) for row in rows if row.count}


def test_counts_and_shares_by_reason_and_stage(known_closes):
    # when
    data = analytics.close_analytics(START, END, user=None)
    # then
    assert data.total == 8
    assert as_counts(data.by_reason) == {
        "payment_timeout": (2, Decimal("25.0")),
        "product_info_error": (2, Decimal("25.0")),
        "quality_issue": (2, Decimal("25.0")),
        "out_of_stock": (1, Decimal("12.5")),
        "buyer_cancelled": (1, Decimal("12.5")),
    }
    assert len(data.by_reason) == 9  # every reason is listed, the ones without closes at 0
    assert as_counts(data.by_stage) == {
        "unpaid": (3, Decimal("37.5")),
        "paid": (3, Decimal("37.5")),
        "shipped": (2, Decimal("25.0")),
    }


def test_suppliers_and_skus(known_closes):
    data = analytics.close_analytics(START, END, user=None)
    assert [(r.label, r.count, r.share) for r in data.by_supplier] == [
        ("Y Factory", 3, Decimal("37.5")),
        ("义乌X饰品厂", 2, Decimal("25.0")),
    ]
    assert [(r.key, r.label, r.count) for r in data.by_sku] == [
        ("A-1", "Alpha case", 4),
        ("B-2", "Beta strap", 4),
    ]


def test_cost_of_closes_adds_up_the_ledger_of_every_close(known_closes, march_rates):
    # The per-close arithmetic is tested by hand in tests/test_ledger.py; here the groups.
    closes = analytics.closed_orders(START, END, user=None)
    rows = ledger.ledger(closes)
    data = costs.cost_of_closes(closes, START, END)
    assert data.closes == len(rows) == 8
    complete = [r for r in rows if r.cost_of_close is not None]
    assert data.incomplete == 8 - len(complete)
    assert data.total == sum((r.cost_of_close for r in complete), Decimal("0.00"))
    assert sum(r.cost for r in data.by_reason) == data.total
    assert sum(v for _d, v in data.over_time) == data.total
    per_reason = {}
    for r in complete:
        per_reason[r.close_reason] = per_reason.get(r.close_reason, Decimal("0")) + r.cost_of_close
    assert {r.key: r.cost for r in data.by_reason if r.closes - r.incomplete} == per_reason
    assert data.by_reason == sorted(data.by_reason, key=lambda r: (-r.cost, -r.closes, r.key))


def test_median_time_to_close_per_flow(known_closes):
    data = analytics.close_analytics(START, END, user=None)
    medians = {m.flow: (m.count, m.median, m.median_hours) for m in data.medians}
    assert medians == {
        "unpaid": (3, timedelta(0), Decimal("0.0")),  # 0, 0, 2 h
        "cancellation": (3, timedelta(hours=20), Decimal("20.0")),  # 10, 20, 30 h
        "return": (2, timedelta(hours=72), Decimal("72.0")),  # 48, 96 h: the mean of the middle two
    }


def test_over_time_by_day_uses_the_local_calendar_day(known_closes):
    data = analytics.close_analytics(START, END, user=None)
    per_day = dict(data.over_time)
    assert len(per_day) == 31 and sum(per_day.values()) == 8
    # P3 closed at 23:30 and S1 at 00:30 Shanghai time: both on 10 March in UTC, not locally.
    assert per_day[date(2026, 3, 10)] == 1
    assert per_day[date(2026, 3, 11)] == 1
    assert per_day[date(2026, 3, 2)] == 2
    assert per_day[date(2026, 3, 5)] == 0


def test_over_time_by_week_starts_on_monday(known_closes):
    data = analytics.close_analytics(START, END, bucket="week", user=None)
    weeks = dict(data.over_time)
    # 1 March 2026 is a Sunday: its week starts on Monday 23 February.
    assert next(iter(weeks)) == date(2026, 2, 23)
    assert weeks[date(2026, 2, 23)] == 0
    assert weeks[date(2026, 3, 2)] == 5  # U1, U2 (2nd), U3, P1 (3rd), P2 (4th)
    assert weeks[date(2026, 3, 9)] == 2  # P3 (10th), S1 (11th)
    assert weeks[date(2026, 3, 16)] == 1  # S2 (20th)
    assert weeks[date(2026, 3, 30)] == 0
    assert sum(weeks.values()) == 8


def test_filters_narrow_every_figure(known_closes):
    by_country = analytics.close_analytics(START, END, country="fr", user=None)
    assert by_country.total == 2
    assert as_counts(by_country.by_reason) == {
        "payment_timeout": (1, Decimal("50.0")),
        "product_info_error": (1, Decimal("50.0")),
    }

    by_supplier = analytics.close_analytics(START, END, supplier="Y Factory", user=None)
    assert by_supplier.total == 3
    assert {m.flow: m.median_hours for m in by_supplier.medians} == {
        "unpaid": None,
        "cancellation": Decimal("30.0"),
        "return": Decimal("72.0"),
    }

    by_sku = analytics.close_analytics(START, END, sku="A-1", user=None)
    assert by_sku.total == 4
    assert as_counts(by_sku.by_stage) == {"unpaid": (2, Decimal("50.0")), "paid": (2, Decimal("50.0"))}

    # The day before the period comes in when the period does.
    wider = analytics.close_analytics(date(2026, 2, 28), END, user=None)
    assert wider.total == 9
    assert wider.reason_count("product_info_error") == 3


# --- recommendations --------------------------------------------------------------------------


def rules(start: date = START, end: date = END, **filters) -> list[str]:
    data = analytics.close_analytics(start, end, **filters, user=None)
    return [r.rule for r in recommendations.recommend(data, now=timezone.now(), user=None)]


def test_known_data_calls_for_nothing(known_closes):
    # 8 closes (shares need 10), 2 product_info_error on A-1 (needs 3), 1 out_of_stock, no overdue refund.
    assert rules() == []


def test_product_info_error_rule_needs_three_closes_of_one_sku_in_the_view(known_closes):
    # The third one lies before the period: only a view that includes it fires the rule.
    assert "product_info_error_sku" not in rules()
    data = analytics.close_analytics(date(2026, 2, 28), END, user=None)
    found = [
        r
        for r in recommendations.recommend(data, now=timezone.now(), user=None)
        if r.rule == "product_info_error_sku"
    ]
    assert [(r.subject, "3 closes" in r.why) for r in found] == [("A-1", True)]
    assert "A-1" in found[0].action


def ten_closes(reasons: list[str], stage: str = CloseStage.UNPAID, supplier: str | None = None) -> None:
    sku = SkuFactory(code="TEN")
    for i, reason in enumerate(reasons):
        closed(reason, stage, sku=sku, closed_at=at(5, 1 + i), supplier=supplier)


def test_payment_timeout_rule_fires_above_twenty_percent():
    ten_closes(["payment_timeout"] * 2 + ["buyer_cancelled"] * 8)
    assert "payment_timeout_share" not in rules()  # exactly 20%
    closed("payment_timeout", "unpaid", sku=SkuFactory(code="TEN"), closed_at=at(6))
    assert rules().count("payment_timeout_share") == 1  # 3 of 11 = 27.3%


def test_share_rules_stay_quiet_on_few_closes():
    ten_closes(["payment_timeout"] * 9)  # 100%, but only 9 closes
    assert rules() == []


def test_out_of_stock_rule_and_repeated_out_of_stock_report():
    sku = SkuFactory(code="OOS-1")
    closed("out_of_stock", "unpaid", sku=sku, closed_at=at(5))
    closed("out_of_stock", "unpaid", sku=sku, closed_at=at(6))
    data = analytics.close_analytics(START, END, user=None)
    assert data.repeated("out_of_stock", 2) == [("OOS-1", 2)]
    assert "out_of_stock_sku" not in rules()
    closed("out_of_stock", "paid", sku=sku, closed_at=at(7))
    assert rules() == ["out_of_stock_sku"]
    assert [(s.code, s.oos_closes) for s in analytics.skus_with_repeated_out_of_stock(None)] == [("OOS-1", 3)]


def test_supplier_refund_overdue_rule(known_closes):
    pending = OrderFactory(
        status=Status.SUPPLIER_REFUND_PENDING, close_stage="shipped", close_reason="quality_issue"
    )
    SupplierOrderFactory(order=pending, supplier_name="Slow Supplier", amount=Decimal("300.00"))
    late = RefundFactory(
        order=pending, supplier=True, amount=Decimal("100.00"), respond_by=timezone.now() + timedelta(days=1)
    )
    assert "supplier_refund_overdue" not in rules()  # deadline not reached yet
    Refund.objects.filter(pk=late.pk).update(respond_by=timezone.now() - timedelta(hours=1))
    data = analytics.close_analytics(START, END, user=None)
    found = [
        r
        for r in recommendations.recommend(data, now=timezone.now(), user=None)
        if r.rule == "supplier_refund_overdue"
    ]
    assert [(r.subject, r.why.startswith("1 ")) for r in found] == [("Slow Supplier", True)]
    assert "1688" in found[0].action
    # Narrowed to another supplier, the overdue refund is not that supplier's business.
    assert "supplier_refund_overdue" not in rules(supplier="Y Factory")


def test_supplier_quality_rule_needs_three_and_thirty_percent():
    ten_closes(["quality_issue"] * 3 + ["buyer_cancelled"] * 8, stage="shipped", supplier="Shoddy Ltd")
    assert "supplier_quality" not in rules()  # 3 of 11 = 27.3%
    ten_closes(["quality_issue"], stage="shipped", supplier="Shoddy Ltd")  # 4 of 12 = 33.3%
    assert "supplier_quality" in rules()


def test_shipping_and_paid_stage_rules():
    ten_closes(["shipping_issue"] * 2 + ["other"] * 8, stage=CloseStage.PAID)
    found = rules()
    assert "shipping_issue_share" in found  # 20% > 15%
    assert "paid_stage_share" in found  # 100% > 30%
    assert "payment_timeout_share" not in found
