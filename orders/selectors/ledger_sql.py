"""The loss ledger's definition, computed from the movements in SQL (docs/loss-ledger.md).

For every closed order, the money that moved, each movement in its own currency and converted to
``SHOPOPS_REPORTING_CURRENCY`` at the ECB rate of the day it happened (the last rate published on
or before that day, at most :data:`MAX_RATE_AGE_DAYS` old: weekends and holidays use the previous
working day's rate; an older or absent rate is *missing*, never 0 or 1):

- ``paid``: received from the buyer (the amount paid, on the day of payment);
- ``refunded``: refunded to the buyer (each refund that succeeded, on its day);
- ``supplier``: paid to the supplier (the amounts of the 1688 purchases bought — a purchase not
  bought yet cost nothing —, CNY, on the day they were placed);
- ``recovered``: recovered from the supplier (each supplier refund that succeeded);
- ``back``: goods back in our stock (the units this order put in stock: a resellable return, or
  a cancelled sale's goods kept, × unit cost, on that day). Units sent back to the supplier are
  not goods back: the supplier's refund of them is "recovered";
- ``lost``: goods lost (shipped units neither in our stock nor sent back × unit cost, on the
  close day).

The unit cost is derived: the purchases' amount ÷ their units (their quantities, else the
order's quantity; the 1688 order is what the goods cost).

**Cost of the close** = (refunded − paid) + (supplier − recovered − back). Goods lost are shown
but not added again: they are the part of the supplier cost that did not come back.

Every conversion is done by the database, in one query: the movements are a ``UNION ALL`` of the
tables they come from, each distinct (currency, day) looks its rate up once through the
(currency, date) unique index, and the movements join those few rates. Days are those of the
shop's time zone (``TIME_ZONE``).

This is the ledger as it is *now*: :func:`computed_entries` gives the values of the kept rows
(``orders.models.OrderLedger``, written by ``orders.workflow.ledger``, which the views read),
and the order page shows one order's movements (:func:`movement_rows`). Reads only.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from shopops.money import money

from ..models import GOODS_BACK_REASONS, Order, PurchaseStatus, Status, SupplierOrder

# A rate older than this (before the day) is not the day's rate: the currency is missing.
# The ECB's longest pause (Easter, Christmas to New Year) is four days.
MAX_RATE_AGE_DAYS = 7

# What the ledger reads of an order (but for the last two, the columns of the order_closed_analytics
# index) and copies into its kept row.
ORDER_COLUMNS = (
    "id",
    "close_reason",
    "currency",
    "total_amount",
    "paid_at",
    "quantity",
    "closed_at",
    "shipped_at",
    "close_stage",
    "buyer_country",
    "sku_id",
    "store_id",
    "close_started_at",
    "outcome",
    "dispute_with",
)
KINDS = ("paid", "refunded", "supplier", "recovered", "back", "lost")
# How each movement counts in the cost of the close (goods lost: shown, already in "supplier").
SIGN = {"paid": -1, "refunded": 1, "supplier": 1, "recovered": -1, "back": -1, "lost": 0}


def reporting_currency() -> str:
    return settings.SHOPOPS_REPORTING_CURRENCY


def local_day(column: str, tzname: str | None = None) -> tuple[str, list]:
    """SQL for the calendar day of a timestamp column in ``tzname`` (default: the current zone)."""
    tzname = tzname or timezone.get_current_timezone_name()
    return connection.ops.datetime_cast_date_sql(column, [], tzname)


def _days_before(column: str, days: int) -> str:
    if connection.vendor == "sqlite":
        return f"date({column}, '-{int(days)} days')"
    return f"({column} - {int(days)})"


def ledger_cte(orders: QuerySet[Order]) -> tuple[str, list]:
    """``WITH`` clauses for ``orders``: ``o`` (the orders), ``so`` (supplier orders), ``bk`` (goods back),
    ``rf`` (refund counts), ``conv`` (every movement with its rates and conversion) and ``per``
    (per order: native and converted sums per kind, movements without a rate, the cost of the
    close, the first and last movement day). Days in the shop's time zone."""
    # The filtered orders themselves (not ``id IN (...)``): on PostgreSQL an index-only scan of
    # order_closed_analytics, which holds these columns, instead of a heap fetch per order.
    fields = [c.removesuffix("_id") for c in ORDER_COLUMNS]
    orders_sql, orders_params = orders.order_by().values_list(*fields).query.sql_with_params()
    tzname = timezone.get_default_timezone_name()
    paid_day, p1 = local_day("o.paid_at", tzname)
    refund_day, p2 = local_day("COALESCE(r.succeeded_at, r.requested_at)", tzname)
    supplier_day, p3 = local_day("so.at", tzname)
    back_day, p4 = local_day("bk.at", tzname)
    lost_day, p5 = local_day("o.closed_at", tzname)
    rep = reporting_currency()
    back_reasons = ", ".join(f"'{reason}'" for reason in GOODS_BACK_REASONS)
    native = "".join(f"SUM(CASE WHEN kind = '{k}' THEN amount ELSE 0 END) AS {k}, " for k in KINDS)
    # A kind's converted sum is unknown when one of its movements has no rate.
    converted = "".join(
        f"CASE WHEN SUM(CASE WHEN kind = '{k}' AND converted IS NULL THEN 1 ELSE 0 END) > 0 THEN NULL "
        f"ELSE SUM(CASE WHEN kind = '{k}' THEN converted ELSE 0 END) END AS c_{k}, "
        for k in KINDS
    )
    # Only constants and this module's own fragments are interpolated; values go as parameters.
    sql = f"""
    WITH o ({", ".join(ORDER_COLUMNS)}) AS ({orders_sql}),
    so AS (
        SELECT s.order_id, SUM(s.amount) AS amount, COUNT(*) AS n, COUNT(s.amount) AS n_amount,
               MIN(s.created_at) AS at, MIN(s.supplier_name) AS supplier,
               CASE WHEN COUNT(s.quantity) = COUNT(*) THEN SUM(s.quantity) ELSE MAX(o.quantity) END
                   AS units,
               SUM(s.returned_quantity) AS sent
        FROM orders_supplierorder s JOIN o ON o.id = s.order_id
        WHERE s.status <> '{PurchaseStatus.NOT_BOUGHT.value}' GROUP BY s.order_id
    ),
    bk AS (
        SELECT m.order_id, SUM(m.delta) AS qty, MAX(m.created_at) AS at
        FROM orders_stockmovement m JOIN o ON o.id = m.order_id
        WHERE m.reason IN ({back_reasons}) GROUP BY m.order_id
    ),
    rf AS (
        SELECT r.order_id,
               SUM(CASE WHEN r.status = 'requested' AND r.direction = 'to_buyer' THEN 1 ELSE 0 END)
                   AS pending_buyer,
               SUM(CASE WHEN r.status = 'requested' AND r.direction = 'from_supplier' THEN 1 ELSE 0 END)
                   AS pending_supplier,
               SUM(CASE WHEN r.status = 'rejected' AND r.direction = 'from_supplier' THEN 1 ELSE 0 END)
                   AS refused
        FROM orders_refund r JOIN o ON o.id = r.order_id GROUP BY r.order_id
    ),
    mv AS (
        SELECT o.id AS order_id, 'paid' AS kind, o.currency AS currency, o.total_amount AS amount,
               {paid_day} AS day
        FROM o WHERE o.paid_at IS NOT NULL
        UNION ALL
        SELECT r.order_id, CASE WHEN r.direction = 'to_buyer' THEN 'refunded' ELSE 'recovered' END,
               r.currency, r.amount, {refund_day}
        FROM orders_refund r JOIN o ON o.id = r.order_id WHERE r.status IN ('succeeded', 'received')
        UNION ALL
        SELECT so.order_id, 'supplier', 'CNY', so.amount, {supplier_day}
        FROM so WHERE so.n_amount = so.n
        UNION ALL
        SELECT o.id, 'back', 'CNY', ROUND(bk.qty * so.amount / so.units, 2), {back_day}
        FROM o JOIN bk ON bk.order_id = o.id JOIN so ON so.order_id = o.id
        WHERE so.n_amount = so.n AND bk.qty > 0
        UNION ALL
        SELECT o.id, 'lost', 'CNY',
               ROUND((so.units - COALESCE(bk.qty, 0) - so.sent) * so.amount / so.units, 2), {lost_day}
        FROM o JOIN so ON so.order_id = o.id LEFT JOIN bk ON bk.order_id = o.id
        WHERE so.n_amount = so.n AND (o.shipped_at IS NOT NULL OR o.close_stage = 'shipped')
              AND so.units > COALESCE(bk.qty, 0) + so.sent
    ),
    rated AS (
        SELECT d.currency, d.day, {_rate_sql("d.currency")} AS cur_rate, {_rate_sql("%s")} AS rep_rate
        FROM (SELECT DISTINCT currency, day FROM mv) d
    ),
    conv AS (
        SELECT mv.order_id, mv.kind, mv.currency, mv.amount, mv.day,
               r.cur_rate, r.rep_rate, r.rep_rate / r.cur_rate AS rate,
               ROUND(mv.amount * r.rep_rate / r.cur_rate, 2) AS converted
        FROM mv LEFT JOIN rated r ON r.currency = mv.currency AND r.day = mv.day
    ),
    per AS (
        SELECT order_id, {native} {converted}
               SUM(CASE WHEN converted IS NULL THEN 1 ELSE 0 END) AS unrated,
               -- (refunded − paid) + (supplier − recovered − back): one signed sum
               COALESCE(SUM(CASE WHEN kind IN ('refunded', 'supplier') THEN converted
                                 WHEN kind IN ('paid', 'recovered', 'back') THEN -converted
                                 ELSE 0 END), 0) AS cost,
               MIN(day) AS first_day, MAX(day) AS last_day
        FROM conv GROUP BY order_id
    )
    """  # noqa: S608
    return sql, [*orders_params, *p1, *p2, *p3, *p4, *p5, rep, rep]


