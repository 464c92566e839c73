"""CSV import of orders (SPEC section 6): samples, bad values, re-import, forward moves, encodings."""

import codecs
import hashlib
import io
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import transaction

from orders import workflow
from orders.imports.service import import_orders
from orders.models import Order, OrderEvent, OrderImport, Sku, Status, SupplierOrder
from orders.resources import COLUMN_NAMES, export_orders_response
from tests.factories import OrderFactory, staff
from tests.import_support import csv_file, order_row

pytestmark = pytest.mark.django_db

SAMPLES = Path(__file__).parent / "data"  # copies of the sample files in ../shared/samples/
UTF8 = SAMPLES / "orders_sample.csv"
ALIEXPRESS = SAMPLES / "orders_sample_aliexpress.csv"
GBK = SAMPLES / "orders_sample_gbk.csv"


def _snapshot() -> list[tuple]:
    orders = Order.objects.order_by("platform_order_id").values_list(
        *[f.attname for f in Order._meta.concrete_fields if f.attname not in {"id", "sku_id"}] + ["sku__code"]
    )
    skip = {"created_at", "updated_at", "status_changed_at"}
    names = [f.attname for f in Order._meta.concrete_fields if f.attname not in {"id", "sku_id"}] + ["sku"]
    keep = [i for i, name in enumerate(names) if name not in skip]
    supplier = SupplierOrder.objects.order_by("supplier_order_id", "order__platform_order_id").values_list(
        "order__platform_order_id", "supplier_name", "supplier_contact", "supplier_order_id", "amount"
    )
    # The import fingerprint ends with the order's updated_at: compare the digest of the row only.
    fingerprint = names.index("import_hash")
    return (
        [tuple(o[i].split(":")[0] if i == fingerprint else o[i] for i in keep) for o in orders]
        + list(supplier)
        + list(Sku.objects.values_list("code"))
    )


# --- the samples ----------------------------------------------------------------------------


def test_utf8_sample_imports_orders_statuses_supplier_orders_and_utc_times():
    # when
    result = import_orders(UTF8)
    # then
    assert result.ok, result.errors
    assert (result.new, result.updated, result.unchanged) == (20, 0, 0)
    order = Order.objects.get(platform_order_id="8100000000000002")
    assert order.status == Status.COMPLETED
    assert order.placed_at == datetime(2026, 11, 5, 11, 33, tzinfo=UTC)  # 19:33 in Shanghai
    assert order.paid_at == datetime(2026, 11, 5, 19, 1, tzinfo=UTC)
    assert order.tracking_number == "LP592614851160CN"
    assert order.sku.code == "SKU-PHC-001"
    (supplier_order,) = order.supplier_orders.all()
    assert supplier_order.supplier_order_id == "3000000000000002"
    assert supplier_order.amount == Decimal("6.00")
    assert Order.objects.get(platform_order_id="8100000000000001").status == Status.AWAITING_PAYMENT
    assert OrderEvent.objects.filter(transition="imported").count() == 20
    event = OrderEvent.objects.get(order=order)
    assert (event.from_status, event.to_status, event.data["row"]) == ("", "completed", 3)


def test_bom_sample_with_aliexpress_statuses_keeps_the_raw_status():
    result = import_orders(ALIEXPRESS)
    assert result.ok, result.errors
    assert result.new == 20
    finished = Order.objects.get(platform_order_id="8100000000002001")
    assert (finished.status, finished.platform_status) == (Status.COMPLETED, "FINISH")
    assert finished.supplier_orders.get().supplier_name == "深圳市华强电子有限公司"
    assert finished.product_title == "帆布包 Canvas tote bag"
    statuses = dict(Order.objects.values_list("platform_status", "status").distinct())
    assert statuses == {
        "FINISH": "completed",
        "WAIT_BUYER_ACCEPT_GOODS": "shipped",
        "WAIT_SELLER_SEND_GOODS": "paid",
        "PLACE_ORDER_SUCCESS": "awaiting_payment",
    }


def test_gbk_sample_with_chinese_headers_and_labels():
    result = import_orders(GBK)
    assert result.ok, result.errors
    assert result.new == 20
    order = Order.objects.get(platform_order_id="8100000000001001")
    assert (order.status, order.platform_status) == (Status.SHIPPED, "已发货")
    assert order.notes == "请尽快发货"
    assert order.placed_at == datetime(2026, 10, 29, 1, 8, tzinfo=UTC)
    assert order.supplier_orders.get().supplier_name == "义乌市晨光饰品厂"
    assert not Order.objects.filter(product_title__contains="\ufffd").exists()


