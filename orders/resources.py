"""The CSV columns of SPEC section 6, and the export of orders in them.

``COLUMNS`` is the contract: English name, Chinese header, whether the column must be present.
``OrderResource`` (django-import-export) maps every column to the models and is what the export
uses. The import does not go through the resource's row-by-row import path — at 100,000 rows it
is an order of magnitude too slow — but through ``orders.imports``, which reads the same
``COLUMNS``.

Exports are escaped against spreadsheet formula injection (OWASP "CSV injection"): a text cell
starting with ``= + - @``, a tab or a carriage return is written as text — in CSV with a leading
single quote, in XLSX as a cell typed as a string.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from import_export import fields, resources

from shopops import csvout

from .models import Order, SupplierOrder


@dataclass(frozen=True)
class Column:
    name: str
    chinese: str
    required: bool = False


# SPEC section 6, in its order, then section 11's. ``required`` columns must be in the file's header.
COLUMNS: tuple[Column, ...] = (
    Column("order_id", "订单号", True),
    Column("status", "订单状态", True),
    Column("placed_at", "下单时间", True),
    Column("paid_at", "付款时间"),
    Column("shipped_at", "发货时间"),
    Column("buyer_name", "买家", True),
    Column("buyer_email", "买家邮箱"),
    Column("buyer_phone", "买家电话"),
    Column("buyer_country", "收货国家", True),
    Column("buyer_language", "买家语言"),
    Column("sku", "商品编码", True),
    Column("product_title", "商品名称"),
    Column("quantity", "数量", True),
    Column("unit_price", "单价"),
    Column("total_amount", "订单金额", True),
    Column("currency", "币种"),
    Column("supplier_name", "供应商"),
    Column("supplier_contact", "供应商联系方式"),
    Column("supplier_order_id", "1688订单号"),
    Column("supplier_amount", "采购金额"),
    Column("tracking_number", "运单号"),
    Column("carrier", "物流公司"),
    Column("notes", "备注"),
    # SPEC section 11: the store's code (any case). Blank or absent: the store chosen for the
    # file, else the only store (``orders.imports.stores``).
    Column("store", "店铺"),
)
COLUMN_NAMES: tuple[str, ...] = tuple(c.name for c in COLUMNS)

TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


def platform_time(value: datetime | None) -> str:
    """A stored (UTC) time as the platform shows it: naive, in ``SHOPOPS_PLATFORM_TZ``.

    The import reads naive times in that zone, so an export re-imports unchanged.
    """
    if value is None:
        return ""
    return timezone.localtime(value, ZoneInfo(settings.SHOPOPS_PLATFORM_TZ)).strftime(TIME_FORMAT)


def _first_supplier_order(order: Order) -> SupplierOrder | None:
    # Prefetched by export_queryset(); the first one is the purchase that sourced the order.
    supplier_orders = list(order.supplier_orders.all())
    return supplier_orders[0] if supplier_orders else None


class _TimeField(fields.Field):
    def get_value(self, obj):
        return platform_time(super().get_value(obj))


class OrderResource(resources.ModelResource):
    """Every column of the contract, in its order, with the contract's English header."""

    order_id = fields.Field(attribute="platform_order_id", column_name="order_id")
    status = fields.Field(attribute="status", column_name="status")
    placed_at = _TimeField(attribute="placed_at", column_name="placed_at")
    paid_at = _TimeField(attribute="paid_at", column_name="paid_at")
    shipped_at = _TimeField(attribute="shipped_at", column_name="shipped_at")
    buyer_name = fields.Field(attribute="buyer_name", column_name="buyer_name")
    buyer_email = fields.Field(attribute="buyer_email", column_name="buyer_email")
    buyer_phone = fields.Field(attribute="buyer_phone", column_name="buyer_phone")
    buyer_country = fields.Field(attribute="buyer_country", column_name="buyer_country")
    buyer_language = fields.Field(attribute="buyer_language", column_name="buyer_language")
    sku = fields.Field(attribute="sku__code", column_name="sku")
    product_title = fields.Field(attribute="product_title", column_name="product_title")
    quantity = fields.Field(attribute="quantity", column_name="quantity")
    unit_price = fields.Field(attribute="unit_price", column_name="unit_price")
    total_amount = fields.Field(attribute="total_amount", column_name="total_amount")
    currency = fields.Field(attribute="currency", column_name="currency")
    supplier_name = fields.Field(column_name="supplier_name")
    supplier_contact = fields.Field(column_name="supplier_contact")
    supplier_order_id = fields.Field(column_name="supplier_order_id")
    supplier_amount = fields.Field(column_name="supplier_amount")
    tracking_number = fields.Field(attribute="tracking_number", column_name="tracking_number")
    carrier = fields.Field(attribute="carrier", column_name="carrier")
    notes = fields.Field(attribute="notes", column_name="notes")
    store = fields.Field(attribute="store__code", column_name="store")

    class Meta:
        model = Order
        fields = COLUMN_NAMES
        export_order = COLUMN_NAMES
        import_id_fields = ("order_id",)
        chunk_size = 2000

    def _supplier(self, order: Order, attribute: str) -> object:
        supplier_order = _first_supplier_order(order)
        value = getattr(supplier_order, attribute) if supplier_order is not None else None
        return "" if value is None else value

    def dehydrate_supplier_name(self, order: Order) -> object:
        return self._supplier(order, "supplier_name")

    def dehydrate_supplier_contact(self, order: Order) -> object:
        return self._supplier(order, "supplier_contact")

    def dehydrate_supplier_order_id(self, order: Order) -> object:
        return self._supplier(order, "supplier_order_id")

    def dehydrate_supplier_amount(self, order: Order) -> object:
        return self._supplier(order, "amount")


