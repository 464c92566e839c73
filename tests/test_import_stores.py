"""Stores in the order CSV import and export (SPEC section 11, issue 20): the ``store`` column
(店铺), the store chosen for a file (``--store``, the upload page's chooser), the only store by
default, who may import into which store, orders that never move, and exports of one's stores."""

import csv
import io

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from orders.admin.imports import SESSION_KEY
from orders.imports.service import import_orders
from orders.models import Order, OrderImport
from orders.resources import export_orders_response
from tests.factories import OrderFactory, StoreFactory, default_store, staff
from tests.import_support import csv_file, order_row

pytestmark = pytest.mark.django_db

IMPORT_URL = "/admin/orders/order/import/"
EXPORT_URL = "/admin/orders/order/export/"
CHANGELIST_URL = "/admin/orders/order/"


@pytest.fixture(autouse=True)
def _private_var(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture
def eu():
    return StoreFactory(code="EU", name="Europe")


@pytest.fixture
def us():
    return StoreFactory(code="US", name="United States")


def _order_id(n: int) -> str:
    return f"8199{n:012d}"


def _rows(*stores: str, column: str = "store") -> list[dict[str, str]]:
    """One row per store code given (``None``: no store column at all)."""
    rows = []
    for n, code in enumerate(stores, start=1):
        row = order_row(order_id=_order_id(n))
        if code is not None:
            row[column] = code
        rows.append(row)
    return rows


def _stores_of_orders() -> dict[str, str]:
    return dict(Order.objects.values_list("platform_order_id", "store__code"))


def _messages(result) -> list[tuple[int, str, str, str]]:
    return [(i.row, i.column, i.value, i.message) for i in [*result.errors, *result.refused]]


# --- the store of each row ------------------------------------------------------------------


def test_the_store_column_names_each_rows_store_in_any_case(eu, us):
    # when
    result = import_orders(csv_file(_rows("eu", "US", "Eu")))
    # then
    assert result.ok, _messages(result)
    assert result.new == 3
    assert _stores_of_orders() == {_order_id(1): "EU", _order_id(2): "US", _order_id(3): "EU"}
    assert OrderImport.objects.get().store is None  # several stores: blank


def test_the_chinese_header_of_the_store_column(eu, us):
    # when
    result = import_orders(csv_file(_rows("US", "US", column="店铺")))
    # then
    assert result.ok, _messages(result)
    assert _stores_of_orders() == {_order_id(1): "US", _order_id(2): "US"}
    assert OrderImport.objects.get().store == us


def test_the_column_wins_over_the_chosen_store_and_fills_its_blank_cells(eu, us):
    result = import_orders(csv_file(_rows("US", "")), store=eu)
    assert result.ok, _messages(result)
    assert _stores_of_orders() == {_order_id(1): "US", _order_id(2): "EU"}


def test_a_file_naming_no_store_goes_to_the_only_store():
    # given: a fresh installation, one store
    main = default_store()
    # when
    result = import_orders(csv_file(_rows(None, None)))
    # then
    assert result.ok and result.new == 2
    assert set(_stores_of_orders().values()) == {main.code}
    assert OrderImport.objects.get().store == main


def test_a_file_naming_no_store_among_several_is_refused_naming_the_choice(eu, us):
    default_store()
    # when: no column, no store chosen
    result = import_orders(csv_file(_rows(None, None)))
    # then
    assert result.invalid
    assert (
        result.summary()
        == "Choose the store of this file: EU, US, main (or give each row its store in the “store” column)."
    )
    assert not Order.objects.exists()


def test_a_blank_store_cell_among_several_stores_is_a_row_error_naming_the_choice(eu, us):
    result = import_orders(csv_file(_rows("EU", "")))
    assert result.invalid
    assert [(i.row, i.column) for i in result.errors] == [(3, "store")]
    assert result.errors[0].message.startswith("Choose the store of this file: EU, US")
    assert not Order.objects.exists()


def test_an_unknown_store_is_a_row_error_naming_it_and_nothing_is_written(eu):
    # when
    result = import_orders(csv_file(_rows("EU", "ASIA", "EU")))
    # then
    assert result.invalid
    assert _messages(result) == [(3, "store", "ASIA", "Unknown store “ASIA”.")]
    assert "Nothing was imported: 1 problem(s) in 1 row(s)" in result.summary()
    assert not Order.objects.exists()


def test_a_store_the_user_does_not_work_for_is_a_row_error_naming_it(eu, us):
    # given: a Supervisor of the European store only
    supervisor = staff("Supervisor", stores=[eu])
    # when
    result = import_orders(csv_file(_rows("EU", "US")), by=supervisor)
    # then
    assert _messages(result) == [(3, "store", "US", "You do not work for store “US”.")]
    assert not Order.objects.exists()
    # and choosing that store for the whole file is refused as well
    chosen = import_orders(csv_file(_rows(None)), by=supervisor, store="us")
    assert chosen.summary() == "You do not work for store “US”."
    assert not Order.objects.exists()


def test_the_system_imports_into_every_store(eu, us):
    assert import_orders(csv_file(_rows("EU", "US")), by=None).new == 2


def test_each_store_code_is_looked_up_once_not_once_a_row(eu, us):
    rows = [
        {**order_row(order_id=_order_id(n)), "store": ["EU", "us", "US", "eu"][n % 4]} for n in range(200)
    ]
    supervisor = staff("Supervisor", stores=[eu, us])
    with CaptureQueriesContext(connection) as queries:
        result = import_orders(csv_file(rows), by=supervisor)
    assert result.new == 200
    by_code = [q["sql"] for q in queries if 'FROM "orders_store" WHERE' in q["sql"]]
    assert len(by_code) == 2, by_code  # EU and US, each once whatever its case


# --- orders Shopops already holds -----------------------------------------------------------


def test_an_existing_order_never_moves_to_another_store(eu, us):
    # given: the order is in the European store; the Supervisor works for both
    assert import_orders(csv_file(_rows("EU"))).new == 1
    supervisor = staff("Supervisor", stores=[eu, us])
    # when: a file says it is of the American store, beside a new order
    rows = _rows("US", "US")
    result = import_orders(csv_file(rows), by=supervisor)
    # then: that row is refused, saying why; the rest applied
    assert result.applied and (result.new, result.refused_count) == (1, 1)
    assert _messages(result) == [
        (
            2,
            "store",
            "US",
            f"order {_order_id(1)} belongs to store “EU”; the file says “US”. An order never moves "
            "to another store. Row not applied.",
        )
    ]
    assert _stores_of_orders() == {_order_id(1): "EU", _order_id(2): "US"}


def test_an_existing_order_of_another_store_chosen_for_the_file_is_refused(eu, us):
    assert import_orders(csv_file(_rows(None)), store=eu).new == 1
    result = import_orders(csv_file(_rows(None)), store=us)
    assert result.refused_count == 1
    assert result.refused[0].message == (
        f"order {_order_id(1)} belongs to store “EU”; this file is imported into “US”. An order "
        "never moves to another store. Row not applied."
    )
    assert _stores_of_orders() == {_order_id(1): "EU"}


def test_an_order_of_a_store_the_user_does_not_work_for_is_a_row_error_that_names_no_store(eu, us):
    # given: the very row was imported into the European store
    assert import_orders(csv_file(_rows("EU"))).new == 1
    supervisor = staff("Supervisor", stores=[us])
    # when: a Supervisor of the American store imports it, as theirs
    result = import_orders(csv_file(_rows("US")), by=supervisor)
    # then: a row error that says the id is taken, and nothing about the order or its store
    assert result.invalid
    ((row, column, value, message),) = _messages(result)
    assert (row, column, value) == (2, "order_id", _order_id(1))
    assert message == (
        f"order {_order_id(1)} is already in Shopops, in a store you do not work for: this row "
        "cannot be imported by you. Check the order id, or ask someone who works for its store."
    )
    assert "EU" not in message
    assert _stores_of_orders() == {_order_id(1): "EU"}


def test_a_file_imported_into_another_store_is_not_recognised_as_unchanged_for_its_outsiders(eu, us):
    # given: a file naming its store, imported by the system
    data = csv_file(_rows("EU")).getvalue()
    assert import_orders(io.BytesIO(data)).new == 1
    # when: the very same bytes, by a Supervisor of the other store
    result = import_orders(io.BytesIO(data), by=staff("Supervisor", stores=[us]))
    # then: not "changes nothing" (which would say the order exists and is as in the file)
    assert result.same_as is None
    assert _messages(result) == [(2, "store", "EU", "You do not work for store “EU”.")]


def test_a_file_imported_again_into_its_store_changes_nothing(eu, us):
    data = csv_file(_rows("EU", "US")).getvalue()
    assert import_orders(io.BytesIO(data)).new == 2
    again = import_orders(io.BytesIO(data))
    assert again.ok and again.unchanged == 2 and again.same_as is not None
    # a user of both stores is told the same; the history keeps no store (several)
    both = import_orders(io.BytesIO(data), by=staff("Supervisor", stores=[eu, us]))
    assert both.unchanged == 2 and both.new == 0
    assert list(OrderImport.objects.values_list("store", flat=True)) == [None, None, None]


@pytest.mark.postgres  # elsewhere bulk_create stamps updated_at itself: no fingerprint matches
def test_a_row_applied_before_is_recognised_whether_its_file_names_the_store_or_not(monkeypatch):
    # given: rows imported from a file without the store column (as before stores existed)
    main = default_store()
    assert import_orders(csv_file(_rows(None, None))).new == 2

    def parse(*args, **kwargs):
        raise AssertionError("a row recognised by its fingerprint is not parsed")

    monkeypatch.setattr("orders.imports.rows.RowParser.__call__", parse)
    # when: the same rows, now naming their store
    result = import_orders(csv_file(_rows("MAIN", main.code)))
    # then: unchanged at once (the store is compared, not hashed)
    assert result.ok and result.unchanged == 2 and result.same_as is None


# --- the command ---------------------------------------------------------------------------


def test_the_command_takes_the_store_of_a_file_without_the_column(eu, us, tmp_path):
    # given
    path = tmp_path / "orders.csv"
    path.write_bytes(csv_file(_rows(None, None)).getvalue())
    out = io.StringIO()
    # when
    call_command("import_orders", str(path), "--store", "us", stdout=out)
    # then
    assert "2 new" in out.getvalue()
    assert _stores_of_orders() == {_order_id(1): "US", _order_id(2): "US"}
    assert OrderImport.objects.get().store == us


def test_the_command_refuses_an_unknown_store(eu, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(csv_file(_rows(None)).getvalue())
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_orders", str(path), "--store", "ASIA", stderr=err)
    assert exit_.value.code == 1
    assert "Unknown store “ASIA”." in err.getvalue()
    assert not Order.objects.exists()


def test_the_command_names_the_choice_of_a_file_naming_no_store_among_several(eu, us, tmp_path):
    path = tmp_path / "orders.csv"
    path.write_bytes(csv_file(_rows(None)).getvalue())
    err = io.StringIO()
    with pytest.raises(SystemExit) as exit_:
        call_command("import_orders", str(path), stderr=err)
    assert exit_.value.code == 1
    assert "Choose the store of this file: EU, US" in err.getvalue()
    assert not Order.objects.exists()


# --- the upload page's chooser ----------------------------------------------------------------


def _upload(client, rows, store=None):
    data = {"file": csv_file(rows)}
    if store is not None:
        data["store"] = store
    return client.post(IMPORT_URL, data)


def _options(response) -> list[tuple[str, bool]]:
    html = response.content.decode()
    start = html.index('<select name="store"')
    select = html[start : html.index("</select>", start)]
    options = []
    for chunk in select.split("<option")[1:]:
        value = chunk.split('value="', 1)[1].split('"', 1)[0]
        options.append((value, " selected" in chunk.split(">", 1)[0]))
    return options


def test_the_chooser_offers_only_the_users_stores_preselected_when_one(client, eu, us):
    default_store()
    client.force_login(staff("Supervisor", stores=[us]))
    assert _options(client.get(IMPORT_URL)) == [("US", True)]
    client.force_login(staff("Supervisor", username="both", stores=[eu, us]))
    assert _options(client.get(IMPORT_URL)) == [("", True), ("EU", False), ("US", False)]


def test_the_chosen_store_is_previewed_then_imported(client, eu, us):
    # given
    client.force_login(staff("Supervisor", stores=[eu, us]))
    # when: preview with the American store chosen
    preview = _upload(client, _rows(None, None), store="US")
    # then
    page = preview.content.decode()
    assert "2 new" in page
    assert "Rows that name no store go to store US." in page
    assert not Order.objects.exists()
    token = preview.context["token"]
    assert client.session[SESSION_KEY][token] == {"name": "test.csv", "store": "US"}
    # when: confirm
    done = client.post(IMPORT_URL, {"token": token})
    # then
    assert "Imported test.csv: 2 new" in done.content.decode()
    assert _stores_of_orders() == {_order_id(1): "US", _order_id(2): "US"}
    assert OrderImport.objects.get().store == us


def test_without_a_choice_among_several_stores_the_preview_names_the_choice(client, eu, us):
    client.force_login(staff("Supervisor", stores=[eu, us]))
    response = _upload(client, _rows(None))
    assert "Choose the store of this file: EU, US" in response.content.decode()
    assert response.context["token"] == ""


def test_a_store_the_user_does_not_work_for_cannot_be_chosen(client, eu, us):
    client.force_login(staff("Supervisor", stores=[eu]))
    response = _upload(client, _rows(None), store="US")
    assert response.status_code == 400
    assert "You do not work for store “US”." in response.content.decode()
    assert not Order.objects.exists()


@pytest.mark.parametrize("value", ["EU\x00", "E" * 40, "EU\nUS"])
def test_a_chosen_store_that_is_no_code_is_refused_before_any_lookup(client, eu, value):
    client.force_login(staff("Supervisor", stores=[eu]))
    response = _upload(client, _rows(None), store=value)
    assert response.status_code == 400
    assert 'id="import-error"' in response.content.decode()
    assert not Order.objects.exists()


def test_the_preview_lists_the_rows_of_a_store_the_user_does_not_work_for(client, eu, us):
    client.force_login(staff("Supervisor", stores=[eu]))
    response = _upload(client, _rows("EU", "US"))
    errors = response.content.decode().split('id="import-errors"', 1)[1]
    assert "You do not work for store “US”." in errors
    assert response.context["token"] == ""


# --- the export -------------------------------------------------------------------------------


def _exported(response) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_the_export_of_a_one_store_user_holds_no_other_stores_order(client, eu, us):
    # given
    mine = OrderFactory(store=eu)
    theirs = OrderFactory(store=us)
    client.force_login(staff("Operator", stores=[eu]))
    # when: the export screen, and the list's action with both ids posted
    screen = _exported(client.get(EXPORT_URL))
    action = _exported(
        client.post(
            CHANGELIST_URL,
            {"action": "export", "_selected_action": [mine.pk, theirs.pk], "index": 0},
        )
    )
    # then
    for rows in (screen, action):
        assert [(r["order_id"], r["store"]) for r in rows] == [(mine.platform_order_id, "EU")]


def test_an_export_of_several_stores_imports_back_unchanged(eu, us):
    # given: orders of two stores, imported
    assert import_orders(csv_file(_rows("EU", "US", "EU"))).new == 3
    # when: exported, and the export imported again
    response = export_orders_response(Order.objects.all())
    rows = _exported(response)
    exported = io.BytesIO(response.content)
    exported.name = "export.csv"
    result = import_orders(exported, by=staff("Supervisor", stores=[eu, us]))
    # then
    assert sorted((r["order_id"], r["store"]) for r in rows) == [
        (_order_id(1), "EU"),
        (_order_id(2), "US"),
        (_order_id(3), "EU"),
    ]
    assert result.ok and (result.new, result.updated, result.unchanged) == (0, 0, 3), _messages(result)
    assert _stores_of_orders() == {_order_id(1): "EU", _order_id(2): "US", _order_id(3): "EU"}


def test_an_export_imported_into_an_empty_shop_recreates_each_store(eu, us):
    OrderFactory(platform_order_id=_order_id(1), store=eu)
    OrderFactory(platform_order_id=_order_id(2), store=us)
    content = export_orders_response(Order.objects.all()).content
    Order.objects.all().delete()
    result = import_orders(io.BytesIO(content))
    assert result.ok and result.new == 2, _messages(result)
    assert _stores_of_orders() == {_order_id(1): "EU", _order_id(2): "US"}