def test_gbk_file_and_its_utf8_twin_give_identical_database_contents():
    # given
    twin = io.BytesIO(GBK.read_bytes().decode("gbk").encode("utf-8"))
    twin.name = GBK.name
    # when
    with transaction.atomic():
        assert import_orders(GBK).ok
        from_gbk = _snapshot()
        transaction.set_rollback(True)
    assert Order.objects.count() == 0
    assert import_orders(twin).ok
    # then
    assert from_gbk == _snapshot()
    assert len(from_gbk) > 40


# --- bad values: reported with the row number, nothing written -------------------------------


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("order_id", "", "order_id is required"),
        ("placed_at", "2026-02-30 10:00", "is not a date and time"),
        ("placed_at", "0001-01-01 00:00", "placed_at cannot be before 2000-01-01"),
        ("shipped_at", "9999-12-31 23:59", "shipped_at cannot be in the future"),
        ("quantity", "two", "quantity “two” is not a whole number"),
        ("quantity", "0", "quantity must be at least 1"),
        ("unit_price", "12,5元", "unit_price '12,5元' is not an amount"),
        ("buyer_email", "maria@", "not a valid email address"),
        ("status", "SHIPPED_SOMEHOW", "is not an order status"),
        ("currency", "XYZ", "not an ISO 4217 currency code"),
        ("buyer_country", "Spain", "not an ISO 3166"),
        ("buyer_phone", "12", "not a valid phone number"),
    ],
)
def test_each_bad_value_is_reported_with_its_row_and_nothing_is_written(column, value, words):
    # given: three rows, the third (spreadsheet row 4) bad
    rows = [
        order_row(order_id="8199000000000001"),
        order_row(order_id="8199000000000002"),
        order_row(order_id="8199000000000003"),
    ]
    rows[2][column] = value
    # when
    result = import_orders(csv_file(rows))
    # then
    assert result.invalid
    (issue,) = result.errors
    assert (issue.row, issue.column, issue.value) == (4, column, value)
    assert words in issue.message
    assert "row 4" in str(issue)
    assert Order.objects.count() == 0
    assert Sku.objects.count() == 0
    assert OrderEvent.objects.count() == 0


def test_duplicate_order_id_is_reported_as_such():
    rows = [order_row(), order_row(order_id="8199000000000002"), order_row()]
    result = import_orders(csv_file(rows))
    (issue,) = result.errors
    assert (issue.row, issue.column) == (4, "order_id")
    assert "appears more than once" in issue.message and "row 2" in issue.message
    assert Order.objects.count() == 0


def test_every_bad_row_is_reported_not_just_the_first():
    rows = [order_row(order_id=f"81990000000000{n:02d}") for n in range(10)]
    rows[1]["quantity"] = "two"
    rows[5]["unit_price"] = "12,5元"
    rows[5]["buyer_email"] = "nope"
    rows[9]["placed_at"] = "yesterday"
    result = import_orders(csv_file(rows))
    assert [(i.row, i.column) for i in result.errors] == [
        (3, "quantity"),
        (7, "buyer_email"),
        (7, "unit_price"),
        (11, "placed_at"),
    ] or sorted((i.row, i.column) for i in result.errors) == [
        (3, "quantity"),
        (7, "buyer_email"),
        (7, "unit_price"),
        (11, "placed_at"),
    ]
    assert result.error_rows == {3, 7, 11}
    assert "3 row(s)" in result.summary()
    assert Order.objects.count() == 0


def test_unknown_and_missing_columns_are_named():
    rows = [order_row()]
    rows[0]["colour"] = "red"
    del rows[0]["quantity"]
    result = import_orders(csv_file(rows))
    assert result.file_error
    assert "“colour”" in result.file_error
    assert "“quantity”" in result.file_error and "数量" in result.file_error
    assert Order.objects.count() == 0


def test_values_are_normalised():
    rows = [
        order_row(
            buyer_phone="690 81 00 33",
            unit_price="US $12.50",
            total_amount="$12.50",
            supplier_amount="￥1,234.50",
            buyer_country="es",
            currency="usd",
        )
    ]
    assert import_orders(csv_file(rows)).ok
    order = Order.objects.get()
    assert order.buyer_phone == "+34690810033"
    assert (order.unit_price, order.total_amount) == (Decimal("12.50"), Decimal("12.50"))
    assert (order.buyer_country, order.currency) == ("ES", "USD")
    assert order.supplier_orders.get().amount == Decimal("1234.50")


