"""The kept loss ledger (``OrderLedger``): the one writer of its rows.

The views read the cost of each close from a row per closed order instead of converting every
movement on every request (issue 25). A row is written in the same transaction as what changed it:

- :func:`refresh_ledger`, from the one writer of history (``events.record_event`` /
  ``record_events``): every event of an order that is closed, or was closed until then. Every
  close, refund, stock movement or purchase change of a closed order goes through a workflow
  operation that records one, so no transition has code of its own for the ledger;
- :func:`refresh_for_rates`, from ``rates.load_rates`` and ``rates.correct_rate``: a rate added
  or corrected for day D converts the movements of days D..D+6 (``MAX_RATE_AGE_DAYS``): the
  orders with a movement in that span are computed again, and written when their row differs.
  The corrected rate keeps its history (``ExchangeRateChange``) as before;
- :func:`rebuild_ledger` (``manage.py rebuild_ledger``): every closed order computed again from
  its movements, in chunks; with ``check``, the differences are reported and nothing is written.

Writers of the same row must not leave the row of a state another has replaced. On PostgreSQL:

- a step holds its order (the transition's row lock) when it writes the row, and so does the
  rebuild (each chunk's orders, in id order): two of them on one order take turns;
- the rates and the rows are held apart by one advisory lock: every writer of rows takes it
  shared (after its orders), a rate change takes it exclusively before it changes a rate
  (:func:`hold_for_rates`). So a step that computed a row with the old rate commits before the
  rate changes — and the rate change then sees its row —, or computes after the rate changed.
  A rate change takes no order lock, so neither waits for the other in a circle.

The values come from ``orders.selectors.ledger_sql``, the ledger's one definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import connection, transaction
from django.db.models import Q
from django.utils import timezone

from ..models import Order, OrderLedger, Status, Store
from ..selectors.ledger_sql import MAX_RATE_AGE_DAYS, computed_entries

# Orders computed and written together: a chunk's locks are held for a fraction of a second.
CHUNK = 5000
# The values a row holds (``updated_at`` aside): compared to tell a row that changed.
FIELDS = tuple(
    f.attname for f in OrderLedger._meta.concrete_fields if f.attname not in ("order_id", "updated_at")
)


@dataclass
class LedgerResult:
    """What a refresh or a rebuild did: rows written (new or changed), rows deleted (orders no
    longer closed), and with ``check`` the differences found (order id → the fields that differ;
    ``["(missing)"]``: no row; ``["(not closed)"]``: a row of an order that is not closed)."""

    checked: int = 0
    written: int = 0
    deleted: int = 0
    differences: dict[int, list[str]] = field(default_factory=dict)

    def add(self, other: LedgerResult) -> None:
        self.checked += other.checked
        self.written += other.written
        self.deleted += other.deleted
        self.differences.update(other.differences)


def _chunks(ids: list[int]) -> Iterator[list[int]]:
    for start in range(0, len(ids), CHUNK):
        yield ids[start : start + CHUNK]


def _differs(kept: dict[str, Any], fresh: dict[str, Any]) -> list[str]:
    return [name for name in FIELDS if kept.get(name) != fresh.get(name)]


# The advisory lock that holds rate changes and row writes apart (PostgreSQL): "ledger" in ASCII.
LEDGER_LOCK = 0x6C6564676572


def _hold_ledger(*, exclusive: bool) -> None:
    """Take the ledger lock until the transaction ends (SQLite writes one at a time anyway)."""
    if connection.vendor != "postgresql":
        return
    take = "pg_advisory_xact_lock" if exclusive else "pg_advisory_xact_lock_shared"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {take}(%s)", [LEDGER_LOCK])


def hold_for_rates() -> None:
    """Before a rate is added or corrected (``orders.workflow.rates``, in its transaction): wait
    for the rows being written to commit, and keep new ones waiting until the rate commits."""
    _hold_ledger(exclusive=True)


def _sync(ids: list[int], *, check: bool = False, lock: bool = True) -> LedgerResult:
    """Make the rows of orders ``ids`` what their ledger is now (closed: its row; else none).
    ``lock``: hold the orders, then the ledger lock shared (a rate change holds it already)."""
    result = LedgerResult(checked=len(ids))
    if lock and not check:
        # The rows of these orders are written from what is committed once they are ours.
        list(Order.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
        _hold_ledger(exclusive=False)
    fresh = computed_entries(Order.objects.filter(pk__in=ids))
    kept = {
        row["order_id"]: row
        for row in OrderLedger.objects.filter(order_id__in=ids).values("order_id", *FIELDS)
    }
    changed = []
    for pk, entry in fresh.items():
        differs = ["(missing)"] if pk not in kept else _differs(kept[pk], entry)
        if differs:
            result.differences[pk] = differs
            changed.append(entry)
    stale = [pk for pk in kept if pk not in fresh]
    for pk in stale:
        result.differences[pk] = ["(not closed)"]
    if check:
        return result
    if changed:
        now = timezone.now()
        OrderLedger.objects.bulk_create(
            [OrderLedger(**entry, updated_at=now) for entry in changed],
            update_conflicts=True,
            unique_fields=["order"],
            update_fields=[*FIELDS, "updated_at"],
        )
    if stale:
        OrderLedger.objects.filter(order_id__in=stale).delete()
    result.written, result.deleted = len(changed), len(stale)
    return result


@transaction.atomic
def refresh_ledger(order_ids: Iterable[int]) -> LedgerResult:
    """Write the kept ledger of ``order_ids`` as it is now, in the caller's transaction: a closed
    order's row when it differs from what is kept, no row for an order that is not closed.

    Called by ``events`` for every event of an order closed (or closed until then), after the
    change the event records; the rates call :func:`refresh_for_rates`. Holds the orders, then
    the ledger lock shared.
    """
    result = LedgerResult()
    for chunk in _chunks(sorted(set(order_ids))):
        result.add(_sync(chunk))
    return result


def rate_days(days: Iterable[date]) -> list[tuple[date, date]]:
    """The spans of movement days that rates of ``days`` convert (D..D+6 each), merged."""
    spans: list[tuple[date, date]] = []
    reach = timedelta(days=MAX_RATE_AGE_DAYS - 1)
    for day in sorted(set(days)):
        if spans and day <= spans[-1][1] + timedelta(days=1):
            spans[-1] = (spans[-1][0], max(spans[-1][1], day + reach))
        else:
            spans.append((day, day + reach))
    return spans


@transaction.atomic
def refresh_for_rates(days: Iterable[date]) -> LedgerResult:
    """A rate of each of ``days`` was added or corrected (in the caller's transaction): the kept
    rows of the orders with a movement it may convert are computed again, and written where
    they differ. Any currency: a rate of the reporting currency converts every movement.

    The caller holds the ledger lock (:func:`hold_for_rates`): every row written before is
    committed, and no other is written until this transaction ends; the orders are not locked.
    """
    spans = rate_days(days)
    if not spans:
        return LedgerResult()
    hold_for_rates()  # taken already by the caller; again here costs nothing
    touched = Q()
    for first, last in spans:
        touched |= Q(last_day__gte=first, first_day__lte=last)
    ids = list(OrderLedger.objects.filter(touched).order_by("order_id").values_list("order_id", flat=True))
    result = LedgerResult()
    for chunk in _chunks(ids):
        result.add(_sync(chunk, lock=False))
    return result


def rebuild_ledger(*, store: Store | None = None, check: bool = False) -> LedgerResult:
    """Every closed order's row computed again from its movements (of ``store``, else of every
    store), and rows of orders no longer closed removed; each chunk of orders in its own
    transaction, so the steps of the staff meanwhile wait a moment at most. With ``check``,
    nothing is written: the result lists what differs.

    Run once after deploying the ledger (the table starts empty), after a change of
    ``SHOPOPS_REPORTING_CURRENCY`` or of the time zone, and to verify (``--check``).
    """
    closed = Order.objects.filter(status=Status.CLOSED)
    kept = OrderLedger.objects.all()
    if store is not None:
        closed, kept = closed.filter(store=store), kept.filter(store=store)
    ids = set(closed.values_list("pk", flat=True)) | set(kept.values_list("order_id", flat=True))
    result = LedgerResult()
    for chunk in _chunks(sorted(ids)):
        with transaction.atomic():
            result.add(_sync(chunk, check=check))
    return result
