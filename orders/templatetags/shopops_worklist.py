"""``{% shopops_worklist as items %}``: the work waiting, for the admin index.

Each item is a count from the selector that also drives the list filter it links to, so the
number on the index and the rows behind the link always agree. An item is offered to a user only
when they may view its list and can act on what it lists: each names the permissions that work
its rows (:attr:`Line.work`: the steps of the orders it lists, marking a refund received,
working a follow-up), and ``orders.policy`` says whether the user holds one. The counts are of
the user's stores only (each selector takes the user). The supervisor's queues
(``orders.selectors.queues``) follow, each with the age of its oldest order, offered likewise to
the users who may run the step that works the queue. "Mine" comes first
(``orders.selectors.queues.mine``): the orders the user is handling, and the ones whose next step
is theirs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django import template
from django.conf import settings
from django.db.models import QuerySet
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from orders import policy, selectors
from orders.models import RefundDirection, Status
from orders.selectors import queues
from orders.transitions import TRANSITIONS
from orders.workflow.feedback import FOLLOWUP_PERMISSION

register = template.Library()


@dataclass(frozen=True)
class WorkItem:
    key: str
    label: str
    count: int
    url: str | None
    oldest: datetime | None = None  # queues: since when the oldest order has been waiting
    age: str = ""  # queues: how long that is, in words


@dataclass(frozen=True)
class Line:
    """One line of the worklist: what it counts, the list it links to, and who it is for."""

    key: str
    label: str
    select: Callable[[datetime, Any], QuerySet]  # (now, user) → the rows, of the user's stores
    view: str  # the permission to see the list it links to
    url_name: str
    query: str
    work: tuple[str, ...]  # the permissions that act on its rows: offered to those who hold one

    def offered_to(self, user: Any) -> bool:
        return policy.may(user, self.view) and policy.may_any(user, self.work)


def _steps_from(*statuses: str) -> tuple[str, ...]:
    """The permissions of the steps an order in ``statuses`` may take next."""
    names = dict.fromkeys(name for status in statuses for name in queues.next_steps(status))
    return tuple(TRANSITIONS[name].permission for name in names)


def _lines() -> list[Line]:
    hours = f"{settings.SHOPOPS_WAITING_ON_BUYER_HOURS:g}"
    refunds = "admin:orders_refund_changelist"
    orders = "admin:orders_order_changelist"
    return [
        Line(
            "supplier_refunds_overdue",
            _("Supplier refunds overdue"),
            selectors.supplier_refunds_overdue,
            "orders.view_refund",
            refunds,
            "overdue=yes",
            # the supplier's answer, recorded on the order (or on its 1688 purchase)
            _steps_from(Status.SUPPLIER_REFUND_PENDING),
        ),
        Line(
            "supplier_refunds_not_arrived",
            _("Supplier refunds not yet arrived (money due to us)"),
            lambda now, user: selectors.refunds_not_arrived(now, user, RefundDirection.FROM_SUPPLIER),
            "orders.view_refund",
            refunds,
            f"not_arrived=yes&direction__exact={RefundDirection.FROM_SUPPLIER}",
            (policy.received_permission(RefundDirection.FROM_SUPPLIER),),
        ),
        Line(
            "buyer_refunds_not_arrived",
            _("Buyer refunds not yet confirmed arrived"),
            lambda now, user: selectors.refunds_not_arrived(now, user, RefundDirection.TO_BUYER),
            "orders.view_refund",
            refunds,
            f"not_arrived=yes&direction__exact={RefundDirection.TO_BUYER}",
            (policy.received_permission(RefundDirection.TO_BUYER),),
        ),
        Line(
            "open_negative_feedback",
            _("Open negative feedback"),
            lambda now, user: selectors.open_negative_feedback(user),
            "orders.view_feedback",
            "admin:orders_feedback_changelist",
            "followup=open",
            (FOLLOWUP_PERMISSION,),
        ),
        Line(
            "unpaid_timing_out",
            _("Unpaid orders about to time out"),
            selectors.unpaid_timing_out_soon,
            "orders.view_order",
            orders,
            "timeout_soon=yes",
            ("orders.send_payment_reminder", *_steps_from(Status.AWAITING_PAYMENT)),
        ),
        Line(
            "waiting_on_buyer",
            _("Waiting on the buyer for more than %(hours)s hours") % {"hours": hours},
            selectors.waiting_on_buyer,
            "orders.view_order",
            orders,
            "waiting_on_buyer=yes",
            _steps_from(*selectors.WAITING_ON_BUYER),
        ),
    ]


def _url(url_name: str, query: str) -> str | None:
    try:
        return f"{reverse(url_name)}?{query}"
    except NoReverseMatch:  # the list is not in this admin: show the count without a link
        return None


def worklist_for(user) -> list[WorkItem]:
    """The worklist items offered to ``user`` (:meth:`Line.offered_to`), with their counts (of
    their stores) at one instant. One query each. First "Mine" (``queues.mine``), for those who
    handle orders."""
    now = timezone.now()
    found = []
    if policy.may(user, "orders.view_order") and policy.may(user, "orders.claim_order"):
        found.append(
            WorkItem(
                key="mine",
                label=_("Mine: orders I handle, and the ones whose next step is mine"),
                count=queues.mine(user).count(),
                url=_url("admin:orders_order_changelist", "mine=yes"),
            )
        )
    for line in _lines():
        if not line.offered_to(user):
            continue
        found.append(
            WorkItem(
                key=line.key,
                label=line.label,
                count=line.select(now, user).count(),
                url=_url(line.url_name, line.query),
            )
        )
    if not policy.may(user, "orders.view_order"):
        return found
    for queue in queues.QUEUES:
        if not policy.may_any(user, queue.permissions):
            continue
        count, oldest = queues.queue_summary(queue, now, user)
        found.append(
            WorkItem(
                key=queue.key,
                label=str(queue.label),
                count=count,
                url=_url("admin:orders_order_changelist", f"queue={queue.key}"),
                oldest=oldest,
                age=timesince(oldest, now, depth=1) if oldest else "",
            )
        )
    return found


@register.simple_tag(takes_context=True)
def shopops_worklist(context) -> list[WorkItem]:
    request = context.get("request")
    if request is None or not getattr(request.user, "is_staff", False):
        return []
    return worklist_for(request.user)
