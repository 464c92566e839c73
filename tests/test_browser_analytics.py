"""In Chromium: an analyst sees the charts drawn, changes the period and downloads a CSV."""

from datetime import timedelta
from decimal import Decimal
from pathlib import Path

import pytest
from django.utils import timezone

from orders.models import ExchangeRate, RefundDirection, RefundStatus, Status
from orders.selectors.ledger import CSV_COLUMNS
from tests.axe_support import assert_accessible
from tests.factories import OrderFactory, RefundFactory, SkuFactory, SupplierOrderFactory, build_ledger, staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ARTIFACTS = Path(__file__).resolve().parent.parent / "test-artifacts"
PASSWORD = "correct-horse-9"  # tests.factories.UserFactory

# How many pixels of a canvas are painted (not fully transparent).
PAINTED = """(id) => {
  const c = document.getElementById(id);
  const d = c.getContext('2d').getImageData(0, 0, c.width, c.height).data;
  let n = 0;
  for (let i = 3; i < d.length; i += 4) { if (d[i] > 0) n++; }
  return n;
}"""


def closes_over_the_last_weeks() -> None:
    now = timezone.now()
    a, b = SkuFactory(code="CHART-A"), SkuFactory(code="CHART-B")
    plan = [("payment_timeout", "unpaid", 1), ("payment_timeout", "unpaid", 2), ("out_of_stock", "paid", 3)]
    plan += [
        ("quality_issue", "shipped", 12),
        ("buyer_cancelled", "paid", 20),
        ("shipping_issue", "shipped", 25),
    ]
    for days_ago in range(40):  # 1 EUR = 1.25 USD = 10 CNY every day
        day = timezone.localdate() - timedelta(days=days_ago)
        ExchangeRate.objects.create(date=day, currency="USD", rate=Decimal("1.25"))
        ExchangeRate.objects.create(date=day, currency="CNY", rate=Decimal("10"))
    for i, (reason, stage, days_ago) in enumerate(plan):
        closed_at = now - timedelta(days=days_ago)
        order = OrderFactory(
            status=Status.CLOSED,
            close_reason=reason,
            close_stage=stage,
            close_started_at=closed_at - timedelta(hours=5),
            closed_at=closed_at,
            sku=a if i % 2 else b,
            placed_at=closed_at - timedelta(days=3),
        )
        if stage != "unpaid":  # paid 100 USD, bought for 300 CNY (37.50 USD), refunded in full
            SupplierOrderFactory(
                order=order, amount=Decimal("300.00"), created_at=closed_at - timedelta(days=2)
            )
            RefundFactory(
                order=order,
                direction=RefundDirection.TO_BUYER,
                status=RefundStatus.SUCCEEDED,
                amount=Decimal("100.00"),
                requested_at=closed_at,
            )
    build_ledger()  # the factories bypass the workflow, which keeps it


def test_analyst_sees_charts_changes_period_and_downloads_csv(page, live_server, admin_login):
    staff("Analyst")
    closes_over_the_last_weeks()
    admin_login(page, "analyst", PASSWORD)

    # The admin index links to the analytics.
    page.click("#worklist a[href='/admin/orders/analytics/']")
    page.wait_for_selector("body[data-charts-drawn='1']")
    assert "6 orders closed" in page.inner_text("#analytics-summary")
    for chart in (
        "chart-reasons",
        "chart-stages",
        "chart-over_time",
        "chart-skus",
        "chart-costs",
        "chart-cost_over_time",
    ):
        assert page.evaluate(PAINTED, chart) > 500, f"{chart} is blank"
    assert_accessible(page)  # the charts, the tables and the filters: WCAG 2.1 A/AA (axe-core)
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "analytics-page.png"), full_page=True)

    # when: the period is narrowed to the last 7 days
    start = (timezone.localdate() - timedelta(days=6)).isoformat()
    page.fill("input[name=start]", start)
    page.click("#analytics-filters input[type=submit]")
    page.wait_for_selector("body[data-charts-drawn='1']")
    # then: the URL carries it and the numbers follow
    assert f"start={start}" in page.url
    assert "3 orders closed" in page.inner_text("#analytics-summary")
    assert page.evaluate(PAINTED, "chart-reasons") > 500
    assert page.evaluate(PAINTED, "chart-costs") > 500
    # the paid close of the last 7 days cost the supplier's 300 CNY = 37.50 USD (the unpaid
    # factory orders have shipped goods and no supplier order: incomplete, left out of the total)
    assert "37.50 USD" in page.inner_text("#cost-total")

    # and the reasons table downloads as CSV with the same filter
    with page.expect_download() as info:
        page.click("a[data-export='reasons']")
    download = info.value
    assert download.suggested_filename.startswith("close-analytics-reasons-")
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    lines = text.splitlines()
    assert lines[0] == "Reason,Closes,Share %"
    assert "Buyer did not pay in time,2,66.7" in lines

    # and the loss ledger, with the columns of manage.py loss_ledger
    with page.expect_download() as info:
        page.click("a[data-export='ledger']")
    lines = Path(info.value.path()).read_text(encoding="utf-8-sig").splitlines()
    assert lines[0].split(",") == CSV_COLUMNS
    assert len(lines) == 4  # the three closes of the last 7 days


def test_operator_cannot_open_the_analytics(page, live_server, admin_login):
    staff("Operator")
    admin_login(page, "operator", PASSWORD)
    response = page.goto(f"{live_server.url}/admin/orders/analytics/")
    assert response.status == 403
    page.goto(f"{live_server.url}/admin/")
    assert page.locator("#worklist a[href='/admin/orders/analytics/']").count() == 0
