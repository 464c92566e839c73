"""Order export: the contract's columns, and cells a spreadsheet would run as formulas kept as text."""

import csv
import io
from decimal import Decimal

import pytest
from openpyxl import load_workbook

from orders.models import Order
from orders.resources import COLUMN_NAMES, export_orders_response
from tests.factories import OrderFactory, SupplierOrderFactory

pytestmark = pytest.mark.django_db

DANGEROUS = {
    "equals": '=HYPERLINK("http://evil.example","x")',
    "plus": "+1+2",
    "minus": "-2+3",
    "at": "@SUM(A1:A2)",
    "tab": "\t=1+1",
    "cr": "\r=1+1",
}


def _order_with_notes(notes: str) -> Order:
    order = OrderFactory(notes=notes, buyer_name="Ana", buyer_phone="")
    SupplierOrderFactory(order=order, supplier_name="=cmd|' /C calc'!A0", amount=Decimal("12.50"))
    return order


def _csv_rows(response) -> list[dict[str, str]]:
    text = response.content.decode("utf-8-sig")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize("prefix", list(DANGEROUS))
def test_csv_export_escapes_each_dangerous_prefix(prefix):
    # given
    order = _order_with_notes(DANGEROUS[prefix])
    # when
    response = export_orders_response(Order.objects.filter(pk=order.pk), "csv")
    # then
    assert response["Content-Type"].startswith("text/csv")
    (row,) = _csv_rows(response)
    assert row["notes"] == "'" + DANGEROUS[prefix]
    assert row["supplier_name"] == "'=cmd|' /C calc'!A0"
    assert row["order_id"] == order.platform_order_id


@pytest.mark.parametrize("prefix", list(DANGEROUS))
def test_xlsx_export_writes_each_dangerous_prefix_as_text(prefix):
    # given
    order = _order_with_notes(DANGEROUS[prefix])
    # when
    response = export_orders_response(Order.objects.filter(pk=order.pk), "xlsx")
    # then: read back, no cell is a formula and the text is kept
    sheet = load_workbook(io.BytesIO(response.content)).active
    header = [cell.value for cell in sheet[1]]
    assert header == list(COLUMN_NAMES)
    cells = dict(zip(header, sheet[2], strict=True))
    assert all(cell.data_type != "f" for cell in sheet[2])
    assert cells["notes"].data_type == "s"
    # XML turns a bare CR into LF when read back; the cell is text either way.
    assert cells["notes"].value == DANGEROUS[prefix].replace("\r", "\n")
    assert cells["supplier_name"].value == "=cmd|' /C calc'!A0"
    assert cells["supplier_name"].data_type == "s"


def test_csv_export_has_every_contract_column_and_platform_times():
    # given
    order = OrderFactory(notes="gift wrap", buyer_phone="")
    SupplierOrderFactory(order=order, supplier_order_id="3000000000000001", amount=Decimal("6.00"))
    # when
    rows = _csv_rows(export_orders_response(Order.objects.all()))
    # then
    assert list(rows[0]) == list(COLUMN_NAMES)
    assert rows[0]["sku"] == order.sku.code
    assert rows[0]["supplier_order_id"] == "3000000000000001"
    assert rows[0]["supplier_amount"] == "6.00"
    assert rows[0]["status"] == order.status
    assert rows[0]["notes"] == "gift wrap"


def test_unknown_format_is_refused():
    with pytest.raises(ValueError, match="xls"):
        export_orders_response(Order.objects.none(), "xls")