def export_queryset(queryset: QuerySet[Order]) -> QuerySet[Order]:
    """The orders with what the export reads, in two queries per chunk instead of one per row."""
    return queryset.select_related("sku", "store").prefetch_related(
        Prefetch("supplier_orders", queryset=SupplierOrder.objects.order_by("id"))
    )


def _rows(queryset: QuerySet[Order]) -> Iterator[list[object]]:
    resource = OrderResource()
    export_fields = resource.get_export_fields()
    for order in resource.iter_queryset(export_queryset(queryset)):
        yield [resource.export_field(field, order) for field in export_fields]


def render_csv(rows: Iterable[list[object]]) -> bytes:
    """UTF-8 with BOM, so that Excel opens the Chinese text correctly; every text cell escaped
    (``shopops.csvout``)."""
    buffer = io.StringIO()
    writer = csvout.writer(buffer, bom=True)
    writer.writerow(COLUMN_NAMES)
    writer.writerows(rows)
    return buffer.getvalue().encode("utf-8")


def render_xlsx(rows: Iterable[list[object]]) -> bytes:
    """One sheet; text cells are typed as strings, so none of them is ever evaluated as a formula.

    openpyxl would store a str starting with "=" as a formula; forcing ``data_type = "s"`` keeps
    the exact text (no visible quote) and Excel shows it as text.
    """
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=str(_("Orders")))
    sheet.append(list(COLUMN_NAMES))
    for row in rows:
        cells = []
        for value in row:
            if isinstance(value, str) or value is None:
                cell = WriteOnlyCell(sheet, value="" if value is None else value)
                cell.data_type = "s"
            else:
                # Quantities and amounts stay numbers, so totals can be summed in the sheet.
                cell = WriteOnlyCell(sheet, value=value)
            cells.append(cell)
        sheet.append(cells)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


EXPORT_FORMATS = {
    "csv": ("text/csv; charset=utf-8", render_csv),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", render_xlsx),
}


def export_orders_response(queryset: QuerySet[Order], file_format: str = "csv") -> HttpResponse:
    """A download of ``queryset`` in the contract's columns, as CSV (default) or XLSX.

    Cells that a spreadsheet would run as formulas are exported as text (SPEC section 6).
    Raises ``ValueError`` for a format other than ``csv`` or ``xlsx``. Reads only.
    """
    file_format = (file_format or "csv").lower()
    if file_format not in EXPORT_FORMATS:
        raise ValueError(_("Unknown export format “%(format)s”: use csv or xlsx.") % {"format": file_format})
    content_type, render = EXPORT_FORMATS[file_format]
    stamp = timezone.localtime(timezone.now(), ZoneInfo(settings.SHOPOPS_PLATFORM_TZ)).strftime(
        "%Y%m%d-%H%M%S"
    )
    response = HttpResponse(render(_rows(queryset)), content_type=content_type)
    response["Content-Disposition"] = content_disposition_header(True, f"orders-{stamp}.{file_format}")
    return response
