"""Hand-offs that reach people: when work waits on a group, the people who can do it are told.

What is handed off (``HandoffKind``), and to whom:

- an order enters a status whose next step is another group's (:data:`ON_ENTRY`: a refund to
  confirm, a return to claim from the supplier, a dispute to resolve) — told by the transition
  frame (``core.transition``) in the step's own transaction, so every path tells;
- a supplier's answer comes due (its respond-by deadline within
  ``selectors.queues.SUPPLIER_ANSWER_DUE_WITHIN``, or past) — told by the periodic pass
  ``orders.jobs.hand_off_supplier_answers`` (``team.hand_off_supplier_answers``);
- a feedback follow-up is given to someone (``feedback.assign_followup``) — told to them.

The people are those whose job the step is (the first group its declaration names, as
``selectors.queues.step_owner`` says) and whom ``orders.policy`` lets run it on the order's store
(``policy.people_who_may``: the role and the store). When the order's assignee may run it, only
the assignee is told. Superusers outside the group are administrators, not team members: not told.

How: one email to each person (``template`` ``staff_handoff``), and one message in the team's chat
(``SHOPOPS_STAFF_WEBHOOK_URL``, channel ``webhook``), both outbox rows recorded with the cause and
delivered after commit by the worker, retried, once (a key per cause, person and channel). A
person who chose the daily digest (``StaffPreference``) gets their email ``held``; the daily pass
``orders.jobs.send_staff_digests`` (``team.send_digests``) lists the held ones in one email each.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser, Group
from django.db.models import Exists, OuterRef
from django.urls import reverse

from .. import policy
from ..models import (
    Feedback,
    HandoffDelivery,
    HandoffKind,
    Notification,
    NotificationChannel,
    NotificationTemplate,
    Order,
    Refund,
    StaffPreference,
    Status,
    Store,
)
from ..people import person
from ..transitions import TRANSITIONS
from . import outbox

# An order entering one of these statuses waits on another group: (what waits, the step).
ON_ENTRY: dict[str, tuple[str, str]] = {
    Status.REFUND_PENDING: (HandoffKind.REFUND_TO_CONFIRM, "confirm_refund"),
    Status.RETURN_RECEIVED: (HandoffKind.RETURN_TO_CLAIM, "request_supplier_refund"),
    Status.DISPUTED: (HandoffKind.DISPUTE_TO_RESOLVE, "resolve_dispute"),
}
SUPPLIER_ANSWER_STEP = "record_supplier_approval"
FOLLOWUP_PERMISSION = "orders.change_feedback"
# The chat's row names no person: one message for the whole team.
CHAT_RECIPIENT = "team chat"


def link(path: str) -> str:
    """The address of a back-office page for a message: ``SHOPOPS_SITE_URL`` + ``path``."""
    return f"{settings.SHOPOPS_SITE_URL}{path}"


def order_link(order: Order) -> str:
    return link(reverse("admin:orders_order_change", args=[order.pk]))


# --- who is told -----------------------------------------------------------------------------------


def _owner_group(step: str) -> str:
    return TRANSITIONS[step].groups[0]


def candidates(step: str, store: Store | int):
    """Everyone who may run ``step`` on ``store``'s orders, each marked ``owner`` when the step
    is their group's job, with their preference: one query."""
    in_group = Group.objects.filter(name=_owner_group(step), user=OuterRef("pk"))
    return (
        policy.people_who_may(TRANSITIONS[step].permission, store)
        .select_related("staff_preference")
        .annotate(owner=Exists(in_group))
        .order_by("pk")
    )


def pick(candidates: list, assignee_id: int | None) -> list:
    """The assignee alone when they may run the step; else the candidates whose job it is."""
    if assignee_id is not None:
        mine = [c for c in candidates if c.pk == assignee_id]
        if mine:
            return mine
    return [c for c in candidates if c.owner]


def people_for_step(order: Order, step: str) -> list[AbstractBaseUser]:
    """Who is told that ``order`` waits on ``step`` (see the module's docstring)."""
    return pick(list(candidates(step, order.store_id)), order.assignee_id)


