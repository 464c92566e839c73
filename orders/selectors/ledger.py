"""The loss ledger: what each close cost the shop, in the reporting currency (docs/loss-ledger.md).

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
(currency, date) unique index, and the movements join those few rates. Reads only.

The ledger reads the orders it is given: :func:`closed_between` (the command) and
``analytics.closed_orders`` (the page) give only the orders of the reader's stores.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops.money import money

from .. import policy
from ..models import GOODS_BACK_REASONS, Order, PurchaseStatus, Status, Store
from .analytics import period_bounds

# A rate older than this (before the day) is not the day's rate: the currency is missing.
# The ECB's longest pause (Easter, Christmas to New Year) is four days.
MAX_RATE_AGE_DAYS = 7

# What the ledger reads of an order (the columns of the order_closed_analytics index).
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
)
KINDS = ("paid", "refunded", "supplier", "recovered", "back", "lost")
# How each movement counts in the cost of the close (goods lost: shown, already in "supplier").
SIGN = {"paid": -1, "refunded": 1, "supplier": 1, "recovered": -1, "back": -1, "lost": 0}

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


def kind_labels() -> dict[str, str]:
    return {
        "paid": _("Received from the buyer"),
        "refunded": _("Refunded to the buyer"),
        "supplier": _("Paid to the supplier"),
        "recovered": _("Recovered from the supplier"),
        "back": _("Goods back on the shelf"),
        "lost": _("Goods lost"),
    }


def reporting_currency() -> str:
    return settings.SHOPOPS_REPORTING_CURRENCY


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
class OrderLedger:
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


def local_day(column: str) -> tuple[str, list]:
    """SQL for the calendar day of a timestamp column in the current time zone."""
    tzname = timezone.get_current_timezone_name()
    return connection.ops.datetime_cast_date_sql(column, [], tzname)


def _days_before(column: str, days: int) -> str:
    if connection.vendor == "sqlite":
        return f"date({column}, '-{int(days)} days')"
    return f"({column} - {int(days)})"


def ledger_cte(orders: QuerySet[Order], *, totals_only: bool = False) -> tuple[str, list]:
    """``WITH`` clauses for ``orders``: ``o`` (the orders), ``so`` (supplier orders), ``bk`` (goods back),
    ``rf`` (refund counts), ``conv`` (every movement with its rates and conversion) and ``per``
    (per order: native sums per kind, movements without a rate, and the cost of the close)."""
    # The filtered orders themselves (not ``id IN (...)``): on PostgreSQL an index-only scan of
    # order_closed_analytics, which holds these columns, instead of a heap fetch per order.
    fields = [c.removesuffix("_id") for c in ORDER_COLUMNS]
    orders_sql, orders_params = orders.order_by().values_list(*fields).query.sql_with_params()
    paid_day, p1 = local_day("o.paid_at")
    refund_day, p2 = local_day("COALESCE(r.succeeded_at, r.requested_at)")
    supplier_day, p3 = local_day("so.at")
    back_day, p4 = local_day("bk.at")
    lost_day, p5 = local_day("o.closed_at")
    rep = reporting_currency()
    back_reasons = ", ".join(f"'{reason}'" for reason in GOODS_BACK_REASONS)
    # Totals need neither goods lost (they do not count) nor the sums in each currency.
    native = "".join(f"SUM(CASE WHEN kind = '{k}' THEN amount ELSE 0 END) AS {k}, " for k in KINDS)
    lost = f"""UNION ALL
        SELECT o.id, 'lost', 'CNY',
               ROUND((so.units - COALESCE(bk.qty, 0) - so.sent) * so.amount / so.units, 2), {lost_day}
        FROM o JOIN so ON so.order_id = o.id LEFT JOIN bk ON bk.order_id = o.id
        WHERE so.n_amount = so.n AND (o.shipped_at IS NOT NULL OR o.close_stage = 'shipped')
              AND so.units > COALESCE(bk.qty, 0) + so.sent"""  # noqa: S608
    if totals_only:
        native, lost, p5 = "", "", []
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
        {lost}
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
        SELECT order_id, {native}
               SUM(CASE WHEN converted IS NULL THEN 1 ELSE 0 END) AS unrated,
               -- (refunded − paid) + (supplier − recovered − back): one signed sum
               COALESCE(SUM(CASE WHEN kind IN ('refunded', 'supplier') THEN converted
                                 WHEN kind IN ('paid', 'recovered', 'back') THEN -converted
                                 ELSE 0 END), 0) AS cost
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


def _as_date(value: object) -> date:
    return value if isinstance(value, date) else date.fromisoformat(str(value))


def _dec(value: object) -> Decimal | None:
    return None if value is None else money(value)


def missing_parts(
    n_supplier: int, n_amount: int, shipped: bool, pending_buyer: int, pending_supplier: int
) -> list[str]:
    """What an order's ledger lacks, other than rates (named from the movements)."""
    missing = []
    if n_supplier == 0 and shipped:
        missing.append(_("supplier order"))
    elif n_amount < n_supplier:
        missing.append(_("supplier order amount (unit cost)"))
    if pending_buyer:
        missing.append(_("refund to the buyer not yet paid"))
    if pending_supplier:
        missing.append(_("supplier refund not yet received"))
    return missing


