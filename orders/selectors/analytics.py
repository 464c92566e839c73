"""Close analytics: one filtered set of closes and a fixed, small number of aggregates.

The closes are read from the kept loss ledger (``OrderLedger``, one row per closed order, kept
by ``orders.workflow.ledger``): the counts and the cost of closes come from the same rows.
The analytics page (``orders.admin.analytics``), its CSV exports and the recommended actions
(``orders.selectors.recommendations``) read these; the SKU list's repeated out-of-stock report
counts with :func:`with_out_of_stock_closes`. Reads only.

Every read takes the ``user`` it is for and counts only the orders of that user's stores
(``orders.policy``; ``None`` is the system, every store); ``store`` narrows a view to one of them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db import connection
from django.db.models import (
    Aggregate,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Q,
    QuerySet,
)
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .. import policy
from ..models import (
    CloseReason,
    CloseStage,
    DisputeWith,
    Order,
    OrderLedger,
    Outcome,
    Sku,
    Status,
    Store,
    SupplierOrder,
)
from .closes import GroupedCloses, group_closes, summed

# --- close analytics ----------------------------------------------------------------------------
# One filtered set of closes (period, supplier, SKU, country) and a fixed, small number of
# aggregate queries over it: every figure is computed by the database, served by the kept
# ledger's covering (closed_at) and (store, closed_at) indexes, so the page costs the same on
# 1,000 or 1,000,000 orders.

TOP_N = 10
DISPUTE_OUTCOMES = [Outcome.WON, Outcome.PARTIAL, Outcome.LOST]

# The flow an order went through, named by the stage it had reached when its close began.
FLOW_BY_STAGE = {
    CloseStage.UNPAID: "unpaid",
    CloseStage.PAID: "cancellation",
    CloseStage.SHIPPED: "return",
}


@dataclass(frozen=True)
class Row:
    """One line of an analytics table: a group key, its label, a count and its share of closes."""

    key: str
    label: str
    count: int
    share: Decimal  # percent of all closes in the view, one decimal place


@dataclass(frozen=True)
class MedianRow:
    """Median time from the first close step to closed for one flow."""

    flow: str
    label: str
    count: int
    median: timedelta | None

    @property
    def median_hours(self) -> Decimal | None:
        if self.median is None:
            return None
        return (Decimal(self.median.total_seconds()) / 3600).quantize(Decimal("0.1"))


@dataclass(frozen=True)
class CloseAnalytics:
    """Everything the analytics page shows for one view (period and filters)."""

    start: date
    end: date
    supplier: str | None
    sku: str | None
    country: str | None
    bucket: str
    total: int
    by_reason: list[Row]
    by_stage: list[Row]
    over_time: list[tuple[date, int]]
    by_supplier: list[Row]
    by_sku: list[Row]
    medians: list[MedianRow]
    # (SKU code, close reason) → closes, for every pair with at least two closes: the basis of the
    # listing / stock recommendations and of the repeated out-of-stock report.
    sku_reason_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    # supplier → (closes, quality_issue closes), for suppliers with at least one quality_issue.
    supplier_quality: dict[str, tuple[int, int]] = field(default_factory=dict)
    # The one store the view is narrowed to (``None``: every store of the user).
    store: Store | None = None
    # Disputes closed in the view: (whose dispute, outcome, closes). A buyer's dispute is decided
    # on AliExpress in the sale's currency, a supplier's on 1688 in CNY.
    disputes: list[tuple[str, str, int]] = field(default_factory=list)

    def reason_count(self, reason: str) -> int:
        return next((row.count for row in self.by_reason if row.key == reason), 0)

    def repeated(self, reason: str, at_least: int) -> list[tuple[str, int]]:
        """SKUs with at least ``at_least`` closes for ``reason``, most first."""
        found = [
            (code, n) for (code, r), n in self.sku_reason_counts.items() if r == reason and n >= at_least
        ]
        return sorted(found, key=lambda item: (-item[1], item[0]))


def share_percent(count: int, total: int) -> Decimal:
    if not total:
        return Decimal("0.0")
    return (Decimal(count) * 100 / Decimal(total)).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def period_bounds(start: date, end: date) -> tuple[datetime, datetime]:
    """The instants that bound the calendar days ``start``..``end`` (inclusive) in the current zone."""
    tz = timezone.get_current_timezone()
    begin = datetime.combine(start, time.min, tzinfo=tz)
    finish = datetime.combine(end + timedelta(days=1), time.min, tzinfo=tz)
    return begin, finish


def closed_orders(
    start: date,
    end: date,
    *,
    user: Any,
    store: Store | None = None,
    supplier: str | None = None,
    sku: str | None = None,
    country: str | None = None,
) -> QuerySet[Order]:
    """Orders of ``user``'s stores closed on the days ``start``..``end`` (current time zone),
    narrowed by the filters.

    ``user`` is who reads (``None``: the system, every store); ``store`` one store among theirs
    (one they do not work for gives nothing). ``supplier`` is a 1688 supplier name (any of the
    order's purchases), ``sku`` a SKU code, ``country`` the buyer's ISO country code. The
    supplier filter is an ``EXISTS`` so an order bought from two suppliers is still counted once.
    """
    qs = Order.objects.filter(status=Status.CLOSED)
    return _narrowed(qs, "pk", start, end, user, store, supplier, sku, country)


def closed_ledgers(
    start: date,
    end: date,
    *,
    user: Any,
    store: Store | None = None,
    supplier: str | None = None,
    sku: str | None = None,
    country: str | None = None,
) -> QuerySet[OrderLedger]:
    """The kept ledger entries (``OrderLedger``) of the closes :func:`closed_orders` gives for
    the same period and filters: what the cost of closes and the ledger CSV read."""
    return _narrowed(OrderLedger.objects.all(), "order_id", start, end, user, store, supplier, sku, country)


def _narrowed(
    qs: QuerySet,
    order_key: str,
    start: date,
    end: date,
    user: Any,
    store: Store | None,
    supplier: str | None,
    sku: str | None,
    country: str | None,
) -> QuerySet:
    """``qs`` (orders, or ledger entries: both have these fields) of ``user``'s stores, closed
    on the days ``start``..``end``, narrowed by the filters."""
    begin, finish = period_bounds(start, end)
    qs = policy.scope(user, qs).filter(closed_at__gte=begin, closed_at__lt=finish)
    if store is not None:
        qs = qs.filter(store=store)
    if supplier:
        bought = SupplierOrder.objects.filter(order_id=OuterRef(order_key), supplier_name=supplier)
        qs = qs.filter(Exists(bought))
    if sku:
        qs = qs.filter(sku__code=sku)
    if country:
        qs = qs.filter(buyer_country=country.upper())
    return qs


class _Median(Aggregate):
    """PostgreSQL's ``percentile_cont(0.5)``: the median, interpolated like a statistician's."""

    function = "percentile_cont"
    name = "Median"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY %(expressions)s)"
    output_field = DurationField()


def _close_duration():
    return ExpressionWrapper(F("closed_at") - F("close_started_at"), output_field=DurationField())


def _medians(qs: QuerySet[OrderLedger], stage_counts: dict[str, int]) -> list[MedianRow]:
    """Median close time per flow: one query on PostgreSQL, the middle row(s) elsewhere."""
    timed = qs.filter(close_started_at__isnull=False).exclude(close_stage="")
    medians: dict[str, tuple[int, timedelta | None]] = {}
    if connection.vendor == "postgresql":
        # One aggregate per stage over the rows read once: each stage's durations are sorted
        # apart, and the rows are not sorted by stage first (as a GROUP BY stage would).
        found = timed.aggregate(
            **{
                name: aggregate
                for stage in CloseStage
                for name, aggregate in (
                    (f"n_{stage.value}", Count("pk", filter=Q(close_stage=stage.value))),
                    (f"median_{stage.value}", _Median(_close_duration(), filter=Q(close_stage=stage.value))),
                )
            }
        )
        for stage in CloseStage:
            medians[stage.value] = (found[f"n_{stage.value}"], found[f"median_{stage.value}"])
    else:
        # Portable fallback: order the durations in SQL and read the one or two middle values.
        counts = dict(timed.values_list("close_stage").annotate(n=Count("pk")).order_by())
        for stage, n in counts.items():
            middle = list(
                timed.filter(close_stage=stage)
                .annotate(duration=_close_duration())
                .order_by("duration")
                .values_list("duration", flat=True)[(n - 1) // 2 : n // 2 + 1]
            )
            medians[stage] = (n, sum(middle, timedelta()) / len(middle) if middle else None)
    rows = []
    for stage in CloseStage:
        n, median = medians.get(stage.value, (0, None))
        rows.append(
            MedianRow(flow=FLOW_BY_STAGE[stage], label=str(FLOW_LABELS[stage]), count=n, median=median)
        )
    return rows


FLOW_LABELS = {
    CloseStage.UNPAID: _("Unpaid order closed"),
    CloseStage.PAID: _("Cancellation after payment"),
    CloseStage.SHIPPED: _("Return after shipping"),
}


def close_analytics(
    start: date,
    end: date,
    *,
    user: Any,
    store: Store | None = None,
    supplier: str | None = None,
    sku: str | None = None,
    country: str | None = None,
    bucket: str = "day",
    groups: GroupedCloses | None = None,
) -> CloseAnalytics:
    """Close analytics of ``user``'s stores (or one ``store`` of theirs) for the days
    ``start``..``end`` and the optional filters (those of :func:`closed_orders`).

    Counts are of closed orders, read from their kept ledger entries (``OrderLedger``: one row
    per close, written by the workflow, which the cost of closes reads too); shares are
    percentages of all closes in the view (what the closes cost, in one currency, is
    ``orders.selectors.costs``). The median runs from the first close step
    (``close_started_at``) to ``closed_at``, per flow. ``bucket`` is ``day`` or ``week`` (weeks
    start on Monday), in the current time zone. ``groups``: the view's grouped reads
    (``closes.group_closes`` of :func:`closed_ledgers`), when the caller has them already (the
    page shares them with the cost of closes). Reads only; about eight queries.
    """
    if bucket not in ("day", "week"):
        raise ValueError(f"bucket must be 'day' or 'week', not {bucket!r}")
    qs = closed_ledgers(start, end, user=user, store=store, supplier=supplier, sku=sku, country=country)
    if groups is None:
        groups = group_closes(qs)

    reason_counts = {r: n for r, (n, _c, _s) in summed(groups.by_kind, lambda k: k[0]).items()}
    stage_counts = {st: n for st, (n, _c, _s) in summed(groups.by_kind, lambda k: k[1]).items()}
    total = sum(reason_counts.values())
    by_reason = [
        Row(
            reason.value,
            str(reason.label),
            reason_counts.get(reason.value, 0),
            share_percent(reason_counts.get(reason.value, 0), total),
        )
        for reason in CloseReason
    ]
    by_reason.sort(key=lambda row: -row.count)
    by_stage = [
        Row(
            stage.value,
            str(stage.label),
            stage_counts.get(stage.value, 0),
            share_percent(stage_counts.get(stage.value, 0), total),
        )
        for stage in CloseStage
    ]

    per_bucket: dict[date, int] = {}
    for day, (n, _c, _s) in groups.by_day.items():
        key = day if bucket == "day" else day - timedelta(days=day.weekday())
        per_bucket[key] = per_bucket.get(key, 0) + n
    first = start if bucket == "day" else start - timedelta(days=start.weekday())
    step = timedelta(days=1 if bucket == "day" else 7)
    over_time = []
    cursor = first
    while cursor <= end:
        over_time.append((cursor, per_bucket.get(cursor, 0)))
        cursor += step

    # Every supplier's closes and quality closes: a close counts once under each supplier its
    # purchases name (the entry keeps them); the top ten are cut here (a shop works with tens of
    # suppliers, not thousands).
    per_supplier: dict[str, list[int]] = {}
    for (names, reason), (n, _c, _s) in groups.by_names.items():
        for name in names:
            counts = per_supplier.setdefault(name, [0, 0])
            counts[0] += n
            counts[1] += n if reason == CloseReason.QUALITY_ISSUE else 0
    supplier_counts = [(name, n, bad) for name, (n, bad) in per_supplier.items()]
    supplier_counts.sort(key=lambda row: (-row[1], row[0]))
    by_supplier = [
        Row(name, name or str(_("(no supplier name)")), n, share_percent(n, total))
        for name, n, _bad in supplier_counts[:TOP_N]
    ]
    supplier_quality = {name: (n, bad) for name, n, bad in supplier_counts if bad}

    sku_counts = summed(groups.by_sku_reason, lambda k: k[0])
    sku_rows = sorted(
        ((*groups.skus[pk], n) for pk, (n, _c, _s) in sku_counts.items()), key=lambda row: (-row[2], row[0])
    )
    by_sku = [Row(code, title or code, n, share_percent(n, total)) for code, title, n in sku_rows[:TOP_N]]

    watched = (CloseReason.PRODUCT_INFO_ERROR, CloseReason.OUT_OF_STOCK, CloseReason.QUALITY_ISSUE)
    sku_reason_counts = {
        (groups.skus[pk][0], reason): n
        for (pk, reason), (n, _c, _s) in groups.by_sku_reason.items()
        if reason in watched and n >= 2
    }

    outcomes = summed(groups.by_kind, lambda k: (k[3], k[4]))
    disputes = sorted(
        (
            (who, outcome, n)
            for (who, outcome), (n, _c, _s) in outcomes.items()
            if outcome in DISPUTE_OUTCOMES
        ),
        key=lambda row: (row[0] != DisputeWith.BUYER, DISPUTE_OUTCOMES.index(row[1])),
    )

    return CloseAnalytics(
        start=start,
        end=end,
        supplier=supplier or None,
        sku=sku or None,
        country=country.upper() if country else None,
        bucket=bucket,
        total=total,
        by_reason=by_reason,
        by_stage=by_stage,
        over_time=over_time,
        by_supplier=by_supplier,
        by_sku=by_sku,
        medians=_medians(qs.order_by(), stage_counts),
        sku_reason_counts=sku_reason_counts,
        supplier_quality=supplier_quality,
        store=store,
        disputes=disputes,
    )


def with_out_of_stock_closes(skus: QuerySet[Sku], user: Any) -> QuerySet[Sku]:
    """``skus`` with ``oos_closes``: how many of their orders of ``user``'s stores were closed for
    ``out_of_stock`` (ever). SKUs are shared by every store; their closes are not.

    One grouped query for a whole list, never a count per row.
    """
    return skus.annotate(
        oos_closes=Count(
            "orders",
            filter=Q(orders__status=Status.CLOSED, orders__close_reason=CloseReason.OUT_OF_STOCK)
            & policy.store_condition(user, Order, prefix="orders__"),
        )
    )


def skus_with_repeated_out_of_stock(user: Any, at_least: int = 2) -> QuerySet[Sku]:
    """SKUs closed for ``out_of_stock`` at least ``at_least`` times (ever) in ``user``'s stores,
    with ``oos_closes``."""
    return (
        with_out_of_stock_closes(Sku.objects.all(), user)
        .filter(oos_closes__gte=at_least)
        .order_by("-oos_closes", "code")
    )
