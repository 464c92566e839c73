"""Response times: how long a buyer waits for our answer, and how long orders wait in each state.

- **A buyer's wait** starts at an inbound message from the buyer (an ``evidence`` communication,
  counterparty buyer, direction inbound) that follows none of theirs still unanswered, and ends
  at our next outbound communication to that buyer on the same order. Its operator is whoever
  recorded the answer; a wait still open belongs to the order's assignee (or to nobody). A wait
  is *overdue* when it lasted, or has lasted until now, more than
  ``SHOPOPS_RESPONSE_OVERDUE_HOURS``.
- **A wait in a state** (:data:`WAITING_STATES`: the states in which the order waits on someone:
  the buyer, the platform, the supplier, a supervisor) runs from the history event that moved the
  order into it to the one that moved it out; an order still in it has waited since
  ``status_changed_at``.

Read for the user's stores only (``orders.policy``), narrowed to one ``store`` when given: the
team page (this week) and the analytics page (its period and store filter). Each figure is a
fixed number of queries; the medians are taken in Python from one list of durations per view.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db.models import Count, F, Min, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from evidence.models import Communication, Counterparty, Direction

from .. import policy
from ..models import Order, OrderEvent, Status, Store
from ..people import person

# The states in which an order waits on someone (the buyer, support, the supplier, a supervisor).
WAITING_STATES = (
    Status.CANCEL_REQUESTED,
    Status.REFUND_PENDING,
    Status.ESCALATED,
    Status.RETURN_REQUESTED,
    Status.RETURN_IN_TRANSIT,
    Status.RETURN_RECEIVED,
    Status.SUPPLIER_REFUND_PENDING,
    Status.DISPUTED,
)
NOBODY = ""  # the key of the waits no one is handling


def overdue_after() -> timedelta:
    return timedelta(hours=float(settings.SHOPOPS_RESPONSE_OVERDUE_HOURS))


def hours(value: timedelta | None) -> Decimal | None:
    """A duration as hours with one decimal (``None`` stays ``None``)."""
    if value is None:
        return None
    return (Decimal(value.total_seconds()) / 3600).quantize(Decimal("0.1"))


def _median(values: list[timedelta]) -> timedelta | None:
    if not values:
        return None
    return timedelta(seconds=statistics.median(v.total_seconds() for v in values))


@dataclass(frozen=True)
class ResponseRow:
    """The buyer waits of one operator, one store, or all: answered ones, their median, the
    overdue ones (answered late, or still unanswered past the limit), the ones still open."""

    key: str
    label: str
    answered: int
    median: timedelta | None
    overdue: int
    waiting: int

    @property
    def median_hours(self) -> Decimal | None:
        return hours(self.median)


@dataclass(frozen=True)
class ResponseTimes:
    overdue_hours: float
    total: ResponseRow
    by_store: list[ResponseRow]
    by_operator: list[ResponseRow]

    def operator(self, user_id: int | None) -> ResponseRow | None:
        key = str(user_id) if user_id is not None else NOBODY
        return next((row for row in self.by_operator if row.key == key), None)


def _buyer(direction: str) -> QuerySet[Communication]:
    return Communication.objects.filter(counterparty=Counterparty.BUYER, direction=direction)


def buyer_waits(
    user: Any, start: datetime, end: datetime, *, store: Store | None = None, still_open: bool = False
) -> QuerySet:
    """The inbound buyer messages of ``user``'s stores received in ``[start, end)`` that start a
    wait, each with ``answered_at`` / ``answered_by`` (our next outbound message to the buyer on
    the order, if any), the order's store and assignee. ``still_open``: and the waits begun
    before ``start`` that nobody has answered yet (a buyer waiting since last week is still
    waiting this week). One query."""
    same_order = {"order": OuterRef("order")}
    answer = (
        _buyer(Direction.OUTBOUND)
        .filter(**same_order, occurred_at__gte=OuterRef("occurred_at"))
        .order_by("occurred_at", "pk")
    )
    previous = (
        _buyer(Direction.INBOUND)
        .filter(**same_order)
        .filter(
            Q(occurred_at__lt=OuterRef("occurred_at"))
            | Q(occurred_at=OuterRef("occurred_at"), pk__lt=OuterRef("pk"))
        )
        .order_by("-occurred_at", "-pk")
    )
    last_answer_before = (
        _buyer(Direction.OUTBOUND)
        .filter(**same_order, occurred_at__lt=OuterRef("occurred_at"))
        .order_by("-occurred_at", "-pk")
    )
    waits = (
        policy.scope(user, _buyer(Direction.INBOUND))
        .filter(occurred_at__lt=end)
        .annotate(
            answered_at=Subquery(answer.values("occurred_at")[:1]),
            answered_by=Subquery(answer.values("recorded_by")[:1]),
            previous_in=Subquery(previous.values("occurred_at")[:1]),
            previous_out=Subquery(last_answer_before.values("occurred_at")[:1]),
            store_code=F("order__store__code"),
            assignee=F("order__assignee_id"),
        )
    )
    begun = Q(occurred_at__gte=start)
    if still_open:
        begun |= Q(answered_at__isnull=True)
    waits = waits.filter(begun)
    if store is not None:
        waits = waits.filter(order__store=store)
    # A message that follows one of the buyer's still unanswered continues that wait.
    return waits.filter(
        Q(previous_in__isnull=True) | Q(previous_out__isnull=False, previous_out__gte=F("previous_in"))
    )


def _names(user_ids: Iterable[int]) -> dict[int, str]:
    users = get_user_model().objects.filter(pk__in=set(user_ids))
    return {u.pk: person(u) for u in users}


def _row(
    key: str, label: str, waits: list[tuple[timedelta | None, timedelta]], limit: timedelta
) -> ResponseRow:
    answered = [took for took, _open in waits if took is not None]
    return ResponseRow(
        key=key,
        label=label,
        answered=len(answered),
        median=_median(answered),
        overdue=sum(1 for took, open_for in waits if (took if took is not None else open_for) > limit),
        waiting=sum(1 for took, _open in waits if took is None),
    )


def response_times(
    user: Any,
    start: datetime,
    end: datetime,
    *,
    now: datetime,
    store: Store | None = None,
    still_open: bool = False,
) -> ResponseTimes:
    """Buyer waits begun in ``[start, end)`` per store and per operator (see the module);
    ``still_open``: with the ones begun earlier that are still unanswered (the team page)."""
    limit = overdue_after()
    per_store: dict[str, list] = defaultdict(list)
    per_operator: dict[int | None, list] = defaultdict(list)
    every: list = []
    rows = buyer_waits(user, start, end, store=store, still_open=still_open).values_list(
        "occurred_at", "answered_at", "answered_by", "store_code", "assignee"
    )
    for received, answered_at, answered_by, store_code, assignee in rows:
        took = answered_at - received if answered_at is not None else None
        wait = (took, now - received)
        every.append(wait)
        per_store[store_code].append(wait)
        per_operator[answered_by if took is not None else assignee].append(wait)
    names = _names(pk for pk in per_operator if pk is not None)
    by_store = [_row(code, code, waits, limit) for code, waits in per_store.items()]
    by_operator = [
        _row(
            str(pk) if pk is not None else NOBODY,
            names.get(pk, _("nobody")) if pk else _("nobody"),
            waits,
            limit,
        )
        for pk, waits in per_operator.items()
    ]
    return ResponseTimes(
        overdue_hours=float(settings.SHOPOPS_RESPONSE_OVERDUE_HOURS),
        total=_row("", _("All"), every, limit),
        by_store=sorted(by_store, key=lambda r: r.label),
        by_operator=sorted(by_operator, key=lambda r: (r.key == NOBODY, r.label)),
    )


# --- time in each waiting state --------------------------------------------------------------------


@dataclass(frozen=True)
class StateRow:
    """One waiting state of one store: the waits that ended in the period (how many, their
    median), and the orders in it now (how many, since when the oldest)."""

    status: str
    label: str
    store: str
    ended: int
    median: timedelta | None
    waiting_now: int
    oldest: timedelta | None

    @property
    def median_hours(self) -> Decimal | None:
        return hours(self.median)

    @property
    def oldest_hours(self) -> Decimal | None:
        return hours(self.oldest)


def _moves():
    return OrderEvent.objects.exclude(from_status=F("to_status"))


def waiting_times(
    user: Any, start: datetime, end: datetime, *, now: datetime, store: Store | None = None
) -> list[StateRow]:
    """Per waiting state and store: the waits that ended in ``[start, end)`` and the orders
    waiting now. Two queries."""
    entered = (
        _moves()
        .filter(order=OuterRef("order"), to_status=OuterRef("from_status"), pk__lt=OuterRef("pk"))
        .order_by("-pk")
    )
    ended = (
        policy.scope(user, _moves())
        .filter(from_status__in=WAITING_STATES, created_at__gte=start, created_at__lt=end)
        .annotate(entered_at=Subquery(entered.values("created_at")[:1]), store_code=F("order__store__code"))
        .filter(entered_at__isnull=False)
    )
    now_waiting = policy.scope(user, Order.objects.filter(status__in=WAITING_STATES))
    if store is not None:
        ended = ended.filter(order__store=store)
        now_waiting = now_waiting.filter(store=store)
    durations: dict[tuple[str, str], list[timedelta]] = defaultdict(list)
    for status, code, left, came in ended.values_list(
        "from_status", "store_code", "created_at", "entered_at"
    ):
        durations[(status, code)].append(left - came)
    current = {
        (row["status"], row["store__code"]): (row["n"], row["oldest"])
        for row in now_waiting.values("status", "store__code")
        .annotate(n=Count("pk"), oldest=Min("status_changed_at"))
        .order_by()
    }
    order = {status: index for index, status in enumerate(WAITING_STATES)}
    rows = []
    for status, code in sorted(set(durations) | set(current), key=lambda k: (order[k[0]], k[1])):
        n, oldest = current.get((status, code), (0, None))
        rows.append(
            StateRow(
                status=status,
                label=str(Status(status).label),
                store=code,
                ended=len(durations.get((status, code), [])),
                median=_median(durations.get((status, code), [])),
                waiting_now=n,
                oldest=now - oldest if oldest else None,
            )
        )
    return rows