def ledger(orders: QuerySet[Order], *, with_movements: bool = False) -> list[OrderLedger]:
    """The ledger of each order of ``orders`` (closed ones), ordered by close time. ``orders`` is
    already limited to the reader's stores (:func:`closed_between`, ``analytics.closed_orders``).

    Two queries: the per-order sums (conversion and cost in SQL), and the movements whose rate is
    missing (to name them) or, with ``with_movements``, every movement.
    """
    orders = orders.filter(status=Status.CLOSED)
    cte, params = ledger_cte(orders)
    sql = f"""{cte}
    SELECT o.id, ord.platform_order_id, o.close_reason, o.currency, o.closed_at,
           COALESCE(so.supplier, ''), sku.code, o.buyer_country,
           per.paid, per.refunded, per.supplier, per.recovered, per.back, per.lost,
           COALESCE(per.unrated, 0), per.cost, COALESCE(so.n, 0), COALESCE(so.n_amount, 0),
           (o.shipped_at IS NOT NULL OR o.close_stage = 'shipped') AS shipped,
           COALESCE(rf.pending_buyer, 0), COALESCE(rf.pending_supplier, 0)
    FROM o JOIN orders_sku sku ON sku.id = o.sku_id
    JOIN orders_order ord ON ord.id = o.id
    LEFT JOIN per ON per.order_id = o.id
    LEFT JOIN so ON so.order_id = o.id
    LEFT JOIN rf ON rf.order_id = o.id
    ORDER BY o.closed_at, o.id
    """  # noqa: S608
    zero = Decimal("0.00")
    rows: dict[int, OrderLedger] = {}
    with ledger_cursor() as cursor:
        cursor.execute(sql, params)
        for (
            pk,
            platform_id,
            reason,
            currency,
            closed_at,
            supplier,
            sku,
            country,
            paid,
            refunded,
            supplier_cost,
            recovered,
            back,
            lost,
            unrated,
            cost,
            n_supplier,
            n_amount,
            shipped,
            pending_buyer,
            pending_supplier,
        ) in cursor.fetchall():
            missing = missing_parts(n_supplier, n_amount, shipped, pending_buyer, pending_supplier)
            unit_cost_known = n_supplier > 0 and n_amount == n_supplier
            if unrated:
                missing.append("")  # placeholder: named from the unrated movements below
            rows[pk] = OrderLedger(
                order_id=pk,
                platform_order_id=platform_id,
                close_reason=reason,
                currency=currency,
                closed_at=closed_at,
                supplier=supplier,
                sku=sku,
                country=country,
                paid=_dec(paid) or zero,
                refunded_to_buyer=_dec(refunded) or zero,
                supplier_cost_cny=_dec(supplier_cost)
                if unit_cost_known
                else (zero if n_supplier == 0 and not shipped else None),
                recovered_from_supplier_cny=_dec(recovered) or zero,
                goods_back_cny=(_dec(back) or zero) if unit_cost_known or not shipped else None,
                goods_lost_cny=(_dec(lost) or zero) if unit_cost_known or not shipped else None,
                cost_of_close=_dec(cost) if cost is not None else zero,
                missing=missing,
            )
        where = "" if with_movements else "WHERE converted IS NULL"
        columns = "order_id, kind, currency, amount, day, rate, converted, cur_rate"
        query = f"{cte} SELECT {columns} FROM conv {where}"  # noqa: S608
        cursor.execute(query, params)
        labels = kind_labels()
        for pk, kind, currency, amount, day, rate, converted, cur_rate in sorted(
            cursor.fetchall(), key=lambda r: (r[0], str(r[4]), KINDS.index(r[1]))
        ):
            entry = rows.get(pk)
            if entry is None:
                continue
            day = _as_date(day)
            entry.movements.append(
                Movement(
                    kind=kind,
                    label=labels[kind],
                    day=day,
                    currency=currency,
                    amount=money(amount),
                    rate=None if rate is None else Decimal(str(rate)).quantize(Decimal("0.000001")),
                    converted=_dec(converted),
                )
            )
            if converted is None:
                name = _("rate %(currency)s on %(day)s") % {
                    "currency": currency if cur_rate is None else reporting_currency(),
                    "day": day.isoformat(),
                }
                if name not in entry.missing:
                    entry.missing.append(name)
    for entry in rows.values():
        entry.missing = [m for m in entry.missing if m]
        if entry.missing:
            entry.cost_of_close = None
    return list(rows.values())


def closed_between(
    since: date | None, until: date | None, *, user: Any, store: Store | None = None
) -> QuerySet[Order]:
    """Orders of ``user``'s stores (``None``: the system, every store), or of one ``store`` among
    them, closed on the days ``since``..``until`` (current time zone; either end open)."""
    qs = policy.scope(user, Order.objects.all()).filter(status=Status.CLOSED)
    if store is not None:
        qs = qs.filter(store=store)
    if since:
        qs = qs.filter(closed_at__gte=period_bounds(since, since)[0])
    if until:
        qs = qs.filter(closed_at__lt=period_bounds(until, until)[1])
    return qs


def order_ledger(order: Order) -> OrderLedger | None:
    """One closed order's ledger with every movement; ``None`` for an order not closed."""
    found = ledger(Order.objects.filter(pk=order.pk), with_movements=True)
    return found[0] if found else None
