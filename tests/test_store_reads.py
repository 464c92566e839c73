"""What a user sees counts only their stores: the index's worklist and queues, the lists behind
their links, the SKU list's stock-out counts, the analytics page (figures, recommendations, the
loss ledger CSV) and its store filter, and ``manage.py loss_ledger --store``.

Two stores, NORTH with one of everything and SOUTH with two, so every number says whose it is:
1 for a user of NORTH, 2 for SOUTH, 3 for a superuser or a user of both.
"""

import csv
import io
import re
from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders.models import (
    CloseStage,
    ExchangeRate,
    Feedback,
    FollowupStatus,
    Outcome,
    RefundDirection,
    RefundStatus,
    Status,
)
from orders.selectors.ledger import CSV_COLUMNS
from orders.templatetags.shopops_worklist import worklist_for
from orders.workflow import feedback
from tests.factories import (
    OrderFactory,
    RefundFactory,
    SkuFactory,
    StoreFactory,
    SupplierOrderFactory,
    UserFactory,
    build_ledger,
    staff,
)

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
ANALYTICS = "/admin/orders/analytics/"
MARCH = {"start": "2026-03-01", "end": "2026-03-31"}
SUPPLIER = "义乌市晨光饰品厂"


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=SHANGHAI)


def open_work(store, n: int) -> None:
    """``n`` items of every worklist line and every supervisor's queue, in ``store``."""
    now = timezone.now()
    for _ in range(n):

        def order(status=Status.AWAITING_PAYMENT, **fields):
            return OrderFactory(store=store, status=status, **fields)

        # supplier refund overdue: also a supplier answer due, and the recommendation's count
        pending = order(Status.SUPPLIER_REFUND_PENDING, status_changed_at=now - timedelta(days=3))
        SupplierOrderFactory(order=pending, supplier_name=SUPPLIER)
        RefundFactory(order=pending, supplier=True, respond_by=now - timedelta(days=1))
        # a buyer refund that succeeded ten days ago and has not arrived
        closed = order(Status.CLOSED, close_reason="buyer_cancelled", closed_at=now)
        RefundFactory(order=closed, status=RefundStatus.SUCCEEDED, requested_at=now - timedelta(days=10))
        # open negative feedback
        feedback.record_feedback(order(Status.COMPLETED), by=None, rating=1, received_at=now)
        # unpaid, about to time out (timeout 72 h, "soon" 12 h)
        order(placed_at=now - timedelta(hours=61))
        # waiting on the buyer for more than 48 h
        order(Status.CANCEL_REQUESTED, status_changed_at=now - timedelta(hours=50))
        # the supervisor's queues: a refund to confirm, an escalation (a refund to confirm too),
        # a return to claim, a dispute
        for status in (Status.REFUND_PENDING, Status.ESCALATED):
            RefundFactory(order=order(status, status_changed_at=now - timedelta(days=1)))
        order(Status.RETURN_RECEIVED, status_changed_at=now - timedelta(days=2))
        order(Status.DISPUTED, status_changed_at=now - timedelta(days=4))
        # a dispute with the supplier on 1688, and a closed sale whose 1688 refund still waits
        order(Status.DISPUTED, status_changed_at=now - timedelta(days=4), dispute_with="supplier")
        cancelled = order(Status.CLOSED, close_reason="out_of_stock", closed_at=now)
        RefundFactory(order=cancelled, supplier=True, respond_by=now + timedelta(days=2))


def closes(store, sku, ids: list[str]) -> None:
    """Orders of ``store`` closed in March for out of stock after payment, each costing 11.00 USD:
    100.00 USD paid and refunded in full, 77.00 CNY paid to the supplier (10 EUR, 11.00 USD)."""
    for platform_order_id in ids:
        order = OrderFactory(
            store=store,
            platform_order_id=platform_order_id,
            sku=sku,
            status=Status.CLOSED,
            close_reason="out_of_stock",
            close_stage=CloseStage.PAID,
            outcome=Outcome.REFUNDED,
            placed_at=at(6, 9),
            paid_at=at(6),
            shipped_at=None,
            tracking_number="",
            close_started_at=at(6),
            closed_at=at(9),
            total_amount=Decimal("100.00"),
            currency="USD",
        )
        SupplierOrderFactory(order=order, supplier_name=SUPPLIER, amount=Decimal("77.00"), created_at=at(6))
        RefundFactory(
            order=order,
            direction=RefundDirection.TO_BUYER,
            amount=Decimal("100.00"),
            received=True,  # arrived: not on the worklist
            requested_at=at(6, 14),
        )


