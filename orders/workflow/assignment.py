"""Who is handling an order: the rules the transition frame and the team's operations share.

An order has at most one assignee (``Order.assignee``, SPEC §11). It gets one when

- an operator claims it (``team.claim_order``) or a supervisor assigns it (``team.assign_order``);
- someone runs a step on it while nobody has it: the transition frame (``core.transition``)
  calls :func:`take_for_step`, so every step of every path (button, bulk action, script) does.

A step on an order someone else is handling is allowed for a supervisor (who may assign orders:
``orders.assign_order``), and leaves the order with its assignee. Anyone else is refused with
:class:`HandledByOther` unless they say ``take_over=True``, which makes the order theirs; the
screens ask first ("Ana is handling this order; take it over?"). An assignee who can no longer
handle the order (deactivated, no longer of its store, no longer in a role that acts on orders)
does not hold it: the next step simply takes it.

Who may handle an order is asked of ``orders.policy``: an active staff member who holds
``orders.claim_order`` (Operators and Supervisors) and works for the order's store.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from shopops.errors import Refused

from .. import policy
from ..models import Order
from ..people import person
from ..selectors.queues import FINISHED  # an order in these needs nobody: never claimed or assigned

CLAIM_PERMISSION = "orders.claim_order"
ASSIGN_PERMISSION = "orders.assign_order"


class HandledByOther(Refused):
    """Someone else is handling the order; the caller may take it over (``take_over=True``)."""

    def __init__(self, message: str, *, assignee: AbstractBaseUser):
        super().__init__(message)
        self.assignee = assignee


def may_handle(user: AbstractBaseUser | None, order: Order) -> bool:
    """May ``user`` be the one handling ``order`` (the policy: role and store)?"""
    return (
        user is not None
        and user.is_active
        and getattr(user, "is_staff", False)
        and policy.may(user, CLAIM_PERMISSION, order)
    )


def is_supervisor_of(user: AbstractBaseUser | None, order: Order) -> bool:
    """May ``user`` hand ``order`` to people (and so act on it whoever has it)?"""
    return user is not None and policy.may(user, ASSIGN_PERMISSION, order)


def handled_by_other(order: Order, holder: AbstractBaseUser) -> HandledByOther:
    return HandledByOther(
        _("%(person)s is handling order %(order)s; take it over to go on.")
        % {"person": person(holder), "order": order},
        assignee=holder,
    )


def holder_for(order: Order, by: AbstractBaseUser | None) -> AbstractBaseUser | None:
    """The colleague whose order this is, as far as ``by`` is concerned: the assignee, when it is
    someone other than ``by`` who can still handle it and ``by`` is no supervisor of it; else None.
    The screens ask it to know whether to ask "take it over?" before the step."""
    if by is None or order.assignee_id is None or order.assignee_id == by.pk:
        return None
    if order.status in FINISHED or is_supervisor_of(by, order):
        return None
    holder = order.assignee
    return holder if may_handle(holder, order) else None


def take_for_step(order: Order, by: AbstractBaseUser | None, *, take_over: bool) -> dict[str, Any]:
    """Before a step on the locked ``order`` by ``by``: claim it when nobody has it, take it over
    when asked, refuse (:class:`HandledByOther`) when it is a colleague's. Sets ``order.assignee``
    in memory (the step's save writes it) and returns what the step's history event says of it."""
    if by is None or order.assignee_id == by.pk:
        return {}
    if order.assignee_id is None:
        if not may_handle(by, order):
            return {}
        order.assignee = by
        return {"assignee": by.get_username()}
    previous = order.assignee
    if may_handle(previous, order):
        if is_supervisor_of(by, order):
            return {}  # a supervisor's step: the order stays with its assignee
        if not take_over:
            raise handled_by_other(order, previous)
    if not may_handle(by, order):
        return {}
    order.assignee = by
    return {"assignee": by.get_username(), "took_over_from": previous.get_username()}
