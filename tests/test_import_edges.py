"""Both imports at the edges (issue 12, parts 2 and 4): dates outside the sane window, cells the
CSV reader refuses — a clear message naming the row and column, nothing written, nothing left."""

import io

import pytest
from django.urls import reverse

from orders.admin.imports import import_dir
from orders.imports.feedback import import_feedback
from orders.imports.service import import_orders
from orders.models import Feedback, Order
from tests.factories import OrderFactory, staff
from tests.import_support import csv_file, order_row

pytestmark = pytest.mark.django_db
IMPORT_URL = "/admin/orders/order/import/"


@pytest.fixture(autouse=True)
def _private_var(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("placed_at", "0001-01-01 00:00:00", "placed_at cannot be before 2000-01-01"),
        ("placed_at", "0001/01/01 00:00", "placed_at cannot be before 2000-01-01"),
        ("placed_at", "1999-12-31 23:59", "placed_at cannot be before 2000-01-01"),
        ("paid_at", "9999-12-31 23:59:59", "paid_at cannot be in the future"),
        ("shipped_at", "9999-12-31T23:59:59+14:00", "shipped_at cannot be in the future"),
        ("placed_at", "0001-01-01T00:00:00-12:00", "placed_at cannot be before 2000-01-01"),
    ],
)
def test_a_preview_with_a_date_outside_the_window_names_it_and_leaves_no_upload(client, column, value, words):
    # given
    client.force_login(staff("Supervisor"))
    upload = csv_file(
        [order_row(status="shipped", tracking_number="LP1", carrier="Y"), order_row(order_id="2")]
    )
    rows = upload.getvalue().decode().splitlines()
    header = rows[0].split(",")
    cells = rows[1].split(",")
    cells[header.index(column)] = value
    data = io.BytesIO("\r\n".join([rows[0], ",".join(cells), rows[2]]).encode())
    data.name = "edges.csv"
    # when
    response = client.post(IMPORT_URL, {"file": data})
    # then
    assert response.status_code == 200
    result = response.context["result"]
    assert [(i.row, i.column, i.value) for i in result.errors] == [(2, column, value)]
    assert words in result.errors[0].message
    assert not response.context["token"]
    assert Order.objects.count() == 0
    assert not list(import_dir().iterdir())


@pytest.mark.parametrize(
    ("column", "value", "words"),
    [
        ("order_id", "RT-NL-1\nX", "must be one line"),
        ("order_id", "RT-NL-1\rX", "must be one line"),
        ("buyer_name", "Maria\tGarcia", "must be one line"),
        ("supplier_order_id", "3000\u20289001", "must be one line"),
        ("product_title", "case \u202egnp.exe", "U+202E"),
        ("tracking_number", "LP\u20661", "U+2066"),
        ("carrier", "Yun\u202dExpress", "U+202D"),
        ("notes", "first line\nsecond \u202eline", "U+202E"),
    ],
)
def test_a_control_or_bidi_character_in_a_one_line_column_is_a_row_error(column, value, words):
    """An order id "RT-NL-1\nX" was imported, and its evidence pack then answered 500. (Other C0 and
    C1 controls refuse the whole file, as a sign of a wrong encoding: ``orders.imports.reading``.)"""
    # when
    result = import_orders(csv_file([order_row(**{column: value}), order_row(order_id="8199000000000002")]))
    # then
    assert [(i.row, i.column) for i in result.errors] == [(2, column)]
    assert words in result.errors[0].message
    assert Order.objects.count() == 0


def test_a_line_break_and_a_tab_stay_allowed_in_the_notes():
    from orders.imports.columns import full_parsers

    notes = "line one\nline two\twith a tab"
    assert full_parsers()["notes"](notes, "notes") == notes


def _feedback_csv(*lines: str) -> bytes:
    return ("order_id,rating,comment,date\n" + "\n".join(lines) + "\n").encode()


@pytest.mark.parametrize(
    ("date", "words"),
    [
        ("0001-01-01", "date cannot be before 2000-01-01"),
        ("9999-12-31 23:59:59", "date cannot be in the future"),
        ("1999-12-31", "date cannot be before 2000-01-01"),
    ],
)
def test_the_feedback_import_refuses_dates_outside_the_window(date, words):
    OrderFactory(platform_order_id="8100000000000777")
    result = import_feedback(_feedback_csv(f"8100000000000777,5,ok,{date}"), by=None)
    assert [(e.row, e.column) for e in result.errors] == [(2, "date")]
    assert words in result.errors[0].message
    assert not Feedback.objects.exists()


def test_the_feedback_import_names_a_cell_longer_than_the_csv_reader_takes():
    # given: a comment cell of 200,000 characters (the reader's limit is 131,072)
    OrderFactory(platform_order_id="8100000000000777")
    data = _feedback_csv(
        "8100000000000777,5,ok,2026-03-01", f'8100000000000777,4,"{"x" * 200_000}",2026-03-02'
    )
    # when
    result = import_feedback(data, by=None)
    # then
    assert not result.ok
    (error,) = result.errors
    assert error.row == 3
    assert "not valid CSV here" in error.message and "field larger than field limit" in error.message
    assert not Feedback.objects.exists()


def test_the_feedback_import_screen_answers_an_over_long_cell_with_the_row(client):
    OrderFactory(platform_order_id="8100000000000777")
    client.force_login(staff("Supervisor"))
    upload = io.BytesIO(_feedback_csv(f'8100000000000777,4,"{"x" * 200_000}",2026-03-02'))
    upload.name = "feedback.csv"
    response = client.post(reverse("admin:orders_feedback_import"), {"file": upload})
    assert response.status_code == 400
    assert "not valid CSV here" in response.content.decode()


def test_the_order_import_and_the_feedback_import_read_with_one_reader():
    # the same over-long cell, the same words from both
    long_cell = csv_file([order_row(notes="x" * 200_000)])
    result = import_orders(long_cell)
    assert result.invalid
    assert "not valid CSV here" in result.errors[0].message
