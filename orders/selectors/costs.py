"""Cost of closes: the kept loss ledger of a view's closes, summed in the reporting currency.

The cost of each close is kept, converted, by the workflow (``orders.models.OrderLedger``);
here the database sums it per reason, supplier, SKU, country and day in one grouped query on
those rows. A close whose ledger is incomplete (a missing rate, supplier order or pending
refund) is counted apart and never added to a total: the page says how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connection
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shopops.money import money

from ..models import CloseReason, Sku
from .ledger import entries_of
from .ledger_sql import local_day, reporting_currency

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


def _rows(groups: dict, *, top: int | None = None) -> list[CostRow]:
    rows = [CostRow(key, label, money(cost), n, bad) for key, (label, cost, n, bad) in groups.items()]
    rows.sort(key=lambda r: (-r.cost, -r.closes, r.key))
    return rows[:top] if top else rows


def cost_of_closes(rows: QuerySet[Any], start: date, end: date, *, bucket: str = "day") -> CostOfCloses:
    """The cost of the closes of ``rows`` (closed in ``start``..``end``), in the reporting currency.
    ``rows`` are kept ledger entries (``analytics.closed_ledgers``), or orders (their entries:
    ``ledger.entries_of``), already limited to the reader's stores.

    One query, summed by the database per reason, supplier, SKU, country, day and refusing
    supplier (a ``UNION ALL`` of grouped reads of the kept entries: some tens of rows come back,
    whatever the number of closes). A close with an incomplete ledger (no supplier order or no
    amount for it, a refund pending, a movement without a rate) is counted, not summed. Groups
    are sorted by cost, largest first; suppliers, SKUs and countries are cut to the top ten.
    ``over_time`` has one point per day (or per week starting Monday) of the period.
    """
    columns = ("close_reason", "supplier", "has_supplier", "sku_id", "buyer_country", "closed_at", "refused")
    base = entries_of(rows).order_by().values_list(*columns, "cost_of_close")
    try:
        base_sql, base_params = base.query.sql_with_params()
    except EmptyResultSet:  # a reader of no store: nothing to sum, no query to run
        base_sql, base_params = "", []
    closed_day, day_params = local_day("l.closed_at")
    groups = {
        "reason": "reason",
        "supplier": "supplier",
        "sku": "CAST(sku_id AS VARCHAR(20))",
        "country": "country",
        "day": "CAST(day AS VARCHAR(10))",
    }
    grouped = " UNION ALL ".join(
        f"SELECT '{name}', {key}, COUNT(*), COUNT(cost), SUM(cost) FROM fin"  # noqa: S608
        f"{' WHERE has_supplier' if name == 'supplier' else ''} GROUP BY {key}"
        for name, key in groups.items()
    )
    # Only constants and the ORM's own SQL are interpolated; values go as parameters.
    sql = f"""
    WITH l (reason, supplier, has_supplier, sku_id, country, closed_at, refused, cost) AS ({base_sql}),
    fin AS (
        SELECT reason, supplier, has_supplier, sku_id, country, {closed_day} AS day, refused, cost
        FROM l
    )
    {grouped}
    UNION ALL SELECT 'refusal', supplier, COUNT(*), COUNT(cost), SUM(cost) FROM fin
        WHERE refused AND supplier <> '' GROUP BY supplier
    """  # noqa: S608
    reasons = {value: str(label) for value, label in CloseReason.choices}
    no_name = _("(no supplier name)")
    found: dict[str, dict] = {name: {} for name in (*groups, "refusal")}
    sums = []
    if base_sql:
        with connection.cursor() as cursor:
            cursor.execute(sql, [*base_params, *day_params])
            sums = cursor.fetchall()
    for name, key, n, complete, cost in sums:
        found[name][key] = (n, n - complete, Decimal(str(cost)) if cost is not None else Decimal("0"))
    skus = {
        pk: (code, title)
        for pk, code, title in Sku.objects.filter(pk__in=[int(k) for k in found["sku"]]).values_list(
            "pk", "code", "title"
        )
    }

    def table(name: str, label) -> dict:
        return {key: [label(key), cost, n, bad] for key, (n, bad, cost) in found[name].items()}

    by_reason = {r.value: [str(r.label), Decimal("0"), 0, 0] for r in CloseReason}
    by_reason.update(table("reason", lambda key: reasons.get(key, key)))
    by_supplier = table("supplier", lambda key: key or no_name)
    by_sku = {}
    for key, (n, bad, cost) in found["sku"].items():
        code, title = skus[int(key)]
        by_sku[code] = [title or code, cost, n, bad]
    by_country = table("country", lambda key: key or "—")
    per_day: dict[date, Decimal] = {}
    for key, (_n, _bad, cost) in found["day"].items():
        day = date.fromisoformat(str(key)[:10])
        if bucket == "week":
            day -= timedelta(days=day.weekday())
        per_day[day] = per_day.get(day, Decimal("0")) + cost
    closes = sum(n for n, _bad, _c in found["reason"].values())
    incomplete = sum(bad for _n, bad, _c in found["reason"].values())
    total = sum((cost for _n, _bad, cost in found["reason"].values()), Decimal("0"))
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
        supplier_refusals={key: (n, money(cost)) for key, (n, _bad, cost) in found["refusal"].items()},
        supplier_costs={key: money(cost) for key, (_n, _bad, cost) in found["supplier"].items()},
    )
