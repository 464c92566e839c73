"""The import's new orders streamed into their COPY while the rows are checked (issue 25, part 2).

On PostgreSQL the checked rows of a chunk go into the orders' COPY as the parser yields them; a
row it cannot write yet (a new SKU, an order Shopops holds) is written after the stream. These
tests hold on SQLite too (no stream there), and say what a user sees either way: all or nothing,
every order with its event and supplier order, times at their instant.
"""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest
from django.db import connection

from orders.imports import service
from orders.imports.service import import_orders
from orders.models import Order, OrderEvent, OrderImport, Sku, SupplierOrder
from shopops import pgcopy
from tests.factories import OrderFactory, SkuFactory, StoreFactory, default_store
from tests.import_support import csv_file, order_row

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_chunks(monkeypatch):
    """Chunks of 40 rows: a file of a few hundred rows is streamed chunk after chunk."""
    monkeypatch.setattr(service, "CHUNK_ROWS", 40)


def _rows(count: int, **overrides: str) -> list[dict[str, str]]:
    return [order_row(order_id=f"81990000{i:08d}", **overrides) for i in range(count)]


def _written() -> tuple[int, int, int, int]:
    return (
        Order.objects.count(),
        OrderEvent.objects.count(),
        SupplierOrder.objects.count(),
        Sku.objects.count(),
    )


@pytest.mark.parametrize("bad_at", [39, 130], ids=["end of the first chunk", "a later chunk"])
def test_a_bad_row_late_in_a_streamed_file_leaves_nothing_written(small_chunks, bad_at):
    # given: 150 valid rows of new orders but one, late in the file (its rows 2.. are written as
    # they are checked, before the bad one is read)
    rows = _rows(150)
    rows[bad_at]["total_amount"] = "12,5元"
    # when
    result = import_orders(csv_file(rows))
    # then: the bad row named by its row and column, and nothing written at all
    assert result.error_count == 1
    (issue,) = result.errors
    assert (issue.row, issue.column, issue.value) == (bad_at + 2, "total_amount", "12,5元")
    assert "is not an amount" in issue.message
    assert result.new == 0
    assert _written() == (0, 0, 0, 0)
    assert not OrderImport.objects.exists()


def test_a_line_the_csv_reader_cannot_read_late_in_the_file_leaves_nothing_written(small_chunks):
    # given: 150 rows, the 101st with a cell longer than the CSV reader takes (read ahead of the
    # chunks being written)
    rows = _rows(150)
    rows[100]["notes"] = "x" * 200_000
    # when
    result = import_orders(csv_file(rows))
    # then
    assert result.invalid
    (error,) = result.errors
    assert "not valid CSV here" in error.message and "field larger than field limit" in error.message
    assert _written() == (0, 0, 0, 0)


def test_a_store_conflict_late_in_a_streamed_chunk_leaves_nothing_written(small_chunks):
    # given: an order Shopops holds in another store, named late in a chunk of new orders
    other = OrderFactory(platform_order_id="8199000000000035", store=StoreFactory(code="other"))
    rows = _rows(60)
    # when: imported into the main store (by the system, who works for every store)
    result = import_orders(csv_file(rows), store=default_store())
    # then: that row is refused (an order never moves to another store), the others written
    assert result.refused_count == 1
    assert (result.refused[0].row, result.refused[0].column) == (37, "store")
    assert "never moves to another store" in result.refused[0].message
    assert Order.objects.get(pk=other.pk).store.code == "other"
    assert result.new == 59
    assert Order.objects.count() == 60


