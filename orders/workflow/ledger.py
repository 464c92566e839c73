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

Each refresh first locks the orders it writes (in id order, as every workflow step locks its
order): a rate correction waits for a step on one of them to commit, then computes with it, and
a step waits for the correction — so neither writes a row from a state the other has replaced.
The values come from ``orders.selectors.ledger_sql``, the ledger's one definition.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from django.db import transaction
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


def _sync(ids: list[int], *, check: bool = False) -> LedgerResult:
    """Make the rows of orders ``ids`` what their ledger is now (closed: its row; else none)."""
    result = LedgerResult(checked=len(ids))
    if not check:
        # The rows of these orders are written from what is committed once they are ours.
        list(Order.objects.select_for_update().filter(pk__in=ids).order_by("pk").values_list("pk"))
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
    change the event records; the rates call :func:`refresh_for_rates`. Locks the orders.
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
    they differ. Any currency: a rate of the reporting currency converts every movement."""
    spans = rate_days(days)
    if not spans:
        return LedgerResult()
    touched = Q()
    for first, last in spans:
        touched |= Q(last_day__gte=first, first_day__lte=last)
    ids = list(OrderLedger.objects.filter(touched).order_by("order_id").values_list("order_id", flat=True))
    return refresh_ledger(ids)


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
