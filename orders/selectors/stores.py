"""Reads about stores: a per-store setting as a condition on orders, and the stores' overview.

A selector that picks orders by a per-store setting (the payment reminder after 24 hours in one
store and 1 hour in another) builds its condition with :func:`per_store`: one small read of the
stores' settings, then one condition per distinct value, OR-ed, so the pick stays one query on
the orders however many stores there are. Stores on the environment's value share one branch.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, Q, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from ..models import Order, Store
from ..models.store import option_value


def per_store(condition: Callable[..., Q], *names: str, field: str = "store_id") -> Q:
    """``condition(*values)`` for each store's values of settings ``names`` (Store.OPTIONS keys).

    One read of the stores. Stores whose values are all the environment's (and stores added
    since) share the first branch; each other set of values adds ``field IN (…) AND condition``.
    """
    default = tuple(option_value(name, None) for name in names)
    groups: dict[tuple, list[int]] = defaultdict(list)
    for pk, *values in Store.objects.values_list("pk", *names).order_by("pk"):
        own = tuple(option_value(name, value) for name, value in zip(names, values, strict=True))
        if own != default:
            groups[own].append(pk)
    result = condition(*default)
    if groups:
        result &= ~Q(**{f"{field}__in": [pk for ids in groups.values() for pk in ids]})
    for values, ids in groups.items():
        result |= Q(**{f"{field}__in": ids}) & condition(*values)
    return result


def default_respond_by(order: Order, now: datetime | None = None) -> datetime:
    """When a supplier asked for a refund of ``order`` must answer, unless told otherwise: the
    store's supplier respond-by days from now (``SHOPOPS_SUPPLIER_RESPOND_DAYS`` by default)."""
    days = float(order.store.option("supplier_respond_days"))
    return timezone.localtime(now) + timedelta(days=days)


@dataclass(frozen=True)
class StoreSummary:
    """One line of ``manage.py store list``."""

    code: str
    name: str
    orders: int
    staff: list[tuple[str, list[str]]]  # (user name, their groups), by user name


def store_overview() -> list[StoreSummary]:
    """Every store, by code, with its order count and its staff with their groups. Three queries."""
    counts = (
        Order.objects.filter(store=OuterRef("pk"))
        .order_by()
        .values("store")
        .annotate(n=Count("pk"))
        .values("n")
    )
    stores = list(Store.objects.annotate(order_count=Coalesce(Subquery(counts), 0)).order_by("code"))
    grants = Store.staff.through.objects.filter(store__in=stores).values_list("store_id", "user_id")
    users = {
        user.pk: user
        for user in get_user_model()
        .objects.filter(pk__in=grants.values("user_id"))
        .prefetch_related("groups")
    }
    staff: dict[int, list] = defaultdict(list)
    for store_id, user_id in grants:
        user = users[user_id]
        staff[store_id].append((user.get_username(), sorted(g.name for g in user.groups.all())))
    return [
        StoreSummary(store.code, store.name, store.order_count, sorted(staff[store.pk])) for store in stores
    ]


def superusers() -> list[str]:
    """The active superusers' names: they work for every store."""
    model = get_user_model()
    return list(
        model.objects.filter(is_superuser=True, is_active=True)
        .order_by(model.USERNAME_FIELD)
        .values_list(model.USERNAME_FIELD, flat=True)
    )