def _rate_sql(currency: str) -> str:
    """The rate of ``currency`` (a column or ``%s``) on ``d.day``: the last within the age limit."""
    return f"""CASE WHEN {currency} = 'EUR' THEN 1 ELSE (
                   SELECT x.rate FROM orders_exchangerate x
                   WHERE x.currency = {currency} AND x.date <= d.day
                         AND x.date > {_days_before("d.day", MAX_RATE_AGE_DAYS)}
                   ORDER BY x.date DESC LIMIT 1
               ) END"""  # noqa: S608


@contextmanager
def ledger_cursor() -> Iterator:
    """A cursor for the ledger's queries. On PostgreSQL, for this transaction only: without JIT
    (the planner's estimate of the rate look-ups crosses ``jit_above_cost`` and compiling the
    query took longer, about 0.5 s, than running it) and with room to hash in memory."""
    with transaction.atomic(), connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SET LOCAL jit = off")
            # A quarter's movements hashed per order and per day fit in memory, not on disk.
            cursor.execute("SET LOCAL work_mem = '64MB'")
        yield cursor


def as_date(value: object) -> date | None:
    if value is None:
        return None
    return value if isinstance(value, date) else date.fromisoformat(str(value)[:10])


def _instant(value: object) -> datetime | None:
    """A timestamp read by raw SQL as the ORM gives it (SQLite: naive UTC, or its text)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if isinstance(value, datetime) and timezone.is_naive(value):
        value = value.replace(tzinfo=UTC)
    return value


def _dec(value: object) -> Decimal | None:
    return None if value is None else money(value)


_ENTRY_SQL = """
    SELECT o.id, o.store_id, ord.platform_order_id, o.close_reason, o.currency, o.closed_at, {closed_day},
           o.sku_id, o.buyer_country, COALESCE(so.supplier, ''), COALESCE(rf.refused, 0),
           o.close_stage, o.close_started_at, o.outcome, o.dispute_with,
           per.paid, per.refunded, per.supplier, per.recovered, per.back, per.lost,
           per.c_paid, per.c_refunded, per.c_supplier, per.c_recovered, per.c_back, per.c_lost,
           COALESCE(per.unrated, 0), per.cost, per.first_day, per.last_day,
           COALESCE(so.n, 0), COALESCE(so.n_amount, 0),
           (o.shipped_at IS NOT NULL OR o.close_stage = 'shipped') AS shipped,
           COALESCE(rf.pending_buyer, 0), COALESCE(rf.pending_supplier, 0)
    FROM o JOIN orders_order ord ON ord.id = o.id
    LEFT JOIN per ON per.order_id = o.id
    LEFT JOIN so ON so.order_id = o.id
    LEFT JOIN rf ON rf.order_id = o.id
