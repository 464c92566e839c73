"""The order list's search (issue 16): part of a buyer's name or email, an order id, tracking
number or 1688 order id typed whole — the right orders, once each, in a fixed number of queries
with no join or DISTINCT; on PostgreSQL through the trigram indexes migration 0012 creates."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.models import Order, Status
from orders.selectors import search
from tests.factories import OrderFactory, SupplierOrderFactory, staff

pytestmark = pytest.mark.django_db

LIST = "/admin/orders/order/"


@pytest.fixture
def supervisor_client(client):
    client.force_login(staff("Supervisor"))
    return client


def found(client, term: str) -> list[str]:
    """The order ids the list shows for ``term``, each as often as its row appears."""
    response = client.get(LIST, {"q": term})
    assert response.status_code == 200
    listed = response.context["cl"].result_list
    html = response.content.decode()
    ids = [order.platform_order_id for order in listed]
    for order in listed:
        assert html.count(f"/admin/orders/order/{order.pk}/change/") == 1
    return ids


@pytest.fixture
def orders():
    maria = OrderFactory(buyer_name="María López García", buyer_email="mlopez.shop@correo.es")
    marianne = OrderFactory(buyer_name="Marianne Dupont", buyer_email="m.dupont@exemple.fr")
    wang = OrderFactory(buyer_name="Wang Fang", buyer_email="fang.wang88@qq.com", status=Status.SHIPPED)
    return {"maria": maria, "marianne": marianne, "wang": wang}


def test_part_of_a_name_finds_those_buyers_whatever_the_case(supervisor_client, orders):
    assert sorted(found(supervisor_client, "MARIA")) == [orders["marianne"].platform_order_id]
    assert found(supervisor_client, "lópez") == [orders["maria"].platform_order_id]
    assert found(supervisor_client, "ang Fa") == [orders["wang"].platform_order_id]
    assert found(supervisor_client, "  Dupont ") == [orders["marianne"].platform_order_id]  # spaces trimmed
    assert found(supervisor_client, '"Wang Fang"') == [orders["wang"].platform_order_id]  # quoted


def test_part_of_an_email_finds_that_buyer(supervisor_client, orders):
    assert found(supervisor_client, "wang88@QQ") == [orders["wang"].platform_order_id]
    assert found(supervisor_client, "correo.es") == [orders["maria"].platform_order_id]


def test_ids_typed_whole_find_their_order_once(supervisor_client, orders):
    wang = orders["wang"]
    first = SupplierOrderFactory(order=wang)
    SupplierOrderFactory(order=wang)  # two 1688 orders behind one sale: still one row
    assert found(supervisor_client, first.supplier_order_id) == [wang.platform_order_id]
    assert found(supervisor_client, wang.platform_order_id) == [wang.platform_order_id]
    assert found(supervisor_client, wang.tracking_number) == [wang.platform_order_id]
    # exact, not contains: part of an id finds nothing
    assert found(supervisor_client, first.supplier_order_id[:-1]) == []
    assert found(supervisor_client, "no such buyer") == []


def test_a_broad_term_lists_every_match(supervisor_client, orders, monkeypatch):
    """More matches than the ids kept (FOUND_IDS_MAX): the list filters by the condition."""
    li_na = [
        OrderFactory(buyer_name="Li Na").platform_order_id,
        OrderFactory(buyer_name="Li Na Chen").platform_order_id,
    ]
    monkeypatch.setattr(search, "FOUND_IDS_MAX", 1)
    assert sorted(found(supervisor_client, "li na")) == sorted(li_na)


def test_query_count_is_fixed_and_no_join_nor_distinct(supervisor_client, orders):
    OrderFactory.create_batch(30, buyer_name="Zhang Wei")
    supplier_order = SupplierOrderFactory(order=orders["wang"])
    counts = {}
    for term in ("Zhang", "Dupont", "qq.com", supplier_order.supplier_order_id):
        with CaptureQueriesContext(connection) as captured:
            assert supervisor_client.get(LIST, {"q": term}).status_code == 200
        counts[term] = len(captured)
        sql = " ".join(q["sql"] for q in captured).upper()
        assert "DISTINCT" not in sql, term
        assert 'JOIN "ORDERS_SUPPLIERORDER"' not in sql, term
    assert len(set(counts.values())) == 1, counts  # 1 or 30 matches, name, email or 1688 id
    with CaptureQueriesContext(connection) as captured:
        supervisor_client.get(LIST, {"q": "nobody at all"})
    assert len(captured) <= counts["Zhang"]  # nothing found: nothing more to count or list


@pytest.mark.postgres
def test_migration_creates_the_trigram_indexes_the_search_uses():
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        assert cursor.fetchone() is not None
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname LIKE %s",
            ["orders_order", "%_trgm"],
        )
        indexes = dict(cursor.fetchall())
    assert set(indexes) == {"order_buyer_name_trgm", "order_buyer_email_trgm"}
    assert "USING gin (upper((buyer_name)::text) gin_trgm_ops)" in indexes["order_buyer_name_trgm"]
    assert "USING gin (upper((buyer_email)::text) gin_trgm_ops)" in indexes["order_buyer_email_trgm"]

    # the search's own SQL is served by them (a tiny table would otherwise be read whole)
    OrderFactory(buyer_name="Zhang Wei", buyer_email="zw@example.cn")
    condition = search.search_condition("zhang w", connection.vendor)
    sql, params = Order.objects.filter(condition).order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "order_buyer_name_trgm" in plan and "order_buyer_email_trgm" in plan, plan
    assert "SubPlan" not in plan, plan  # the 1688 id is read once (InitPlan), not per order
