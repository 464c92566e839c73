"""The loss ledger as the views read it: what each close cost the shop, in the reporting currency.

Its definition (each movement, its day's rate, the cost of the close, what makes a ledger
incomplete) is ``orders.selectors.ledger_sql``. The ledger CSV, ``manage.py loss_ledger`` and the
cost of closes (``orders.selectors.costs``) read the rows the workflow keeps
(``orders.models.OrderLedger``, ``orders.workflow.ledger``): one row per closed order, no
conversion at read time. The order page shows one order's ledger computed as it is now, with
every movement and its rate (:func:`order_ledger`).

The ledger reads the closes it is given: :func:`closed_between` (the command) and
``analytics.closed_ledgers`` (the page) give only those of the reader's stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shopops.money import money

from .. import policy
from ..models import Order, OrderLedger, Status, Store
from .analytics import period_bounds
from .ledger_sql import (
    KINDS,
    MAX_RATE_AGE_DAYS,
    SIGN,
    as_date,
    computed_entries,
    movement_rows,
    reporting_currency,
)

__all__ = ["CSV_COLUMNS", "KINDS", "MAX_RATE_AGE_DAYS", "closed_between", "ledger", "order_ledger"]

CSV_COLUMNS = [
    "order_id",
    "close_reason",
    "currency",
    "paid",
    "refunded_to_buyer",
    "supplier_cost_cny",
    "recovered_from_supplier_cny",
    "goods_back_cny",
    "goods_lost_cny",
    "cost_of_close",
    "missing",
]
# What a row of the ledger (the CSV, the command) reads of a kept entry.
ROW_FIELDS = (
    "order_id",
    "platform_order_id",
    "close_reason",
    "currency",
    "closed_at",
    "supplier",
    "sku__code",
    "buyer_country",
    "paid",
    "refunded_to_buyer",
    "supplier_cost_cny",
    "recovered_from_supplier_cny",
    "goods_back_cny",
    "goods_lost_cny",
    "cost_of_close",
    "incomplete",
    "no_supplier_order",
    "no_unit_cost",
    "buyer_refund_pending",
    "supplier_refund_pending",
    "missing_rates",
)


def kind_labels() -> dict[str, str]:
    return {
        "paid": _("Received from the buyer"),
        "refunded": _("Refunded to the buyer"),
        "supplier": _("Paid to the supplier"),
        "recovered": _("Recovered from the supplier"),
        "back": _("Goods back on the shelf"),
        "lost": _("Goods lost"),
    }


@dataclass(frozen=True)
class Movement:
    """One movement of an order's ledger; ``rate`` is reporting-currency units per 1 ``currency``."""

    kind: str
    label: str
    day: date
    currency: str
    amount: Decimal
    rate: Decimal | None
    converted: Decimal | None

    @property
    def sign(self) -> int:
        return SIGN[self.kind]


@dataclass
class LedgerRow:
    """One closed order's ledger: native sums per component, the cost of the close, what is missing."""

    order_id: int
    platform_order_id: str
    close_reason: str
    currency: str
    closed_at: datetime | None
    supplier: str
    sku: str
    country: str
    paid: Decimal
    refunded_to_buyer: Decimal
    supplier_cost_cny: Decimal | None
    recovered_from_supplier_cny: Decimal
    goods_back_cny: Decimal | None
    goods_lost_cny: Decimal | None
    cost_of_close: Decimal | None
    missing: list[str] = field(default_factory=list)
    movements: list[Movement] = field(default_factory=list)

    @property
    def reporting_currency(self) -> str:
        return reporting_currency()

    def csv_row(self) -> list[object]:
        def cell(value: Decimal | None) -> object:
            return "" if value is None else value

        return [
            self.platform_order_id,
            self.close_reason,
            self.currency,
            self.paid,
            self.refunded_to_buyer,
            cell(self.supplier_cost_cny),
            self.recovered_from_supplier_cny,
            cell(self.goods_back_cny),
            cell(self.goods_lost_cny),
            cell(self.cost_of_close),
            "; ".join(self.missing),
        ]


def missing_names(entry: dict[str, Any]) -> list[str]:
    """What an incomplete ledger lacks, in words: the supplier order (or its amount), the refunds
    not yet paid, then each rate missing."""
    if not entry["incomplete"]:
        return []
    missing = []
    if entry["no_supplier_order"]:
        missing.append(_("supplier order"))
    elif entry["no_unit_cost"]:
        missing.append(_("supplier order amount (unit cost)"))
    if entry["buyer_refund_pending"]:
        missing.append(_("refund to the buyer not yet paid"))
    if entry["supplier_refund_pending"]:
        missing.append(_("supplier refund not yet received"))
    for currency, day in entry["missing_rates"]:
        missing.append(_("rate %(currency)s on %(day)s") % {"currency": currency, "day": day})
    return missing


