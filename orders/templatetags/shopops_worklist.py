"""``{% shopops_worklist as items %}``: the work waiting, for the admin index.

Each item is a count from the selector that also drives the list filter it links to, so the
number on the index and the rows behind the link always agree. A user sees only the items whose
list they may view, and counts only the rows of their stores (each selector takes the user). The
supervisor's queues (``orders.selectors.queues``) follow, each with the age of its oldest order,
shown to the users who may run the step that works the queue. "Mine" comes first
(``orders.selectors.queues.mine``): the orders the user is handling, and the ones whose next step
is theirs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django import template
from django.conf import settings
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.timesince import timesince
from django.utils.translation import gettext as _

from orders import selectors
from orders.selectors import queues

register = template.Library()


@dataclass(frozen=True)
class WorkItem:
    key: str
    label: str
    count: int
    url: str | None
    oldest: datetime | None = None  # queues: since when the oldest order has been waiting
    age: str = ""  # queues: how long that is, in words


# key, label, selector (now, user), permission needed to see the list, admin list, filter query.
def _items():
    hours = f"{settings.SHOPOPS_WAITING_ON_BUYER_HOURS:g}"
    return [
        (
            "supplier_refunds_overdue",
            _("Supplier refunds overdue"),
            selectors.supplier_refunds_overdue,
            "orders.view_refund",
            "admin:orders_refund_changelist",
            "overdue=yes",
        ),
        (
            "refunds_not_arrived",
            _("Refunds not yet arrived"),
            selectors.refunds_not_arrived,
            "orders.view_refund",
            "admin:orders_refund_changelist",
            "not_arrived=yes",
        ),
        (
            "open_negative_feedback",
            _("Open negative feedback"),
            lambda now, user: selectors.open_negative_feedback(user),
            "orders.view_feedback",
            "admin:orders_feedback_changelist",
            "followup=open",
        ),
        (
            "unpaid_timing_out",
            _("Unpaid orders about to time out"),
            selectors.unpaid_timing_out_soon,
            "orders.view_order",
            "admin:orders_order_changelist",
            "timeout_soon=yes",
        ),
        (
            "waiting_on_buyer",
            _("Waiting on the buyer for more than %(hours)s hours") % {"hours": hours},
            selectors.waiting_on_buyer,
            "orders.view_order",
            "admin:orders_order_changelist",
            "waiting_on_buyer=yes",
        ),
    ]


def _url(url_name: str, query: str) -> str | None:
    try:
        return f"{reverse(url_name)}?{query}"
    except NoReverseMatch:  # the list is not in this admin: show the count without a link
        return None


def worklist_for(user) -> list[WorkItem]:
    """The worklist items ``user`` may see, with their counts (of their stores) at one instant.
    One query each. First "Mine" (``queues.mine``), for those who handle orders."""
    now = timezone.now()
    found = []
    if user.has_perm("orders.view_order") and user.has_perm("orders.claim_order"):
        found.append(
            WorkItem(
                key="mine",
                label=_("Mine: orders I handle, and the ones whose next step is mine"),
                count=queues.mine(user).count(),
                url=_url("admin:orders_order_changelist", "mine=yes"),
            )
        )
    for key, label, selector, perm, url_name, query in _items():
        if not user.has_perm(perm):
            continue
        found.append(
            WorkItem(key=key, label=label, count=selector(now, user).count(), url=_url(url_name, query))
        )
    if not user.has_perm("orders.view_order"):
        return found
    for queue in queues.QUEUES:
        if not user.has_perm(queue.permission):
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