@pytest.fixture
def stores():
    north, south = (
        StoreFactory(code="NORTH", name="North shop"),
        StoreFactory(code="SOUTH", name="South shop"),
    )
    open_work(north, 1)
    open_work(south, 2)
    sku = SkuFactory(code="CASE-1")
    closes(north, sku, ["N-1"])
    closes(south, sku, ["S-1", "S-2"])
    for currency, rate in (("USD", "1.10"), ("CNY", "7.70")):
        ExchangeRate.objects.create(date=date(2026, 3, 6), currency=currency, rate=Decimal(rate))
    build_ledger()
    return north, south


def readers(north, south) -> dict[str, tuple[object, int]]:
    """Who looks, and how many of everything they should count (of 1 in NORTH, 2 in SOUTH)."""
    return {
        "north": (staff("Supervisor", "sup-north", stores=[north]), 1),
        "south": (staff("Supervisor", "sup-south", stores=[south]), 2),
        "both": (staff("Supervisor", "sup-both", stores=[north, south]), 3),
        "superuser": (UserFactory(username="root", is_superuser=True, stores=[]), 3),
    }


# --- the index: worklist and queues ---------------------------------------------------------

WORK = (
    "supplier_refunds_overdue",
    "buyer_refunds_not_arrived",
    "open_negative_feedback",
    "unpaid_timing_out",
    "waiting_on_buyer",
    "escalations_open",
    "returns_to_claim",
    "supplier_answers",
    "purchase_refunds_open",
    "buyer_disputes_to_resolve",
    "supplier_disputes_to_resolve",
)


def index_counts(client) -> dict[str, int]:
    """The numbers on the admin index, by the row's key, as the page shows them."""
    page = client.get("/admin/").content.decode()
    found = {}
    for key, row in re.findall(r'<tr[^>]*data-key="(\w+)">(.*?)</tr>', page, re.S):
        count = re.search(r'<strong class="worklist-count">(\d+)</strong>', row)
        if count:
            found[key] = int(count.group(1))
    return found


def test_the_index_counts_only_the_users_stores(client, stores):
    for name, (user, n) in readers(*stores).items():
        client.force_login(user)
        counts = index_counts(client)
        # every line once per store's item, and refunds to confirm twice (escalations are too);
        # the lines of later issues ("Mine", 1688's) are counted by their own tests
        counted = {key: value for key, value in counts.items() if key in WORK or key == "refunds_to_confirm"}
        assert counted == {**dict.fromkeys(WORK, n), "refunds_to_confirm": 2 * n}, name


def test_the_lists_behind_the_index_links_show_the_rows_counted(client, stores):
    north, _south = stores
    user, _n = readers(*stores)["north"]
    client.force_login(user)
    for item in worklist_for(user):
        response = client.get(item.url)
        assert response.status_code == 200, item.url
        rows = response.context["cl"].result_list
        assert len(rows) == item.count, item.key
        stores_shown = {getattr(row, "order", row).store_id for row in rows}
        assert stores_shown <= {north.pk} and (stores_shown or not item.count), item.key


def test_a_user_of_no_store_counts_nothing(client, stores):
    client.force_login(staff("Supervisor", "nobody", stores=[]))
    assert set(index_counts(client).values()) == {0}