def test_a_file_of_new_skus_known_skus_and_known_orders_writes_each_once(small_chunks):
    # given: a SKU Shopops holds without a title, an order it holds, and new orders naming a new
    # SKU, the untitled one and a titled one, across several chunks
    SkuFactory(code="SKU-UNTITLED", title="")
    SkuFactory(code="SKU-TITLED", title="Kept title")
    held = OrderFactory(platform_order_id="8199000000000050", buyer_name="Old Name")
    rows = _rows(120)
    for i, row in enumerate(rows):
        row["sku"] = ("SKU-NEW", "SKU-UNTITLED", "SKU-TITLED")[i % 3]
        row["product_title"] = f"Title from row {i + 2}"
    rows[50]["buyer_name"] = "New Name"
    rows[50]["sku"] = held.sku.code
    # when
    result = import_orders(csv_file(rows))
    # then: 119 new orders, the held one updated, each new order with one imported event naming
    # its row and one supplier order; SKUs created once, an untitled one given its first title
    assert result.ok, result.errors
    assert (result.new, result.updated, result.unchanged) == (119, 1, 0)
    assert Order.objects.count() == 120
    assert Order.objects.get(pk=held.pk).buyer_name == "New Name"
    assert Sku.objects.get(code="SKU-NEW").title == "Title from row 2"
    assert Sku.objects.get(code="SKU-UNTITLED").title == "Title from row 3"
    assert Sku.objects.get(code="SKU-TITLED").title == "Kept title"
    for i in (0, 1, 2, 47, 119):
        order = Order.objects.get(platform_order_id=f"81990000{i:08d}")
        assert order.sku.code == ("SKU-NEW", "SKU-UNTITLED", "SKU-TITLED")[i % 3]
        (event,) = OrderEvent.objects.filter(order=order)
        assert event.transition == "imported"
        assert event.data == {"file": "test.csv", "row": i + 2}
        (supplier,) = SupplierOrder.objects.filter(order=order)
        assert supplier.supplier_order_id == "3000000000009001"
    assert OrderEvent.objects.filter(transition="imported").count() == 120
    # when: the same file again, in other bytes (rows checked one by one)
    again = csv_file(rows)
    again.seek(0, 2)
    again.write(b"\r\n")
    again.seek(0)
    result = import_orders(again)
    # then: every row found as it is
    assert (result.new, result.updated, result.unchanged) == (0, 0, 120)


@pytest.mark.parametrize(
    "name", ['orders "row": -1 \\ , {x}.csv', "订单.csv"], ids=["quotes and backslash", "Chinese"]
)
def test_each_new_orders_event_names_the_file_and_its_row_whatever_the_file_name(name):
    # given
    rows = [order_row(order_id="8199000000000001", status="WAIT_SELLER_SEND_GOODS"), order_row()]
    rows[1]["order_id"] = "8199000000000002"
    # when
    result = import_orders(csv_file(rows), file_name=name)
    # then
    assert result.ok, result.errors
    first = OrderEvent.objects.get(order__platform_order_id="8199000000000001")
    assert first.data == {"file": name, "row": 2, "platform_status": "WAIT_SELLER_SEND_GOODS"}
    second = OrderEvent.objects.get(order__platform_order_id="8199000000000002")
    assert second.data == {"file": name, "row": 3}


def test_times_at_a_daylight_saving_change_are_stored_at_the_zones_instant(settings):
    # given: a platform zone with daylight saving time, a time that does not exist (clocks go
    # forward at 02:00) and one that happens twice (clocks go back at 02:00), in both forms
    settings.SHOPOPS_PLATFORM_TZ = "America/Los_Angeles"
    rows = [
        order_row(order_id="8199000000000001", placed_at="2026-03-08 02:30:00"),
        order_row(order_id="8199000000000002", placed_at="2026/03/08 02:30"),
        order_row(order_id="8199000000000003", placed_at="2026-11-01 01:30:00"),
        order_row(order_id="8199000000000004", placed_at="2026/11/01 01:30"),
    ]
    # when
    result = import_orders(csv_file(rows))
    # then: each as the zone reads it (the offset before the change), the same in either form
    assert result.ok, result.errors
    zone = ZoneInfo("America/Los_Angeles")
    spring = datetime(2026, 3, 8, 2, 30, tzinfo=zone).astimezone(UTC)
    autumn = datetime(2026, 11, 1, 1, 30, tzinfo=zone).astimezone(UTC)
    assert spring == datetime(2026, 3, 8, 10, 30, tzinfo=UTC)
    assert autumn == datetime(2026, 11, 1, 8, 30, tzinfo=UTC)
    placed = dict(Order.objects.values_list("platform_order_id", "placed_at"))
    assert placed["8199000000000001"] == placed["8199000000000002"] == spring
    assert placed["8199000000000003"] == placed["8199000000000004"] == autumn


@pytest.mark.postgres
def test_a_query_while_a_copy_streams_its_rows_is_refused_not_waited_for():
    # given: a COPY whose rows would need the database meanwhile (a programming error)
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE streamed (line text)")

        def lines():
            yield "first"
            yield "second" if Order.objects.exists() else "none"

        # when / then: an error at once, not a connection waiting for itself for ever
        with pytest.raises(pgcopy.QueryDuringCopy, match="a query while a COPY streams"):
            pgcopy.copy_lines(cursor, "COPY streamed FROM STDIN", lines())