def _preference(user: AbstractBaseUser) -> StaffPreference | None:
    try:
        return user.staff_preference
    except StaffPreference.DoesNotExist:
        return None


def _language(user: AbstractBaseUser) -> str:
    preference = _preference(user)
    return (preference.language if preference else "") or settings.LANGUAGE_CODE


def _digest(user: AbstractBaseUser) -> bool:
    preference = _preference(user)
    return preference is not None and preference.handoffs == HandoffDelivery.DIGEST


def tell(
    key: str,
    people: Iterable[AbstractBaseUser],
    *,
    context: dict[str, Any],
    order: Order | None = None,
    refund: Refund | None = None,
    chat: bool = True,
) -> list[Notification]:
    """Record the hand-off ``key`` (unique per cause): an email to each of ``people`` (held for
    the digest of those who chose it) and, with ``chat``, one message in the team chat. Inside
    the cause's transaction (or ``outbox.recorded_together()``)."""
    people = list(people)
    recorded = []
    for someone in people:
        row = outbox.record(
            key=f"{key}:{someone.pk}:{NotificationChannel.EMAIL}",
            template=NotificationTemplate.STAFF_HANDOFF,
            channel=NotificationChannel.EMAIL,
            recipient=someone.email,
            order=order,
            refund=refund,
            language=_language(someone),
            context={**context, "person": person(someone)},
            held=_digest(someone),
        )
        if row is not None:
            recorded.append(row)
    if chat and settings.SHOPOPS_STAFF_WEBHOOK_URL:
        row = outbox.record(
            key=f"{key}:{NotificationChannel.WEBHOOK}",
            template=NotificationTemplate.STAFF_HANDOFF,
            channel=NotificationChannel.WEBHOOK,
            recipient=CHAT_RECIPIENT,
            order=order,
            refund=refund,
            language=settings.SHOPOPS_STAFF_WEBHOOK_LANGUAGE,
            context={**context, "people": sorted(person(p) for p in people)},
        )
        if row is not None:
            recorded.append(row)
    return recorded


def order_context(order: Order, store: Store, what: str, step: str, since: datetime) -> dict[str, Any]:
    return {
        "what": what,
        "step": step,
        "order_id": order.platform_order_id,
        "store": store.code,
        "store_name": store.name,
        "since": since.isoformat(),
        "link": order_link(order),
    }


# --- an order entering a status that waits on a group ----------------------------------------------


def after_move(order: Order) -> list[Notification]:
    """Called by the transition frame after a step moved ``order`` (locked, in its transaction):
    tell the people of the group it now waits on, if it does. Once per entry into the status."""
    if order.status not in ON_ENTRY:
        return []
    what, step = ON_ENTRY[order.status]
    since = order.status_changed_at
    key = f"handoff:{what}:order:{order.pk}:{since.timestamp():.6f}"
    return tell(
        key,
        people_for_step(order, step),
        context=order_context(order, order.store, what, step, since),
        order=order,
    )


# --- a feedback follow-up given to someone ----------------------------------------------------------


def followup_assigned(feedback: Feedback, assignee: AbstractBaseUser, *, at: datetime) -> list[Notification]:
    """Tell ``assignee`` the follow-up is theirs now (in ``feedback.assign_followup``'s transaction)."""
    order = feedback.order
    context = {
        "what": HandoffKind.FOLLOWUP_ASSIGNED,
        "step": "",
        "order_id": order.platform_order_id,
        "store": order.store.code,
        "store_name": order.store.name,
        "since": at.isoformat(),
        "rating": feedback.rating,
        "link": link(reverse("admin:orders_feedback_change", args=[feedback.pk])),
    }
    return tell(
        f"handoff:{HandoffKind.FOLLOWUP_ASSIGNED}:feedback:{feedback.pk}:{at.timestamp():.6f}",
        [assignee],
        context=context,
        order=order,
    )