def test_the_queues_are_still_one_query_each_for_a_user_of_some_stores(stores):
    user, _n = readers(*stores)["both"]
    items = worklist_for(user)  # the user's permissions and stores, read once per user object
    with CaptureQueriesContext(connection) as queries:
        again = worklist_for(user)
    assert [i.count for i in again] == [i.count for i in items]
    # One query per queue, and one read of the stores' payment delays (orders.selectors.stores.
    # per_store: each store's hours become conditions of the queues' queries).
    # (and one of the user's group names, which "Mine" asks to know whose steps are theirs)
    settings_reads = [
        q for q in queries if 'FROM "orders_store"' in q["sql"] or 'FROM "auth_group"' in q["sql"]
    ]
    assert len(settings_reads) == 2
    queue_queries = [q for q in queries if q not in settings_reads]
    assert len(queue_queries) == len(items)
    assert all("store_id" in q["sql"] for q in queue_queries)


def test_waiting_on_me_lists_only_the_users_stores(client, stores):
    north, _south = stores
    client.force_login(staff("Supervisor", "sup-north", stores=[north]))
    response = client.get("/admin/orders/order/", {"waiting_on": "me"})
    rows = response.context["cl"].result_list
    # the supervisor's own steps: refund pending, escalated, return received, supplier refund
    # pending, one each in NORTH, and two disputes (the buyer's, the supplier's)
    assert len(rows) == 6
    assert {row.store_id for row in rows} == {north.pk}


def test_the_sku_list_counts_the_stock_outs_of_the_users_stores(client, stores):
    users = readers(*stores)
    for name, expected_closes, repeated in (
        ("north", 1, []),
        ("south", 2, ["CASE-1"]),
        ("both", 3, ["CASE-1"]),
    ):
        client.force_login(users[name][0])
        page = client.get("/admin/orders/sku/", {"q": "CASE-1"})
        assert [sku.oos_closes for sku in page.context["cl"].result_list] == [expected_closes], name
        # the repeated stock-outs report: two or more out-of-stock closes
        report = client.get("/admin/orders/sku/", {"repeated_oos": "yes"})
        assert [sku.code for sku in report.context["cl"].result_list] == repeated, name


def test_the_open_feedback_filter_lists_only_the_users_stores(client, stores):
    north, _south = stores
    client.force_login(staff("Supervisor", "sup-north", stores=[north]))
    rows = client.get("/admin/orders/feedback/", {"followup": "open"}).context["cl"].result_list
    assert [f.order.store_id for f in rows] == [north.pk]
    assert Feedback.objects.filter(followup_status=FollowupStatus.NEW).count() == 3


# --- the analytics page -----------------------------------------------------------------------


def read_csv(response) -> list[list[str]]:
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def figures(client, **query) -> dict:
    """What the analytics page shows for a view: the closes, the cost, the ledger CSV's orders,
    the overdue supplier refunds the recommendation counts, the repeated stock-outs."""
    response = client.get(ANALYTICS, {**MARCH, **query})
    assert response.status_code == 200
    page = response.content.decode()
    summary = re.search(r'<p id="analytics-summary">\s*(\d+) orders? closed', page)
    cost = re.search(r'<p id="cost-total"><strong>([\d.]+) USD</strong>', page)
    overdue = re.search(r"(\d+) supplier refund\(s\) past the respond-by deadline", page)
    tables = response.context["tables"]
    ledger = read_csv(client.get(ANALYTICS, {**MARCH, **query, "export": "ledger"}))
    reasons = read_csv(client.get(ANALYTICS, {**MARCH, **query, "export": "reasons"}))
    assert ledger[0] == CSV_COLUMNS
    return {
        "closes": int(summary.group(1)),
        "cost": cost.group(1),
        "ledger": sorted(row[0] for row in ledger[1:]),
        "costs_of_ledger": {row[-2] for row in ledger[1:]},
        "out_of_stock_csv": {row[0]: row[1] for row in reasons[1:]}["Out of stock"],
        "overdue": int(overdue.group(1)) if overdue else 0,
        "repeated": [tuple(row) for row in tables["out_of_stock"]["rows"]],
    }


