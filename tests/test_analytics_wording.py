"""The analytics page in words: dates in Chinese as ISO dates, actions without rule codes, the cost
of closes instead of a "net loss"."""

import re

import pytest

from tests.analytics_support import END, START, at, closed
from tests.factories import staff
from tests.workflow_support import private_media  # noqa: F401

pytestmark = pytest.mark.django_db


# --- 4. analytics dates in Chinese ------------------------------------------------------------


def test_analytics_date_boxes_hold_iso_dates_in_chinese(client):
    client.force_login(staff("Analyst"))
    zh = {"accept-language": "zh-hans"}

    # when: a period is asked for in Chinese
    response = client.get(
        "/admin/orders/analytics/", {"start": "2026-11-01", "end": "2026-11-30"}, headers=zh
    )
    html = response.content.decode()

    # then: the date inputs show what a date input can read, and the period was understood
    assert 'lang="zh-hans"' in html
    assert re.search(r'<input type="date" name="start" value="2026-11-01"', html)
    assert re.search(r'<input type="date" name="end" value="2026-11-30"', html)
    assert "2026/11/01" not in html
    assert "errorlist" not in html
    assert response.context["form"].initial["end"].isoformat() == "2026-11-30"
    # the default period too
    html = client.get("/admin/orders/analytics/", headers=zh).content.decode()
    assert re.search(r'<input type="date" name="end" value="\d{4}-\d\d-\d\d"', html)


# --- the analytics page speaks of actions, not rules ----------------------------------------


def test_analytics_show_no_rule_codes_and_no_net_loss(client, known_closes):
    # given: a third close for wrong product information of SKU A-1 in March: the real rule fires
    closed("product_info_error", "paid", sku=known_closes["P1"].sku, closed_at=at(5), hours=5)
    client.force_login(staff("Analyst"))
    period = {"start": START.isoformat(), "end": END.isoformat()}
    html = client.get("/admin/orders/analytics/", period).content.decode()
    # then: the action, in words, without the rule's code
    assert "Fix the listing of A-1: its description, photos or options mislead buyers." in html
    assert "3 closes for wrong product information; the rule is 3 or more." in html
    # the rule's code only as the item's data attribute, never in the text a person reads
    assert '<li data-rule="product_info_error_sku"><strong>Fix the listing of A-1' in html
    assert html.count("product_info_error_sku") == 1 and "[product_info_error_sku]" not in html
    assert 'class="analytics-rule"' not in html
    assert "Net loss" not in html and "net loss" not in html
    # the per-currency panel is replaced by the cost of closes, in one currency
    assert "not a loss figure" not in html and "Cost of closes (USD)" in html
    response = client.get("/admin/orders/analytics/", {**period, "export": "refunds"})
    assert response.status_code == 400
