"""The analytics page: who may open it, what it shows, its filters in the URL and its CSV exports."""

import csv
import io
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import Status
from orders.selectors.ledger import CSV_COLUMNS
from tests.analytics_support import END, START
from tests.factories import OrderFactory, SkuFactory, build_ledger, staff

pytestmark = pytest.mark.django_db

URL = "/admin/orders/analytics/"
PERIOD = {"start": START.isoformat(), "end": END.isoformat()}


@pytest.fixture
def analyst_client(client):
    client.force_login(staff("Analyst"))
    return client


def read_csv(response) -> list[list[str]]:
    assert response["Content-Type"].startswith("text/csv")
    assert "attachment" in response["Content-Disposition"]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


@pytest.mark.parametrize("group", ["Operator", "Finance"])
def test_staff_without_the_analytics_permission_get_403(client, group):
    client.force_login(staff(group))
    assert client.get(URL).status_code == 403
    assert client.get(URL, {"export": "reasons"}).status_code == 403


def test_anonymous_is_sent_to_the_login(client):
    response = client.get(URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


@pytest.mark.parametrize("group", ["Analyst", "Supervisor"])
def test_analysts_and_supervisors_see_the_numbers(client, known_closes, group):
    client.force_login(staff(group))
    response = client.get(URL, PERIOD)
    assert response.status_code == 200
    page = response.content.decode()
    assert "8 orders closed from 2026-03-01 to 2026-03-31" in page
    assert '<canvas id="chart-reasons"' in page
    assert "vendor/chartjs/chart.umd.min.js" in page
    reasons = response.context["tables"]["reasons"]["rows"]
    assert ("Buyer did not pay in time", 2, 25) in [tuple(r) for r in reasons]


def test_default_view_is_the_last_30_days(analyst_client):
    sku = SkuFactory()
    now = timezone.now()
    for days_ago in (0, 29, 30):
        OrderFactory(
            status=Status.CLOSED,
            close_reason="buyer_cancelled",
            close_stage="unpaid",
            closed_at=now - timedelta(days=days_ago),
            close_started_at=now - timedelta(days=days_ago),
            sku=sku,
        )
    build_ledger()
    response = analyst_client.get(URL)
    data = response.context["data"]
    assert data.end == timezone.localdate()
    assert (data.end - data.start).days == 29
    assert data.total == 2  # today and 29 days ago; 30 days ago is outside


def test_filters_travel_in_the_url_and_into_each_export(analyst_client, known_closes):
    response = analyst_client.get(URL, {**PERIOD, "country": "fr"})
    assert response.context["data"].total == 2
    page = response.content.decode()
    assert "country=fr&amp;export=reasons" in page
    exported = read_csv(analyst_client.get(URL, {**PERIOD, "country": "fr", "export": "reasons"}))
    assert exported[0] == ["Reason", "Closes", "Share %"]
    counted = {row[0]: row[1] for row in exported[1:]}
    assert counted["Buyer did not pay in time"] == "1"
    assert counted["Quality / not as described"] == "0"


def test_each_table_exports(analyst_client, known_closes, march_rates):
    # The loss ledger: the columns of manage.py loss_ledger, one row per close of the view.
    rows = read_csv(analyst_client.get(URL, {**PERIOD, "export": "ledger"}))
    command = io.StringIO()
    call_command("loss_ledger", "--since", PERIOD["start"], "--until", PERIOD["end"], stdout=command)
    assert rows == list(csv.reader(io.StringIO(command.getvalue())))
    assert rows[0] == CSV_COLUMNS and len(rows) == 9
    costs = read_csv(analyst_client.get(URL, {**PERIOD, "export": "costs"}))
    assert costs[0] == ["Reason", "Cost (USD)", "Closes", "Incomplete ledgers"]
    page = analyst_client.get(URL, PERIOD).content.decode()
    assert "Cost of closes (USD)" in page and "Weekends and holidays use the last rate" in page
    assert "not a loss figure" not in page  # the old per-currency panel is gone
    medians = read_csv(analyst_client.get(URL, {**PERIOD, "export": "medians"}))
    assert medians == [
        ["Flow", "Closes", "Median time to close"],
        ["Unpaid order closed", "3", "in one step, no wait"],
        ["Cancellation after payment", "3", "20 hours"],
        ["Return after shipping", "2", "3 days"],
    ]
    for name in (
        "stages",
        "over_time",
        "suppliers",
        "skus",
        "out_of_stock",
        "recommendations",
        "cost_over_time",
        "cost_suppliers",
        "cost_skus",
        "cost_countries",
    ):
        assert analyst_client.get(URL, {**PERIOD, "export": name}).status_code == 200


def test_export_escapes_cells_a_spreadsheet_would_run(analyst_client):
    sku = SkuFactory(code="=HYPERLINK(1)", title="@SUM(A1)")
    OrderFactory(
        status=Status.CLOSED,
        close_reason="other",
        close_stage="unpaid",
        closed_at=timezone.now(),
        close_started_at=timezone.now(),
        sku=sku,
    )
    build_ledger()
    rows = read_csv(analyst_client.get(URL, {"export": "skus"}))
    assert rows[1] == ["'=HYPERLINK(1)", "'@SUM(A1)", "1", "100.0"]


def test_bad_filters_are_refused_with_the_reason(analyst_client):
    response = analyst_client.get(URL, {"start": "2026-03-10", "end": "2026-03-01"})
    assert response.status_code == 400
    assert "The period starts after it ends" in response.content.decode()
    response = analyst_client.get(URL, {"country": "Spain"})
    assert response.status_code == 400
    assert "two-letter ISO code" in response.content.decode()
    response = analyst_client.get(URL, {"start": "yesterday"})
    assert response.status_code == 400
    response = analyst_client.get(URL, {"export": "passwords"})
    assert response.status_code == 400
    assert "Unknown table" in response.content.decode()
    response = analyst_client.get(URL, {"bucket": "year", "export": "reasons"})
    assert response.status_code == 400
    assert "Nothing exported" in response.content.decode()


def test_the_page_costs_a_fixed_number_of_queries(analyst_client, known_closes):
    with CaptureQueriesContext(connection) as small:
        analyst_client.get(URL, PERIOD)
    sku = SkuFactory(code="MORE")
    for i in range(30):
        OrderFactory(
            status=Status.CLOSED,
            close_reason="other",
            close_stage="paid",
            closed_at=timezone.now().replace(year=2026, month=3, day=15) + timedelta(minutes=i),
            close_started_at=timezone.now().replace(year=2026, month=3, day=15),
            sku=sku,
        )
    build_ledger()
    with CaptureQueriesContext(connection) as large:
        analyst_client.get(URL, PERIOD)
    assert len(large) == len(small)
    # 20 for the closes, 1 for the disputes by counterparty (issue 21), 3 for the response
    # times (buyer waits, waits ended, orders waiting now).
    assert len(small) <= 24


@pytest.mark.parametrize(
    "params",
    [
        {"start": "9999-12-31", "end": "9999-12-31"},  # the day after the end overflows
        {"end": "0001-01-05"},  # the default 30-day start overflows
        {"start": "0001-01-01", "end": "0001-01-02"},
    ],
)
def test_a_period_outside_the_supported_years_is_refused_not_a_500(client, params):
    # given
    client.force_login(staff("Analyst"))

    # when
    page = client.get(URL, params)
    export = client.get(URL, {**params, "export": "reasons"})

    # then: a clear reason, on the page and for the CSV, instead of a server error
    assert page.status_code == 400
    assert "Choose dates between 2000-01-01 and 2099-12-31." in page.content.decode()
    assert export.status_code == 400
    assert "Choose dates between 2000-01-01 and 2099-12-31." in export.content.decode()


def test_the_tables_and_actions_show_markup_in_names_as_text(analyst_client):
    # given: a SKU whose code and title hold markup, closed for out of stock three times
    sku = SkuFactory(code="<i>OOS</i>", title='<script>alert("x")</script> & co')
    for hour in (1, 2, 3):
        OrderFactory(
            status=Status.CLOSED,
            close_reason="out_of_stock",
            close_stage="unpaid",
            closed_at=timezone.now() - timedelta(hours=hour),
            close_started_at=timezone.now() - timedelta(hours=hour),
            sku=sku,
        )
    build_ledger()

    # when
    page = analyst_client.get(URL).content.decode()

    # then: shown as text in the SKU tables and the restock action, never as markup
    assert "<script>alert" not in page and "<i>OOS</i>" not in page
    title = "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; co"
    assert f'<tr><td>&lt;i&gt;OOS&lt;/i&gt;</td><td class="num">{title}</td><td class="num">3</td>' in page
    assert '<tr><td>&lt;i&gt;OOS&lt;/i&gt;</td><td class="num">3</td></tr>' in page  # repeated out of stock
    assert (
        '<li data-rule="out_of_stock_sku"><strong>Restock &lt;i&gt;OOS&lt;/i&gt; or sync its inventory'
        in page
    )
    assert "3 closes for out of stock; the rule is 3 or more.</li>" in page