# --- encodings --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "data",
    [
        "order_id,status\n1,paid\n".encode("utf-16"),
        "注文番号,ステータス\nｱｲｳ,ｴｵ\n".encode("shift_jis"),
        bytes(range(256)) * 4,
        b"PK\x03\x04\x14\x00\x06\x00" + b"\x00" * 100,
    ],
    ids=["utf-16", "shift-jis", "binary", "xlsx"],
)
def test_other_encodings_are_refused_with_how_to_save_the_file(data):
    source = io.BytesIO(data)
    source.name = "x.csv"
    result = import_orders(source)
    assert result.invalid
    assert "CSV UTF-8 (Comma delimited)" in result.file_error
    assert Order.objects.count() == 0


# --- re-import and forward moves --------------------------------------------------------------


def test_reimporting_the_same_file_changes_nothing_and_says_so():
    # given
    assert import_orders(UTF8).new == 20
    before = _snapshot()
    events = OrderEvent.objects.count()
    # when
    result = import_orders(UTF8)
    # then
    assert (result.new, result.updated, result.unchanged, result.refused_count) == (0, 0, 20, 0)
    assert result.nothing_to_change
    assert "changes nothing" in result.summary()
    assert _snapshot() == before
    assert OrderEvent.objects.count() == events
    # recognised as the very file imported before, without reading a row, and recorded
    assert result.same_as == OrderImport.objects.order_by("id").first()
    assert "It is the same file as imported on" in result.summary()
    assert list(OrderImport.objects.order_by("id").values_list("new", "unchanged")) == [(20, 0), (0, 20)]


def test_the_same_rows_in_other_bytes_are_checked_row_by_row_and_found_unchanged():
    # given
    assert import_orders(UTF8).new == 20
    before = _snapshot()
    # when: the same rows, saved again with a BOM and LF line ends (other bytes)
    text = UTF8.read_bytes().decode("utf-8").replace("\r\n", "\n")
    resaved = io.BytesIO(codecs.BOM_UTF8 + text.encode("utf-8"))
    resaved.name = "resaved.csv"
    result = import_orders(resaved)
    # then: every row was compared, none changed
    assert result.same_as is None
    assert (result.new, result.updated, result.unchanged, result.refused_count) == (0, 0, 20, 0)
    assert _snapshot() == before


def test_cells_with_tabs_newlines_and_backslashes_are_stored_exactly_and_found_unchanged_again():
    # given: cells that PostgreSQL's COPY format must escape (a quoted cell may hold a newline)
    notes = "line one\nline two\twith a tab, C:\\orders\\"
    # (a tab or a line break only in the multi-line notes: tests/test_import_edges.py)
    tricky = order_row(notes=notes, supplier_name="义乌\\晨光 饰品厂", buyer_name="Maria \\ Garcia")
    plain = order_row(order_id="8199000000000002")
    # when
    result = import_orders(csv_file([tricky, plain]))
    # then
    assert result.new == 2
    stored = Order.objects.get(platform_order_id="8199000000000001")
    assert (stored.notes, stored.buyer_name) == (notes, "Maria \\ Garcia")
    assert stored.supplier_orders.get().supplier_name == "义乌\\晨光 饰品厂"
    assert stored.events.get().data["row"] == 2
    # and the same rows in other bytes (columns reversed) are compared and found unchanged
    again = import_orders(csv_file([{k: r[k] for k in reversed(list(r))} for r in (tricky, plain)]))
    assert (again.same_as, again.unchanged, again.updated) == (None, 2, 0)


def test_every_applied_import_is_recorded_in_the_history():
    supervisor = staff("Supervisor")
    # a dry run and an invalid file record nothing
    import_orders(UTF8, dry_run=True, by=supervisor)
    import_orders(csv_file([order_row(quantity="two")]), by=supervisor)
    assert not OrderImport.objects.exists()
    # an applied import is recorded: who, which bytes, what it did
    result = import_orders(UTF8, by=supervisor)
    record = OrderImport.objects.get()
    assert (record.file_name, record.imported_by, record.sha256) == (
        "orders_sample.csv",
        supervisor,
        hashlib.sha256(UTF8.read_bytes()).hexdigest(),
    )
    assert (record.rows, record.new, record.updated, record.unchanged, record.refused) == (20, 20, 0, 0, 0)
    assert record.checksum, "an import that refused nothing vouches for its file"
    assert result.ok


