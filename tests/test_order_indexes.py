"""The indexes an import writes for each new order (issue 25, migration 0031): only those a query
reads. On PostgreSQL the order id, email and assignee lookups are still served by an index."""

import importlib

import pytest
from django.db import connection

from orders.models import Order, Status
from orders.selectors import queues, search
from tests.factories import OrderFactory, staff

pytestmark = [pytest.mark.django_db, pytest.mark.postgres]

MIGRATION = importlib.import_module("orders.migrations.0031_order_import_indexes")


def order_indexes() -> dict[str, str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'orders_order'")
        return dict(cursor.fetchall())


def plan(queryset) -> str:
    """The plan PostgreSQL picks when it may not read the whole (tiny) table."""
    sql, params = queryset.order_by().values("pk").query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_a_new_order_writes_no_pattern_index_no_email_btree_and_no_assignee_entry():
    indexes = order_indexes()
    assert not [name for name, sql in indexes.items() if "varchar_pattern_ops" in sql], indexes
    assert "order_buyer_email" not in indexes
    assert indexes["order_assignee_status"].endswith("WHERE (assignee_id IS NOT NULL)")
    # the search's own indexes stay
    assert {"order_buyer_name_trgm", "order_buyer_email_trgm", "orders_order_platform_order_id_key"} <= set(
        indexes
    )


def test_the_lookups_the_dropped_indexes_were_for_still_read_an_index():
    operator = staff("Operator")
    mine = OrderFactory(status=Status.PAID, assignee=operator)
    OrderFactory(buyer_email="zhang.wei@example.cn")

    by_id = plan(Order.objects.filter(search.search_condition(mine.platform_order_id, "postgresql")))
    assert "orders_order_platform_order_id_key" in by_id, by_id
    assert "order_buyer_email_trgm" in by_id, by_id  # part of an email: the trigram index
    assert "Seq Scan on orders_order" not in by_id, by_id
    # a person's orders (the *handled by* filter, a reassignment) from the partial index
    assert "order_assignee_status" in plan(Order.objects.filter(assignee=operator))
    assert list(queues.mine(operator)) == [mine]


def test_the_migration_reverses_to_djangos_own_pattern_index_and_forward_again():
    with connection.schema_editor() as editor:
        expected = str(editor._create_like_index_sql(Order, Order._meta.get_field("platform_order_id")))
        MIGRATION.create_like_index(None, editor)
    assert f'"{MIGRATION.LIKE_INDEX}"' in expected  # the very index Django makes for the column
    recreated = order_indexes()[MIGRATION.LIKE_INDEX]
    assert recreated.endswith("USING btree (platform_order_id varchar_pattern_ops)")
    with connection.schema_editor() as editor:
        MIGRATION.drop_like_index(None, editor)
    assert MIGRATION.LIKE_INDEX not in order_indexes()
