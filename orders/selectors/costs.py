"""Cost of closes: the kept loss ledger of a view's closes, summed in the reporting currency.

The cost of each close is kept, converted, by the workflow (``orders.models.OrderLedger``);
here the database sums it per reason, supplier, SKU, country and day, in the grouped reads of
those rows that the close counts share (``orders.selectors.closes``). A close whose ledger is
incomplete (a missing rate, supplier order or pending refund) is counted apart and never added
to a total: the page says how many.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from shopops.money import money

from ..models import CloseReason
from .closes import GroupedCloses, group_closes, summed
from .ledger import entries_of
from .ledger_sql import reporting_currency

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


def cost_of_closes(
    rows: QuerySet[Any], start: date, end: date, *, bucket: str = "day", groups: GroupedCloses | None = None
) -> CostOfCloses:
    """The cost of the closes of ``rows`` (closed in ``start``..``end``), in the reporting currency.
    ``rows`` are kept ledger entries (``analytics.closed_ledgers``), or orders (their entries:
    ``ledger.entries_of``), already limited to the reader's stores; ``groups`` their grouped
    reads (``closes.group_closes``) when the caller has them already (the page's counts).

    Summed by the database per reason, supplier, SKU, country and day (the grouped reads of
    ``orders.selectors.closes``: some hundreds of rows come back, whatever the number of
    closes). A close with an incomplete ledger (no supplier order or no amount for it, a refund
    pending, a movement without a rate) is counted, not summed. Groups are sorted by cost,
    largest first; suppliers, SKUs and countries are cut to the top ten. ``over_time`` has one
    point per day (or per week starting Monday) of the period.
    """
    if groups is None:
        groups = group_closes(entries_of(rows))
    reasons = {value: str(label) for value, label in CloseReason.choices}
    no_name = _("(no supplier name)")
    # name → key → (closes, incomplete, cost), as the tables below read them
    found: dict[str, dict] = {
        "reason": summed(groups.by_kind, lambda k: k[0]),
        "country": summed(groups.by_kind, lambda k: k[2]),
        "sku": summed(groups.by_sku_reason, lambda k: k[0]),
        "day": groups.by_day,
        "supplier": summed({k: v for k, v in groups.by_supplier.items() if k[1]}, lambda k: k[0]),
        "refusal": summed({k: v for k, v in groups.by_supplier.items() if k[2] and k[0]}, lambda k: k[0]),
    }
    found = {
        name: {key: (n, n - complete, cost) for key, (n, complete, cost) in table.items()}
        for name, table in found.items()
    }

    def table(name: str, label) -> dict:
        return {key: [label(key), cost, n, bad] for key, (n, bad, cost) in found[name].items()}

    by_reason = {r.value: [str(r.label), Decimal("0"), 0, 0] for r in CloseReason}
    by_reason.update(table("reason", lambda key: reasons.get(key, key)))
    by_supplier = table("supplier", lambda key: key or no_name)
    by_sku = {}
    for key, (n, bad, cost) in found["sku"].items():
        code, title = groups.skus[key]
        by_sku[code] = [title or code, cost, n, bad]
    by_country = table("country", lambda key: key or "—")
    per_day: dict[date, Decimal] = {}
    for day, (_n, _bad, cost) in found["day"].items():
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