def _money(value: object) -> Decimal | None:
    return None if value is None else money(value)


def ledger_row(entry: dict[str, Any]) -> LedgerRow:
    """The ledger row of one entry (``ROW_FIELDS`` of a kept row, or a computed entry with ``sku``)."""
    return LedgerRow(
        order_id=entry["order_id"],
        platform_order_id=entry["platform_order_id"],
        close_reason=entry["close_reason"],
        currency=entry["currency"],
        closed_at=entry["closed_at"],
        supplier=entry["supplier"],
        sku=entry["sku__code"],
        country=entry["buyer_country"],
        paid=money(entry["paid"]),
        refunded_to_buyer=money(entry["refunded_to_buyer"]),
        supplier_cost_cny=_money(entry["supplier_cost_cny"]),
        recovered_from_supplier_cny=money(entry["recovered_from_supplier_cny"]),
        goods_back_cny=_money(entry["goods_back_cny"]),
        goods_lost_cny=_money(entry["goods_lost_cny"]),
        cost_of_close=_money(entry["cost_of_close"]),
        missing=missing_names(entry),
    )


def entries_of(rows: QuerySet[Any]) -> QuerySet[OrderLedger]:
    """The kept ledger entries of ``rows``: a queryset of entries as it is, or of orders (their
    closes' entries). Either is already limited to the reader's stores."""
    if rows.model is Order:
        return OrderLedger.objects.filter(order__in=rows.filter(status=Status.CLOSED).values("pk"))
    return rows


# The CSV's columns as kept, then what names the missing parts.
_CSV_FIELDS = (
    "platform_order_id",
    "close_reason",
    "currency",
    "paid",
    "refunded_to_buyer",
    "supplier_cost_cny",
    "recovered_from_supplier_cny",
    "goods_back_cny",
    "goods_lost_cny",
    "cost_of_close",
)
_WHY = ("incomplete", "no_supplier_order", "no_unit_cost", "buyer_refund_pending", "supplier_refund_pending")


def csv_rows(rows: QuerySet[Any]) -> Iterator[list[object]]:
    """The CSV rows (``CSV_COLUMNS``) of the ledger of ``rows`` (as :func:`ledger`), straight
    from the kept entries: the same cells as ``LedgerRow.csv_row``, without building the rows
    (the export of a quarter is tens of thousands of them). Two queries: the rows, then the
    rates missing of the incomplete ones (a JSON value decoded per row cost more than the row)."""
    entries = entries_of(rows)
    missing_rates = dict(entries.filter(incomplete=True).values_list("order_id", "missing_rates"))
    found = entries.order_by("closed_at", "order_id").values_list("order_id", *_CSV_FIELDS, *_WHY)
    width = len(_CSV_FIELDS) + 1
    for values in found:
        cells: list[object] = ["" if value is None else value for value in values[1:width]]
        if values[width]:
            why = dict(zip(_WHY, values[width:], strict=True))
            cells.append("; ".join(missing_names({**why, "missing_rates": missing_rates.get(values[0], [])})))
        else:
            cells.append("")
        yield cells


def ledger(rows: QuerySet[Any]) -> list[LedgerRow]:
    """The ledger of each close of ``rows`` (entries, or orders: :func:`entries_of`), ordered by
    close time. One query of the kept entries; nothing is converted here."""
    found = entries_of(rows).order_by("closed_at", "order_id").values_list(*ROW_FIELDS)
    return [ledger_row(dict(zip(ROW_FIELDS, values, strict=True))) for values in found]


def closed_between(
    since: date | None, until: date | None, *, user: Any, store: Store | None = None
) -> QuerySet[OrderLedger]:
    """The ledger entries of ``user``'s stores (``None``: the system, every store), or of one
    ``store`` among them, closed on the days ``since``..``until`` (current time zone; either end
    open)."""
    qs = policy.scope(user, OrderLedger.objects.all())
    if store is not None:
        qs = qs.filter(store=store)
    if since:
        qs = qs.filter(closed_at__gte=period_bounds(since, since)[0])
    if until:
        qs = qs.filter(closed_at__lt=period_bounds(until, until)[1])
    return qs


def order_ledger(order: Order) -> LedgerRow | None:
    """One closed order's ledger as it is now, with every movement; ``None`` for an order not closed."""
    entry = computed_entries(Order.objects.filter(pk=order.pk)).get(order.pk)
    if entry is None:
        return None
    row = ledger_row({**entry, "sku__code": order.sku.code})
    labels = kind_labels()
    for kind, currency, amount, day, rate, converted in movement_rows(order):
        row.movements.append(
            Movement(
                kind=kind,
                label=labels[kind],
                day=as_date(day),
                currency=currency,
                amount=money(amount),
                rate=None if rate is None else Decimal(str(rate)).quantize(Decimal("0.000001")),
                converted=_money(converted),
            )
        )
    return row