"""


def computed_entries(orders: QuerySet[Order]) -> dict[int, dict[str, Any]]:
    """The ledger of each closed order of ``orders`` as it is now: order id → the field values
    of its ``OrderLedger`` row (attnames; ``updated_at`` aside). One query for the per-order sums
    (conversion and cost in SQL), and one more when a movement has no rate (to name the rates
    missing)."""
    cte, params = ledger_cte(orders.filter(status=Status.CLOSED))
    closed_day, day_params = local_day("o.closed_at", timezone.get_default_timezone_name())
    zero = Decimal("0.00")
    rep = reporting_currency()
    entries: dict[int, dict[str, Any]] = {}
    unrated_ids: list[int] = []
    with ledger_cursor() as cursor:
        cursor.execute(cte + _ENTRY_SQL.format(closed_day=closed_day), [*params, *day_params])
        for row in cursor.fetchall():
            (pk, store_id, platform_id, reason, currency, closed_at, day) = row[:7]
            sku_id, country, supplier, refused, stage, started_at, outcome, dispute_with = row[7:15]
            paid, refunded, supplier_cost, recovered, back, lost = row[15:21]
            converted = [_dec(value) for value in row[21:27]]
            unrated, cost, first_day, last_day, n_supplier, n_amount, shipped = row[27:34]
            pending_buyer, pending_supplier = row[34:36]
            no_supplier_order = n_supplier == 0 and bool(shipped)
            no_unit_cost = not no_supplier_order and n_amount < n_supplier
            unit_cost_known = n_supplier > 0 and n_amount == n_supplier
            incomplete = bool(
                no_supplier_order or no_unit_cost or pending_buyer or pending_supplier or unrated
            )
            entries[pk] = {
                "order_id": pk,
                "store_id": store_id,
                "platform_order_id": platform_id,
                "closed_at": _instant(closed_at),
                "closed_day": as_date(day),
                "close_reason": reason,
                "close_stage": stage,
                "close_started_at": _instant(started_at),
                "outcome": outcome,
                "dispute_with": dispute_with,
                "sku_id": sku_id,
                "buyer_country": country,
                "supplier": supplier,
                "supplier_names": [],
                "has_supplier": n_supplier > 0,
                "refused": bool(refused),
                "currency": currency,
                "reporting_currency": rep,
                "paid": _dec(paid) or zero,
                "refunded_to_buyer": _dec(refunded) or zero,
                "supplier_cost_cny": _dec(supplier_cost)
                if unit_cost_known
                else (zero if n_supplier == 0 and not shipped else None),
                "recovered_from_supplier_cny": _dec(recovered) or zero,
                "goods_back_cny": (_dec(back) or zero) if unit_cost_known or not shipped else None,
                "goods_lost_cny": (_dec(lost) or zero) if unit_cost_known or not shipped else None,
                **{f"converted_{kind}": value for kind, value in zip(KINDS, converted, strict=True)},
                "cost_of_close": None if incomplete else (_dec(cost) if cost is not None else zero),
                "incomplete": incomplete,
                "no_supplier_order": no_supplier_order,
                "no_unit_cost": no_unit_cost,
                "buyer_refund_pending": bool(pending_buyer),
                "supplier_refund_pending": bool(pending_supplier),
                "missing_rates": [],
                "first_day": as_date(first_day),
                "last_day": as_date(last_day),
            }
            if unrated:
                unrated_ids.append(pk)
        # Every supplier its purchases name (bought or not): what the counts per supplier read.
        names: dict[int, set[str]] = {}
        for pk, name in SupplierOrder.objects.filter(order_id__in=list(entries)).values_list(
            "order_id", "supplier_name"
        ):
            names.setdefault(pk, set()).add(name)
        for pk, found in names.items():
            entries[pk]["supplier_names"] = sorted(found)
        if unrated_ids:
            # The movements without a rate, of the orders that have one: to name the rates.
            cte, params = ledger_cte(Order.objects.filter(pk__in=unrated_ids))
            cursor.execute(
                f"{cte} SELECT order_id, kind, currency, day, cur_rate FROM conv WHERE converted IS NULL",  # noqa: S608
                params,
            )
            for pk, _kind, currency, day, cur_rate in sorted(
                cursor.fetchall(), key=lambda r: (r[0], str(r[3]), KINDS.index(r[1]))
            ):
                # The rate that is missing: the movement's currency's, else the reporting one's.
                missing = [currency if cur_rate is None else rep, as_date(day).isoformat()]
                if pk in entries and missing not in entries[pk]["missing_rates"]:
                    entries[pk]["missing_rates"].append(missing)
    return entries


def movement_rows(order: Order) -> list[tuple]:
    """Every movement of one closed order: (kind, currency, amount, day, rate, converted),
    ordered by day then kind; ``rate`` is reporting-currency units per 1 ``currency``."""
    cte, params = ledger_cte(Order.objects.filter(pk=order.pk, status=Status.CLOSED))
    with ledger_cursor() as cursor:
        cursor.execute(f"{cte} SELECT kind, currency, amount, day, rate, converted FROM conv", params)  # noqa: S608
        found = cursor.fetchall()
    return sorted(found, key=lambda r: (str(r[3]), KINDS.index(r[0])))
