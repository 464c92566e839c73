"""The transition frame: what every workflow operation does around its own rules.

A transition reads top to bottom::

    def close_unpaid(order, *, by, reason, note=""):
        reason = inputs.close_reason(reason, note)          # inputs, before any lock
        with transition("close_unpaid", order, by=by) as t:  # permission, lock, source, evidence
            t.apply(reason, note)                            # the fsm move, timestamps, save
            if reason == CloseReason.OUT_OF_STOCK:
                stock.mark_out_of_stock(t.order.sku_id, by=by, order=t.order)
            t.event(note=note)                               # data for the one history row
        return t.order

``transition`` reads transition ``name``'s declaration (``orders.transitions``): it checks that
``by`` holds its permission (``None``, the system, always may), opens one transaction, locks
the order row, refuses when the order is not in a source state of ``name`` (``OrderChanged``
when it moved since the caller loaded it) and when the declared evidence was not recorded. The
body checks its own rules under the lock, calls ``t.apply(...)`` once, creates what the move creates
(refunds, stock movements, outbox rows: the outbox delivers after commit) and adds event data
with ``t.event(...)``. When the body ends, the one ``OrderEvent`` is written; when anything
raises, nothing at all is written and the caller's ``order`` instance is untouched (the frame
works on its own locked copy, ``t.order``).

A screen passes the order as its form showed it (``as_seen``: the status, and the version of
the values it showed that the transition may change): a move meanwhile is ``OrderChanged``, a
change of those values meanwhile ``Stale`` (``orders.workflow.versions``).

Every step also settles who is handling the order (``assignment.take_for_step``): nobody → the
one who runs it; someone else → refused with ``HandledByOther`` unless ``take_over=True`` (a
supervisor's step is allowed and leaves the order with its assignee). And when the step leaves
the order waiting on another group, the people of that group are told (``handoffs.after_move``:
outbox rows in the same transaction).

``operation`` is the same frame for what does not move the order (a refund requested, a
reminder sent): lock, body, and one event if the body called ``t.event``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from shopops import inputs
from shopops.errors import OrderChanged, Refused

from .. import policy
from ..models import Order, Status, choice_label
from ..selectors.evidence import evidence_missing
from ..transitions import TRANSITIONS
from . import assignment, events, handoffs, versions


def status_label(status: str) -> str:
    """The display label of an order status (the value itself when it is not one)."""
    return choice_label(Status, status)


def order_pk(order: Order | int | str) -> int:
    if isinstance(order, Order):
        return order.pk
    try:
        return inputs.quantity(order, "order", maximum=inputs.MAX_ID)
    except Refused:
        raise Refused(
            _("“%(order)s” is not an order.") % {"order": inputs.shown(order)}, field="order"
        ) from None


def lock_order(order: Order | int | str, *, by: AbstractBaseUser | None = None) -> Order:
    """A fresh copy of the order, its row locked until the transaction ends.

    An order of a store ``by`` does not work for is refused as if it did not exist
    (``orders.policy``): the same words, the same ``NotFound``.
    """
    rows = policy.scope(by, Order.objects.select_for_update().select_related("sku"))
    try:
        return rows.get(pk=order_pk(order))
    except Order.DoesNotExist:
        raise policy.not_found(Order, order) from None


def as_seen(order: Order, *, status: str, version: str | None) -> Order:
    """The order as an operator's form showed it: its status and the version of the fields it
    showed (``versions.version_of`` of the transition's ``shown_fields``). Given to the workflow,
    which tells a move or a change made meanwhile by someone else from a step never possible."""
    seen = Order(pk=order.pk, platform_order_id=order.platform_order_id, status=status or order.status)
    seen.shown_version = version or None
    return seen


def check_source(name: str, order: Order, seen: Order | None = None) -> None:
    """Refuse unless transition ``name`` may start from ``order``'s status.

    ``seen`` is the order as the caller loaded it: when its status differs, someone moved the
    order meanwhile, and the refusal (``OrderChanged``) says so rather than list the sources.
    """
    if can_proceed(getattr(order, name)):
        return
    if seen is not None and seen.status != order.status:
        raise OrderChanged(
            _(
                "Order %(order)s has changed: it is now “%(status)s”, so “%(action)s” is no longer "
                "possible. Reload the order to see what happened."
            )
            % {"order": order, "status": status_label(order.status), "action": events.event_label(name)}
        )
    sources = {t.source for t in order.get_all_status_transitions() if t.name == name}
    raise Refused(
        _("“%(action)s” is not possible: order %(order)s is “%(status)s”; it must be %(sources)s.")
        % {
            "action": events.event_label(name),
            "order": order,
            "status": status_label(order.status),
            "sources": _(" or ").join(f"“{status_label(s)}”" for s in sorted(sources)),
        }
    )


def check_evidence(name: str, order: Order) -> None:
    """Refuse unless the evidence transition ``name`` declares was recorded on ``order`` (the
    rule: ``selectors.evidence.evidence_missing``, which the screens ask too)."""
    if evidence_missing(name, order):
        raise Refused(_(TRANSITIONS[name].evidence.message))


def move(name: str, order: Order, args: tuple, *, by: AbstractBaseUser | None, now) -> Order:
    """Transition ``name(*args)`` on ``order`` in memory, with its timestamps; the caller saves.

    Sets ``status_changed_at``; the start of a close when the order enters one; and on a
    close ``closed_at`` / ``closed_by`` (refused when no close reason was ever given).
    """
    getattr(order, name)(*args)
    order.status_changed_at = now
    if order.close_stage and order.close_started_at is None:
        order.close_started_at = now
    if order.status == Status.CLOSED:
        if not order.close_reason:
            # A closed order always has a reason (SPEC 1); say so rather than hit the constraint.
            raise Refused(_("Choose a close reason."), field="reason")
        order.closed_at = now
        order.closed_by = by
        if order.close_started_at is None:
            order.close_started_at = now
    return order


class Step:
    """One operation on one locked order, as the body of its ``with`` block sees it."""

    def __init__(self, name: str, order: Order, by: AbstractBaseUser | None, *, moves: bool):
        self.name = name
        self.order = order  # the locked copy
        self.by = by
        self.from_status = order.status
        self.data: dict[str, Any] = {}
        self.moves = moves
        self.applied = False
        self.recorded = False

    def apply(self, *args: Any) -> Order:
        """Move the order: the model's transition ``name(*args)``, the timestamps, one save.

        Sets ``status_changed_at``; the start of a close when the order enters one; and on a
        close ``closed_at`` / ``closed_by`` (refused when no close reason was ever given).
        """
        if not self.moves or self.applied:
            raise RuntimeError(f"{self.name}: apply() is for a transition, once")
        order = move(self.name, self.order, args, by=self.by, now=timezone.now())
        order.save()
        self.applied = True
        return order

    def event(self, **data: Any) -> None:
        """Add ``data`` to the history row written when the block ends (empty values are dropped)."""
        self.data.update(data)
        self.recorded = True

    @property
    def idempotency_key(self) -> str:
        """The request key of a refund this transition creates: one per move of this order."""
        if not self.applied:
            raise RuntimeError(f"{self.name}: the key exists once the order has moved")
        return f"order-{self.order.pk}-{self.name}-{self.order.status_changed_at.timestamp():.6f}"


@contextmanager
def transition(
    name: str, order: Order | int | str, *, by: AbstractBaseUser | None, take_over: bool = False
) -> Iterator[Step]:
    """Run transition ``name`` on ``order`` (an ``Order`` or its pk); see the module docstring.

    ``take_over``: the order may be a colleague's; ``by`` takes it over (else ``HandledByOther``).
    """
    policy.require(by, TRANSITIONS[name].permission, events.event_label(name).lower())
    seen = order if isinstance(order, Order) else None
    with transaction.atomic():
        locked = lock_order(order, by=by)
        check_source(name, locked, seen)
        # A form that showed the close reason or the carrier says which version it showed.
        versions.check_order_version(
            locked, TRANSITIONS[name].shown_fields, getattr(seen, "shown_version", None)
        )
        check_evidence(name, locked)
        handled = assignment.take_for_step(locked, by, take_over=take_over)
        step = Step(name, locked, by, moves=True)
        yield step
        if not step.applied:
            raise RuntimeError(f"{name}: the transition ended without t.apply()")
        events.record_event(
            locked,
            name,
            by=by,
            from_status=step.from_status,
            reason=locked.close_reason,
            data={**step.data, **handled},
        )
        handoffs.after_move(locked)


@contextmanager
def operation(name: str, order: Order | int | str, *, by: AbstractBaseUser | None) -> Iterator[Step]:
    """Lock ``order`` for an operation that does not move it; event ``name`` if ``t.event`` ran.

    The caller checks the role first (``policy.require``: operations are not declared
    transitions); the order's store is checked here, as for a transition.
    """
    with transaction.atomic():
        step = Step(name, lock_order(order, by=by), by, moves=False)
        yield step
        if step.recorded:
            events.record_event(step.order, name, by=by, data=step.data)
