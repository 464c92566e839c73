"""Cost of closes: the loss ledger of a view's closed orders, summed in the reporting currency.

The conversion and the cost of each close are computed by the database (``ledger.ledger_cte``);
this module reads one row per order (its keys and its cost) and sums them per reason, supplier,
SKU, country and day. A close whose ledger is incomplete (a missing rate, supplier order or
pending refund) is counted apart and never added to a total: the page says how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shopops.money import money

from ..models import CloseReason, Order
from .ledger import ledger_cte, local_day, missing_parts, reporting_currency

TOP_N = 10


@dataclass(frozen=True)
class CostRow:
    """A group's cost of closes (complete ledgers only) and how many closes it holds."""

    key: str
    label: str
    cost: Decimal
    closes: int
    incomplete: int


@dataclass
class CostOfCloses:
    currency: str
    total: Decimal
    closes: int
    incomplete: int
    by_reason: list[CostRow]
    by_supplier: list[CostRow]
    by_sku: list[CostRow]
    by_country: list[CostRow]
    over_time: list[tuple[date, Decimal]]
    # supplier → (closes it refused a refund for, their cost): the recommendations' weight.
    supplier_refusals: dict[str, tuple[int, Decimal]] = field(default_factory=dict)
    supplier_costs: dict[str, Decimal] = field(default_factory=dict)


def _add(groups: dict, key: str, label: str, cost: Decimal | None) -> None:
    entry = groups.setdefault(key, [label, Decimal("0"), 0, 0])
    entry[2] += 1
    if cost is None:
        entry[3] += 1
    else:
        entry[1] += cost


def _rows(groups: dict, *, top: int | None = None) -> list[CostRow]:
    rows = [CostRow(key, label, money(cost), n, bad) for key, (label, cost, n, bad) in groups.items()]
    rows.sort(key=lambda r: (-r.cost, -r.closes, r.key))
    return rows[:top] if top else rows


def cost_of_closes(orders: QuerySet[Order], start: date, end: date, *, bucket: str = "day") -> CostOfCloses:
    """The cost of the closes of ``orders`` (closed in ``start``..``end``), in the reporting currency.

    One query. Groups are sorted by cost, largest first; suppliers, SKUs and countries are cut to
    the top ten. ``over_time`` has one point per day (or per week starting Monday) of the period.
    """
    cte, params = ledger_cte(orders)
    closed_day, day_params = local_day("o.closed_at")
    sql = f"""{cte}
    SELECT o.close_reason, COALESCE(so.supplier, ''), sku.code, sku.title, o.buyer_country, {closed_day},
           per.cost, COALESCE(per.unrated, 0), COALESCE(so.n, 0), COALESCE(so.n_amount, 0),
           (o.shipped_at IS NOT NULL OR o.close_stage = 'shipped'),
           COALESCE(rf.pending_buyer, 0), COALESCE(rf.pending_supplier, 0), COALESCE(rf.refused, 0)
    FROM o JOIN orders_sku sku ON sku.id = o.sku_id
    LEFT JOIN per ON per.order_id = o.id
    LEFT JOIN so ON so.order_id = o.id
    LEFT JOIN rf ON rf.order_id = o.id
    """  # noqa: S608
    reasons = dict(CloseReason.choices)
    by_reason: dict = {r.value: [str(r.label), Decimal("0"), 0, 0] for r in CloseReason}
    by_supplier: dict = {}
    by_sku: dict = {}
    by_country: dict = {}
    per_day: dict[date, Decimal] = {}
    refusals: dict[str, list] = {}
    total, closes, incomplete = Decimal("0"), 0, 0
    with connection.cursor() as cursor:
        cursor.execute(sql, [*params, *day_params])
        for (
            reason,
            supplier,
            sku,
            title,
            country,
            day,
            cost,
            unrated,
            n_supplier,
            n_amount,
            shipped,
            pending_buyer,
            pending_supplier,
            refused,
        ) in cursor.fetchall():
            complete = not unrated and not missing_parts(
                n_supplier, n_amount, shipped, pending_buyer, pending_supplier
            )
            value = (Decimal(str(cost)) if cost is not None else Decimal("0")) if complete else None
            closes += 1
            if value is None:
                incomplete += 1
            else:
                total += value
                day = day if isinstance(day, date) else date.fromisoformat(str(day))
                if bucket == "week":
                    day -= timedelta(days=day.weekday())
                per_day[day] = per_day.get(day, Decimal("0")) + value
            _add(by_reason, reason, str(reasons.get(reason, reason)), value)
            if supplier or n_supplier:
                _add(by_supplier, supplier, supplier or _("(no supplier name)"), value)
            _add(by_sku, sku, title or sku, value)
            _add(by_country, country, country or "—", value)
            if refused and supplier:
                entry = refusals.setdefault(supplier, [0, Decimal("0")])
                entry[0] += 1
                entry[1] += value or 0
    first = start if bucket == "day" else start - timedelta(days=start.weekday())
    step = timedelta(days=1 if bucket == "day" else 7)
    over_time = []
    cursor_day = first
    while cursor_day <= end:
        over_time.append((cursor_day, money(per_day.get(cursor_day, Decimal("0")))))
        cursor_day += step
    return CostOfCloses(
        currency=reporting_currency(),
        total=money(total),
        closes=closes,
        incomplete=incomplete,
        by_reason=_rows(by_reason),
        by_supplier=_rows(by_supplier, top=TOP_N),
        by_sku=_rows(by_sku, top=TOP_N),
        by_country=_rows(by_country, top=TOP_N),
        over_time=over_time,
        supplier_refusals={name: (n, money(cost)) for name, (n, cost) in refusals.items()},
        supplier_costs={key: money(cost) for key, (_label, cost, _n, _bad) in by_supplier.items()},
    )