def test_an_import_with_refused_rows_vouches_for_nothing_and_refuses_them_again():
    # given: an order already paid, and a file that would move it back
    assert import_orders(csv_file([order_row(status="paid", paid_at="2026-11-20 11:00")])).ok
    backwards = csv_file([order_row(), order_row(order_id="8199000000000002")])
    first = import_orders(backwards)
    assert (first.new, first.refused_count) == (1, 1)
    assert OrderImport.objects.order_by("id").last().checksum == ""
    # when: the very same bytes again
    backwards.seek(0)
    again = import_orders(backwards)
    # then: checked row by row, the refusal reported again
    assert again.same_as is None
    assert (again.new, again.unchanged, again.refused_count) == (0, 1, 1)
    assert "never moves an order back" in again.refused[0].message


def test_a_file_whose_orders_are_too_scattered_is_checked_row_by_row_again(monkeypatch):
    # given: at most one run of consecutive order ids vouched for, and a file of two orders
    # with another order created between them
    monkeypatch.setattr("orders.imports.history.MAX_RUNS", 1)
    assert import_orders(csv_file([order_row()])).new == 1
    OrderFactory(platform_order_id="8199000000000009")
    rows = [order_row(), order_row(order_id="8199000000000002")]
    assert import_orders(csv_file(rows)).new == 1
    assert OrderImport.objects.order_by("id").last().checksum == ""
    # when: the same bytes again
    result = import_orders(csv_file(rows))
    # then: every row compared, still nothing to change
    assert result.same_as is None
    assert (result.new, result.updated, result.unchanged) == (0, 0, 2)


def test_the_same_file_under_another_platform_time_zone_is_read_again(settings):
    assert import_orders(csv_file([order_row()])).new == 1
    settings.SHOPOPS_PLATFORM_TZ = "Europe/Madrid"
    result = import_orders(csv_file([order_row()]))
    assert result.same_as is None
    assert result.updated == 1
    assert Order.objects.get().placed_at == datetime(2026, 11, 20, 9, 0, tzinfo=UTC)


def test_a_reimport_recognises_rows_in_any_column_order_and_rows_it_applied():
    # given: imported, then moved forward by a second file
    assert import_orders(csv_file([order_row()])).new == 1
    paid = order_row(status="paid", paid_at="2026-11-20 11:00")
    assert import_orders(csv_file([paid])).updated == 1
    # when: the second file again, its columns in another order
    shuffled = {name: paid[name] for name in reversed(list(paid))}
    result = import_orders(csv_file([shuffled]))
    # then
    assert (result.new, result.updated, result.unchanged, result.refused_count) == (0, 0, 1, 0)
    assert Order.objects.get().events.count() == 2


def test_a_reimport_after_someone_changed_the_order_compares_it_again():
    # given: imported, then edited in Shopops and moved on by a Supervisor
    assert import_orders(csv_file([order_row(), order_row(order_id="8199000000000002")])).new == 2
    edited = Order.objects.get(platform_order_id="8199000000000001")
    edited.buyer_email = "typo@example.com"
    edited.save()
    moved = Order.objects.get(platform_order_id="8199000000000002")
    workflow.mark_paid(moved.pk, by=staff("Supervisor"), paid_at=None)
    # when: the same file again
    result = import_orders(csv_file([order_row(), order_row(order_id="8199000000000002")]))
    # then: not taken for the file imported before; the edit is compared (and the file's value
    # applied), the move back refused
    assert result.same_as is None
    assert (result.new, result.updated, result.unchanged, result.refused_count) == (0, 1, 0, 1)
    assert Order.objects.get(pk=edited.pk).buyer_email == "maria@example.com"
    assert "never moves an order back" in result.refused[0].message
    assert Order.objects.get(pk=moved.pk).status == Status.PAID


def test_an_export_reimports_unchanged():
    assert import_orders(GBK).ok
    exported = io.BytesIO(export_orders_response(Order.objects.all()).content)
    exported.name = "export.csv"
    result = import_orders(exported)
    assert result.unchanged == 20, (result.errors, result.refused)


