"""The supervisor's team page: each person's open orders, their oldest wait, the steps they took
this week and how fast they answered buyers; the orders nobody is handling.

Everything is of the supervisor's stores (``orders.policy``), narrowed to one ``store`` when given:
the people are the staff granted those stores who may handle orders (``policy.people_who_may``
with ``orders.claim_order``), plus anyone still holding an open order there; every count is of
those stores' orders only. A fixed number of queries, whatever the team's size.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.contrib.auth import get_user_model
from django.db.models import Count, Min, Q
from django.utils import timezone

from .. import policy
from ..models import Order, OrderEvent, Store
from ..people import person
from ..transitions import TRANSITIONS
from .queues import FINISHED, NOT_POOLED
from .response import ResponseRow, response_times

CLAIM_PERMISSION = "orders.claim_order"


@dataclass(frozen=True)
class Member:
    """One person of the team, as the team page shows them."""

    user: Any
    name: str
    groups: str
    open_orders: int
    oldest_since: datetime | None  # since when the longest-waiting of their open orders has waited
    steps_this_week: int
    responses: ResponseRow | None  # their answers to buyers this week

    def oldest_wait(self, now: datetime) -> timedelta | None:
        return now - self.oldest_since if self.oldest_since else None


@dataclass(frozen=True)
class TeamView:
    week_start: datetime
    members: list[Member]
    unassigned: int  # open orders nobody handles (unpaid and shipped ones aside: queues.NOT_POOLED)
    unassigned_since: datetime | None
    responses: Any  # ResponseTimes of the week


def week_start(now: datetime) -> datetime:
    """Monday 00:00 of ``now``'s week, in the current time zone."""
    local = timezone.localtime(now)
    monday = local - timedelta(days=local.weekday())
    return monday.replace(hour=0, minute=0, second=0, microsecond=0)


def _store_ids(user: Any, store: Store | None) -> list[int] | None:
    """The stores the view counts: ``store``, else the user's (``None``: every store)."""
    if store is not None:
        return [store.pk]
    ids = policy.store_ids(user)
    return None if ids is None else sorted(ids)


def _orders(user: Any, store: Store | None):
    orders = policy.scope(user, Order.objects.all())
    return orders.filter(store=store) if store is not None else orders


def team_people(user: Any, store: Store | None = None):
    """The people of the view's stores who may handle orders: granted one of those stores
    (a superuser is listed only when granted one)."""
    ids = _store_ids(user, store)
    people = policy.people_who_may(CLAIM_PERMISSION, ids)
    granted = Store.staff.through.objects.all()
    if ids is not None:
        granted = granted.filter(store_id__in=ids)
    return people.filter(pk__in=granted.values("user_id")).order_by("username")


def team_view(user: Any, *, now: datetime, store: Store | None = None) -> TeamView:
    """The team page's figures (see the module)."""
    orders = _orders(user, store)
    open_orders = orders.exclude(status__in=FINISHED)
    held = {
        row["assignee"]: (row["n"], row["oldest"])
        for row in open_orders.filter(assignee__isnull=False)
        .values("assignee")
        .annotate(n=Count("pk"), oldest=Min("status_changed_at"))
        .order_by()
    }
    nobody = (
        open_orders.filter(assignee__isnull=True)
        .exclude(status__in=NOT_POOLED)
        .aggregate(n=Count("pk"), oldest=Min("status_changed_at"))
    )
    start = week_start(now)
    events = policy.scope(
        user, OrderEvent.objects.filter(created_at__gte=start, transition__in=list(TRANSITIONS))
    )
    if store is not None:
        events = events.filter(order__store=store)
    steps = dict(
        events.filter(actor__isnull=False)
        .values("actor")
        .annotate(n=Count("pk"))
        .order_by()
        .values_list("actor", "n")
    )
    # This week's answers, and every buyer still waiting (since whenever they wrote).
    responses = response_times(user, start, now + timedelta(seconds=1), now=now, store=store, still_open=True)
    User = get_user_model()
    people = list(
        User.objects.filter(Q(pk__in=team_people(user, store).values("pk")) | Q(pk__in=list(held)))
        .prefetch_related("groups")
        .order_by("username")
    )
    members = [
        Member(
            user=someone,
            name=person(someone),
            groups=", ".join(sorted(g.name for g in someone.groups.all())),
            open_orders=held.get(someone.pk, (0, None))[0],
            oldest_since=held.get(someone.pk, (0, None))[1],
            steps_this_week=steps.get(someone.pk, 0),
            responses=responses.operator(someone.pk),
        )
        for someone in people
    ]
    return TeamView(
        week_start=start,
        members=members,
        unassigned=nobody["n"],
        unassigned_since=nobody["oldest"],
        responses=responses,
    )


def open_orders_of(user: Any, assignee_id: int, store: Store | None = None):
    """The open orders of the view's stores that ``assignee_id`` is handling (a bulk reassignment)."""
    return _orders(user, store).exclude(status__in=FINISHED).filter(assignee_id=assignee_id).order_by("pk")
