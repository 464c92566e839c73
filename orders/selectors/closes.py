"""The grouped reads of a view's closes that the counts and the cost of closes share.

The analytics page counts its closes by reason, stage, day, SKU, supplier and outcome
(``orders.selectors.analytics``) and sums their cost by reason, day, SKU, country and supplier
(``orders.selectors.costs``). Both read the kept ledger entries of the view (``OrderLedger``),
and most of their groupings are the same: five groupings, each returning every count and sum
it needs, serve both. On PostgreSQL the five are one query (``GROUPING SETS``): the view's kept
rows are scanned once, each row added to five hash tables; elsewhere they are five grouped
queries. A scan of a year of closes costs the same whether it counts or sums, and joins no
purchase. Reads only.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from operator import itemgetter
from typing import Any

from django.core.exceptions import EmptyResultSet
from django.db import connections
from django.db.models import Count, QuerySet, Sum

from ..models import OrderLedger, Sku
from .ledger_sql import as_date

# (closes, closes with a complete ledger, their cost)
Tally = tuple[int, int, Decimal]


def _tally(n: int, complete: int, cost: Decimal | None) -> Tally:
    return n, complete, cost if cost is not None else Decimal("0")


def summed(rows: dict[Any, Tally], key) -> dict[Any, Tally]:
    """``rows`` regrouped by ``key(group)``, their tallies added."""
    found: dict[Any, list] = {}
    for group, (n, complete, cost) in rows.items():
        k = key(group)
        tally = found.get(k)
        if tally is None:
            found[k] = [n, complete, cost]
        else:
            tally[0] += n
            tally[1] += complete
            tally[2] += cost
    return {k: (n, complete, cost) for k, (n, complete, cost) in found.items()}


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


# The five groupings (the fields of ``OrderLedger`` each groups by), in GroupedCloses' order.
GROUPINGS = (
    ("close_reason", "close_stage", "buyer_country", "dispute_with", "outcome"),
    ("closed_day",),
    ("sku", "close_reason"),
    ("supplier", "has_supplier", "refused"),
    # Apart from the others: grouped together, PostgreSQL expects as many groups as closes and sorts.
    ("supplier_names", "close_reason"),
)


def _grouped(entries: QuerySet[OrderLedger], *keys: Any) -> list[tuple]:
    return list(
        entries.order_by()
        .values_list(*keys)
        .annotate(n=Count("pk"), complete=Count("cost_of_close"), cost=Sum("cost_of_close"))
    )


def five_reads(entries: QuerySet[OrderLedger]) -> list[list[tuple]]:
    """Each grouping's rows, ``(*keys, closes, complete, cost)``: one grouped query each."""
    return [_grouped(entries, *keys) for keys in GROUPINGS]


def one_read(entries: QuerySet[OrderLedger]) -> list[list[tuple]]:
    """The same rows as :func:`five_reads`, from one query (PostgreSQL's ``GROUPING SETS``): the
    view's rows (``entries``, compiled by the ORM: its stores and filters) are read once."""
    fields = sorted({name for keys in GROUPINGS for name in keys})
    inner = entries.order_by().values(*fields, "cost_of_close")
    connection = connections[entries.db]
    try:
        sql, params = inner.query.get_compiler(connection=connection).as_sql()
    except EmptyResultSet:  # no store to read (a user who works for none)
        return [[] for _keys in GROUPINGS]
    q = connection.ops.quote_name
    columns = ", ".join(q(name) for name in fields)
    sets = ", ".join("(" + ", ".join(q(name) for name in keys) + ")" for keys in GROUPINGS)
    cost = q("cost_of_close")
    # Only quoted field names and the ORM's own SQL (its values passed as parameters) go in.
    query = (
        f"SELECT GROUPING({columns}), {columns}, COUNT(*), COUNT({cost}), SUM({cost}) "  # noqa: S608
        f"FROM ({sql}) AS closes GROUP BY GROUPING SETS ({sets})"
    )
    # GROUPING(...) has a bit set, first field highest, for each field a row is not grouped by.
    width = len(fields)
    masks = {
        sum(1 << (width - 1 - i) for i, name in enumerate(fields) if name not in keys): n
        for n, keys in enumerate(GROUPINGS)
    }
    # Each grouping's keys, then the three aggregates: the row as five_reads gives it.
    picks = [itemgetter(*(1 + fields.index(name) for name in keys), -3, -2, -1) for keys in GROUPINGS]
    found: list[list[tuple]] = [[] for _keys in GROUPINGS]
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        for row in cursor.fetchall():
            n = masks[row[0]]
            found[n].append(picks[n](row))
    return found


def _names(value: Any) -> tuple[str, ...]:
    """``supplier_names`` as read: a list (the ORM), or its JSON text (a raw read on PostgreSQL)."""
    return tuple(json.loads(value) if isinstance(value, str) else value)


def group_closes(entries: QuerySet[OrderLedger]) -> GroupedCloses:
    """The five groupings of ``entries`` (already the reader's stores and the view's filters)."""
    reads = one_read if connections[entries.db].vendor == "postgresql" else five_reads
    kinds, days, sku_reasons, suppliers, names = reads(entries)
    by_kind = {
        (reason, stage, country, dispute_with, outcome): _tally(n, c, s)
        for reason, stage, country, dispute_with, outcome, n, c, s in kinds
    }
    by_day = {as_date(d): _tally(n, c, s) for d, n, c, s in days}
    by_sku_reason = {(sku, reason): _tally(n, c, s) for sku, reason, n, c, s in sku_reasons}
    by_supplier = {
        (name, bool(bought), bool(refused)): _tally(n, c, s) for name, bought, refused, n, c, s in suppliers
    }
    by_names = {(_names(listed), reason): _tally(n, c, s) for listed, reason, n, c, s in names}
    skus = {
        pk: (code, title)
        for pk, code, title in Sku.objects.filter(pk__in={sku for sku, _r in by_sku_reason}).values_list(
            "pk", "code", "title"
        )
    }
    return GroupedCloses(by_kind, by_day, by_sku_reason, by_supplier, by_names, skus)