def test_analytics_count_only_the_users_stores(client, stores):
    expected = {
        "north": {"closes": 1, "cost": "11.00", "ledger": ["N-1"], "repeated": []},
        "south": {"closes": 2, "cost": "22.00", "ledger": ["S-1", "S-2"], "repeated": [("CASE-1", 2)]},
        "both": {"closes": 3, "cost": "33.00", "ledger": ["N-1", "S-1", "S-2"], "repeated": [("CASE-1", 3)]},
    }
    expected["superuser"] = expected["both"]
    for name, (user, n) in readers(*stores).items():
        client.force_login(user)
        shown = figures(client)
        assert shown == {
            **expected[name],
            "costs_of_ledger": {"11.00"},
            "out_of_stock_csv": str(n),
            "overdue": n,
        }, name


def test_an_analyst_of_no_store_sees_the_analytics_of_nothing(client, stores):
    # given an analyst granted no store (the page raised EmptyResultSet: a 500)
    client.force_login(staff("Analyst", "nobody", stores=[]))
    # when / then: no closes, no cost, a ledger CSV of its header only
    response = client.get(ANALYTICS, MARCH)
    assert response.status_code == 200
    assert response.context["costs"].closes == 0 and response.context["data"].total == 0
    assert read_csv(client.get(ANALYTICS, {**MARCH, "export": "ledger"})) == [CSV_COLUMNS]


def test_the_store_filter_narrows_every_figure_to_one_store(client, stores):
    north, south = stores
    client.force_login(readers(*stores)["both"][0])
    page = client.get(ANALYTICS, MARCH).content.decode()
    # the filter offers the user's stores, and every store by default
    assert "All my stores" in page
    assert f'<option value="{north.pk}">NORTH · North shop</option>' in page
    assert f'<option value="{south.pk}">SOUTH · South shop</option>' in page
    assert figures(client, store=north.pk) == {
        "closes": 1,
        "cost": "11.00",
        "ledger": ["N-1"],
        "costs_of_ledger": {"11.00"},
        "out_of_stock_csv": "1",
        "overdue": 1,
        "repeated": [],
    }
    response = client.get(ANALYTICS, {**MARCH, "store": south.pk})
    assert '· store <span id="analytics-store">SOUTH</span>' in response.content.decode()
    # the exports say which store they are of, and keep the filter
    export = client.get(ANALYTICS, {**MARCH, "store": south.pk, "export": "ledger"})
    assert (
        'filename="close-analytics-ledger-SOUTH-2026-03-01-2026-03-31.csv"' in export["Content-Disposition"]
    )
    assert f"store={south.pk}&amp;export=ledger" in response.content.decode()
    assert figures(client, store=south.pk)["closes"] == 2


def test_a_store_the_user_does_not_work_for_is_refused_and_never_shown(client, stores):
    _north, south = stores
    client.force_login(readers(*stores)["north"][0])
    page = client.get(ANALYTICS, MARCH).content.decode()
    assert "NORTH · North shop" in page and "SOUTH" not in page
    for value in (south.pk, "south", "SOUTH", 10**20, "-1"):
        response = client.get(ANALYTICS, {**MARCH, "store": value})
        # then: the form's error, and no figure of any store
        assert response.status_code == 400, value
        assert response.context["data"] is None
        page = response.content.decode()
        assert "Choose one of your stores." in page
        # (the value typed comes back in the page's links; the store it may name, never)
        assert "SOUTH ·" not in page and "South shop" not in page
        exported = client.get(ANALYTICS, {**MARCH, "store": value, "export": "ledger"})
        assert exported.status_code == 400
        assert exported.content.decode() == "Nothing exported: Choose one of your stores."


# --- the loss_ledger command (the system: every store) ----------------------------------------


def command_rows(*args) -> list[str]:
    out = io.StringIO()
    call_command("loss_ledger", "--since", MARCH["start"], "--until", MARCH["end"], *args, stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == CSV_COLUMNS
    return sorted(row[0] for row in rows[1:])


def test_the_loss_ledger_command_counts_every_store_or_the_one_named(stores):
    assert command_rows() == ["N-1", "S-1", "S-2"]
    assert command_rows("--store", "NORTH") == ["N-1"]
    assert command_rows("--store", "south") == ["S-1", "S-2"]  # a code regardless of case
    with pytest.raises(CommandError, match="--store: Unknown store “WEST”"):
        command_rows("--store", "WEST")