def test_import_moves_orders_forward_through_the_workflow_one_event_per_move():
    # given
    supervisor = staff("Supervisor")
    assert import_orders(csv_file([order_row(), order_row(order_id="8199000000000002")])).new == 2
    # when: the first is now shipped (two moves), the second paid (one move) with a new email
    rows = [
        order_row(
            status="WAIT_BUYER_ACCEPT_GOODS",
            paid_at="2026-11-20 11:00",
            shipped_at="2026-11-21 09:00",
            tracking_number="LP000000001CN",
            carrier="YunExpress",
        ),
        order_row(
            order_id="8199000000000002",
            status="待发货",
            paid_at="2026-11-20 12:00",
            buyer_email="new@example.com",
        ),
    ]
    result = import_orders(csv_file(rows), by=supervisor)
    # then
    assert (result.new, result.updated, result.unchanged, result.refused_count) == (0, 2, 0, 0)
    first = Order.objects.get(platform_order_id="8199000000000001")
    assert (first.status, first.tracking_number) == (Status.SHIPPED, "LP000000001CN")
    assert first.paid_at == datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
    moves = list(first.events.order_by("id").values_list("transition", "from_status", "to_status", "actor"))
    assert moves == [
        ("imported", "", "awaiting_payment", None),
        # the platform status the file gives, with its old and new value
        ("imported", "awaiting_payment", "awaiting_payment", supervisor.pk),
        ("mark_paid", "awaiting_payment", "paid", supervisor.pk),
        ("mark_shipped", "paid", "shipped", supervisor.pk),
    ]
    second = Order.objects.get(platform_order_id="8199000000000002")
    assert (second.status, second.buyer_email, second.platform_status) == (
        Status.PAID,
        "new@example.com",
        "待发货",
    )
    # imported, the new email (old and new value) with the platform status, the move
    assert second.events.count() == 3
    change = second.events.get(transition="imported", from_status="awaiting_payment")
    assert change.data["buyer_email"] == {"old": "maria@example.com", "new": "new@example.com"}


def test_closed_order_moved_back_to_paid_is_refused_for_that_row_only():
    # given
    closed = OrderFactory(platform_order_id="8199000000000001")
    workflow.close_unpaid(closed, by=None, reason="buyer_cancelled")
    shipped = OrderFactory(platform_order_id="8199000000000003", status=Status.SHIPPED)
    # when
    rows = [
        order_row(status="paid", paid_at="2026-11-20 11:00", buyer_email="changed@example.com"),
        order_row(order_id="8199000000000002"),
        order_row(order_id="8199000000000003", status="paid"),
    ]
    result = import_orders(csv_file(rows))
    # then
    assert (result.new, result.updated, result.refused_count) == (1, 0, 2)
    # the closed order's row is refused for its money (the factory's quantity differs), the
    # shipped one's for the move back
    assert [(i.row, i.column) for i in result.refused] == [(2, "quantity"), (4, "status")]
    assert "close workflow" in result.refused[0].message
    assert "never moves an order back" in result.refused[1].message
    closed.refresh_from_db()
    assert (closed.status, closed.buyer_email) != (Status.PAID, "changed@example.com")
    assert closed.status == Status.CLOSED
    assert Order.objects.get(pk=shipped.pk).status == Status.SHIPPED
    assert not result.ok


def test_a_move_the_workflow_refuses_is_reported_for_that_row():
    assert import_orders(csv_file([order_row()])).ok
    result = import_orders(csv_file([order_row(status="shipped", paid_at="2026-11-20 11:00")]))
    assert result.refused_count == 1
    assert "tracking number" in result.refused[0].message
    order = Order.objects.get()
    assert order.status == Status.AWAITING_PAYMENT
    assert order.events.count() == 1


def test_dry_run_writes_nothing():
    result = import_orders(UTF8, dry_run=True)
    assert result.new == 20
    assert "Nothing has been written" in result.summary()
    assert Order.objects.count() == 0


# --- the command ----------------------------------------------------------------------------


def test_command_prints_a_summary_and_exits_zero(capsys):
    call_command("import_orders", str(ALIEXPRESS))
    out = capsys.readouterr().out
    assert "20 new" in out
    assert Order.objects.count() == 20


def test_command_exits_non_zero_and_names_every_bad_row(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_bytes(
        csv_file(
            [order_row(quantity="two"), order_row(order_id="8199000000000002", currency="XYZ")]
        ).getvalue()
    )
    with pytest.raises(SystemExit) as exit_info:
        call_command("import_orders", str(path))
    assert exit_info.value.code == 1
    err = capsys.readouterr().err
    assert "row 2, quantity: quantity “two” is not a whole number" in err
    assert "row 3, currency" in err
    assert Order.objects.count() == 0


def test_command_dry_run_writes_nothing(capsys):
    call_command("import_orders", str(UTF8), "--dry-run")
    assert "Dry run" in capsys.readouterr().out
    assert Order.objects.count() == 0


def test_export_columns_are_the_import_columns():
    assert list(COLUMN_NAMES)[:3] == ["order_id", "status", "placed_at"]
