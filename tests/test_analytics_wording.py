"""The analytics page in words: dates in Chinese as ISO dates, actions without rule codes, the cost
of closes instead of a "net loss"."""

import csv
import io
import re
from datetime import timedelta

import pytest

from orders.admin.analytics import duration_text
from orders.models import CloseReason, CloseStage
from orders.selectors.ledger import CSV_COLUMNS
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


# --- names, not codes; a median in its own unit (issue 23) ----------------------------------------


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


CODES = {
    *(reason.value for reason in CloseReason),
    *(stage.value for stage in CloseStage),
    "cancellation",  # the flows' codes besides the stages'
    "return",
}


def test_analytics_tables_and_their_csvs_name_reasons_stages_and_flows_in_words(client, known_closes):
    client.force_login(staff("Analyst"))
    period = {"start": START.isoformat(), "end": END.isoformat()}
    response = client.get("/admin/orders/analytics/", period)
    html = response.content.decode()
    # then: no table cell on the page is a code ...
    for code in CODES:
        assert f">{code}<" not in html, code
    for name, table in response.context["tables"].items():
        assert not {str(cell) for row in table["rows"] for cell in row} & CODES, name
        assert not [h for h in table["header"] if "code" in str(h).lower()], name
        # ... nor in its CSV, which is for people
        exported = read_csv(client.get("/admin/orders/analytics/", {**period, "export": name}))
        assert not {cell for row in exported for cell in row} & CODES, name
    assert "Buyer cancelled" in html and "Unpaid order closed" in html
    # the loss ledger's CSV keeps the columns of SPEC §10, the close reason's code among them
    ledger = read_csv(client.get("/admin/orders/analytics/", {**period, "export": "ledger"}))
    assert ledger[0] == CSV_COLUMNS and "payment_timeout" in {row[1] for row in ledger[1:]}


def test_the_median_time_to_close_is_said_in_its_unit_and_never_of_nothing(client, known_closes):
    client.force_login(staff("Analyst"))
    period = {"start": START.isoformat(), "end": END.isoformat()}
    medians = client.get("/admin/orders/analytics/", period).context["tables"]["medians"]
    # unpaid closes take one step: no "0.0 hours"; the others in hours and days
    assert [tuple(row) for row in medians["rows"]] == [
        ("Unpaid order closed", 3, "in one step, no wait"),
        ("Cancellation after payment", 3, "20 hours"),
        ("Return after shipping", 2, "3 days"),
    ]
    # a flow with no close in the view shows no median at all
    only_unpaid = client.get("/admin/orders/analytics/", {**period, "country": "FR"}).context["tables"]
    rows = {row[0]: row[1:] for row in only_unpaid["medians"]["rows"]}
    assert rows["Return after shipping"] == (0, "—")


@pytest.mark.parametrize(
    ("median", "said"),
    [
        (timedelta(seconds=20), "under a minute"),
        (timedelta(minutes=45), "45 minutes"),
        (timedelta(hours=1), "1 hour"),
        (timedelta(hours=5, minutes=30), "5.5 hours"),
        (timedelta(hours=47), "47 hours"),
        (timedelta(hours=50), "2.1 days"),
        (timedelta(days=12), "12 days"),
    ],
)
def test_a_median_takes_the_unit_its_size_calls_for(median, said):
    assert duration_text(median, 5) == said
