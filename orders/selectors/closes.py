"""The grouped reads of a view's closes that the counts and the cost of closes share.

The analytics page counts its closes by reason, stage, day, SKU, supplier and outcome
(``orders.selectors.analytics``) and sums their cost by reason, day, SKU, country and supplier
(``orders.selectors.costs``). Both read the kept ledger entries of the view (``OrderLedger``),
and most of their groupings are the same: five grouped queries, each returning every count and
sum its groupings need, serve both. A scan of a year of closes costs the same whether it counts
or sums: the page scans them five times instead of thirteen, and joins no purchase. Reads only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from django.db.models import Count, QuerySet, Sum

from ..models import OrderLedger, Sku
from .ledger_sql import as_date

# (closes, closes with a complete ledger, their cost)
Tally = tuple[int, int, Decimal]


def _tally(n: int, complete: int, cost: Decimal | None) -> Tally:
    return n, complete, cost if cost is not None else Decimal("0")


def add(a: Tally, b: Tally) -> Tally:
    return a[0] + b[0], a[1] + b[1], a[2] + b[2]


def summed(rows: dict[Any, Tally], key) -> dict[Any, Tally]:
    """``rows`` regrouped by ``key(group)``, their tallies added."""
    found: dict[Any, Tally] = {}
    for group, tally in rows.items():
        k = key(group)
        found[k] = add(found.get(k, (0, 0, Decimal("0"))), tally)
    return found


@dataclass(frozen=True)
class GroupedCloses:
    """A view's closes counted and summed five ways; each value a :data:`Tally`."""

    # (reason, stage, country, dispute_with, outcome)
    by_kind: dict[tuple[str, str, str, str, str], Tally]
    # the close day, in the shop's time zone (kept with the row)
    by_day: dict[date, Tally]
    # (sku id, reason)
    by_sku_reason: dict[tuple[int, str], Tally]
    # (first-named supplier of the bought purchases, bought from one, a refund refused)
    by_supplier: dict[tuple[str, bool, bool], Tally]
    # (every supplier the purchases name, reason)
    by_names: dict[tuple[tuple[str, ...], str], Tally]
    # sku id → (code, title), for every SKU above
    skus: dict[int, tuple[str, str]]


def _grouped(entries: QuerySet[OrderLedger], *keys: Any) -> list[tuple]:
    return list(
        entries.order_by()
        .values_list(*keys)
        .annotate(n=Count("pk"), complete=Count("cost_of_close"), cost=Sum("cost_of_close"))
    )


def group_closes(entries: QuerySet[OrderLedger]) -> GroupedCloses:
    """The five grouped reads of ``entries`` (already the reader's stores and the view's filters)."""
    by_kind = {
        (reason, stage, country, dispute_with, outcome): _tally(n, c, s)
        for reason, stage, country, dispute_with, outcome, n, c, s in _grouped(
            entries, "close_reason", "close_stage", "buyer_country", "dispute_with", "outcome"
        )
    }
    by_day = {as_date(d): _tally(n, c, s) for d, n, c, s in _grouped(entries, "closed_day")}
    by_sku_reason = {
        (sku, reason): _tally(n, c, s) for sku, reason, n, c, s in _grouped(entries, "sku", "close_reason")
    }
    by_supplier = {
        (name, bool(bought), bool(refused)): _tally(n, c, s)
        for name, bought, refused, n, c, s in _grouped(entries, "supplier", "has_supplier", "refused")
    }
    # Apart from the above: grouped together, PostgreSQL expects as many groups as closes and sorts.
    by_names = {
        (tuple(names), reason): _tally(n, c, s)
        for names, reason, n, c, s in _grouped(entries, "supplier_names", "close_reason")
    }
    skus = {
        pk: (code, title)
        for pk, code, title in Sku.objects.filter(pk__in={sku for sku, _r in by_sku_reason}).values_list(
            "pk", "code", "title"
        )
    }
    return GroupedCloses(by_kind, by_day, by_sku_reason, by_supplier, by_names, skus)
