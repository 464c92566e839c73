"""The batch form of the transition frame (``core``): one step for many orders, all or nothing.

The periodic jobs (``orders.jobs``) hand a batch of ids to a batch operation (for example
``unpaid.close_unpaid_batch``), which runs in one transaction with a constant number of
queries whatever the batch size: one ``SELECT … FOR UPDATE SKIP LOCKED`` of the orders, one
``UPDATE`` of the ones moved, one ``INSERT`` of their history events. So a pass that dies
half way leaves each batch done or not; the next pass selects what is still due.

- **Skipped**: ids whose row another transaction holds (a parallel pass, an operator on the
  order page), or that no longer exist. The next pass takes them if they are still due.
- **Refused**: orders that may not take the step (moved meanwhile, evidence missing), each
  with the message the one-order operation would give; the rest of the batch goes on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from shopops.errors import Refused

from .. import policy
from ..models import Order
from ..transitions import TRANSITIONS
from . import events
from .core import check_evidence, check_source, move


@dataclass
class BatchResult:
    """What a batch operation did, by id: done, skipped (held elsewhere or not due any more),
    refused (with the reason, as the one-item operation would have said it)."""

    done: list[int] = field(default_factory=list)
    skipped: list[int] = field(default_factory=list)
    refused: dict[int, str] = field(default_factory=dict)


def unique_ids(ids: Iterable[int]) -> list[int]:
    """The ids once each, in the order given."""
    return list(dict.fromkeys(int(pk) for pk in ids))


def skipped_ids(ids: list[int], taken: Iterable[int]) -> list[int]:
    """The ids of ``ids`` not in ``taken``: what another transaction holds, or is gone."""
    found = set(taken)
    return [pk for pk in ids if pk not in found]


def lock_orders(ids: list[int], *, by: AbstractBaseUser | None) -> tuple[list[Order], list[int]]:
    """The orders of ``ids`` whose rows this transaction could lock without waiting, by pk, and
    the ids left (held by another transaction, gone, or of a store ``by`` does not work for).

    Each order comes with its store (its settings: the payment timeout a reminder names), read
    in the same query; only the orders' rows are locked.
    """
    held = policy.scope(
        by, Order.objects.select_for_update(skip_locked=True, of=("self",)).select_related("store")
    )
    locked = list(held.filter(pk__in=ids).order_by("pk"))
    return locked, skipped_ids(ids, (o.pk for o in locked))


_FIELDS = [f for f in Order._meta.concrete_fields if not f.primary_key]


def _snapshot(order: Order) -> tuple:
    return tuple(getattr(order, f.attname) for f in _FIELDS)


class Batch:
    """One transition on a batch of locked orders, as the body of its ``with`` block sees it."""

    def __init__(self, name: str, by: AbstractBaseUser | None, orders: list[Order], result: BatchResult):
        self.name = name
        self.by = by
        self.orders = orders  # locked, and still allowed to move
        self.result = result
        self.from_status = {order.pk: order.status for order in orders}
        self.data: dict[int, dict[str, Any]] = {}
        self.applied = False

    def refuse(self, order: Order, message: str) -> None:
        """Leave ``order`` out of the batch, refused with ``message``."""
        self.result.refused[order.pk] = message
        self.orders = [o for o in self.orders if o.pk != order.pk]

    def apply(self, *args: Any) -> list[Order]:
        """Move every order of the batch (``core.move``), then one UPDATE of the changed fields.

        An order the move refuses is left out (``refused``), unchanged.
        """
        if self.applied:
            raise RuntimeError(f"{self.name}: apply() once per batch")
        now = timezone.now()
        moved, changed = [], set()
        for order in list(self.orders):
            before = _snapshot(order)
            try:
                move(self.name, order, args, by=self.by, now=now)
            except Refused as exc:
                for f, value in zip(_FIELDS, before, strict=True):
                    setattr(order, f.attname, value)
                self.refuse(order, str(exc))
                continue
            order.updated_at = now
            after = _snapshot(order)
            changed.update(f.name for f, old, new in zip(_FIELDS, before, after, strict=True) if new != old)
            moved.append(order)
        # One UPDATE per distinct set of new values (a payment-timeout close: one for the batch),
        # rather than bulk_update's CASE per row and field, which grows with the batch squared.
        names = sorted(changed | {"updated_at"})
        attnames = [Order._meta.get_field(name).attname for name in names]
        groups: dict[str, tuple[dict[str, Any], list[int]]] = {}
        for order in moved:
            values = {a: getattr(order, a) for a in attnames}
            groups.setdefault(repr(values), (values, []))[1].append(order.pk)
        for values, pks in groups.values():
            Order.objects.filter(pk__in=pks).update(**values)
        self.applied = True
        return moved


@contextmanager
def transition_batch(name: str, order_ids: Iterable[int], *, by: AbstractBaseUser | None) -> Iterator[Batch]:
    """Run transition ``name`` on a batch of orders in one transaction (see the module docstring).

    Permission first (``None``, the system, always may), then the rows locked without waiting,
    each order's source state and declared evidence checked (``core.check_source``,
    ``core.check_evidence``). The body calls ``b.apply(...)`` once; when it ends, one history
    event per order moved is written in one INSERT.
    """
    policy.require(by, TRANSITIONS[name].permission, events.event_label(name).lower())
    ids = unique_ids(order_ids)
    result = BatchResult()
    with transaction.atomic():
        locked, result.skipped = lock_orders(ids, by=by)
        batch = Batch(name, by, locked, result)
        for order in locked:
            try:
                check_source(name, order)
                check_evidence(name, order)
            except Refused as exc:
                batch.refuse(order, str(exc))
        yield batch
        if batch.orders and not batch.applied:
            raise RuntimeError(f"{name}: the batch ended without b.apply()")
        groups: dict[tuple[str, str], list[Order]] = {}
        for order in batch.orders:
            groups.setdefault((batch.from_status[order.pk], order.close_reason), []).append(order)
        for (from_status, reason), orders in groups.items():
            entries = [(order, batch.data.get(order.pk)) for order in orders]
            events.record_events(name, entries, by=by, from_status=from_status, reason=reason)
        result.done = [order.pk for order in batch.orders]
