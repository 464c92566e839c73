"""Buyer feedback and the follow-up of bad ratings.

A rating at or below ``SHOPOPS_FEEDBACK_THRESHOLD`` opens a follow-up (``new``); someone
contacts the buyer (recorded as a communication on the order: ``contacted``) and closes it as
``resolved`` or ``unresolved``. Each step is one operation that locks the feedback, checks the
permission and the state, and writes one ``FeedbackEvent`` row — the follow-up's history:
``opened``, ``assigned``, ``contacted``, ``resolved``, ``unresolved``. Each returns the updated
feedback; the caller's object is left as it was.

Follow-ups worked before the events existed keep their history as text in ``followup_notes``:
:func:`followup_history` shows that text first, then the events.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from evidence import services as evidence
from evidence.models import Counterparty, Direction, Kind
from shopops import inputs
from shopops.errors import OrderChanged, Refused

from .. import policy
from ..models import Feedback, FeedbackEvent, FollowupStatus, Order
from ..people import person
from . import handoffs

# A buyer's clock and ours may differ a little; beyond this, a time in the future is a mistake.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_COMMENT = 5000
FOLLOWUP_PERMISSION = "orders.change_feedback"


def parse_rating(value: object) -> int:
    """A rating from 1 to 5, from an int or its text; refused otherwise."""
    try:
        rating = inputs.quantity(value, "rating", minimum=-(10**30), maximum=10**30)
    except Refused:
        raise Refused(
            _("Rating “%(value)s” is not a whole number from 1 to 5.") % {"value": inputs.shown(value)},
            field="rating",
        ) from None
    if not 1 <= rating <= 5:
        raise Refused(_("Rating %(value)s is outside 1 to 5.") % {"value": rating}, field="rating")
    return rating


def opens_followup(rating: int) -> bool:
    """Whether a rating is low enough to need a follow-up (at or below the threshold)."""
    return rating <= settings.SHOPOPS_FEEDBACK_THRESHOLD


def _event(feedback: Feedback, name: str, by: AbstractBaseUser | None, **data: Any) -> FeedbackEvent:
    return FeedbackEvent.objects.create(
        feedback=feedback,
        name=name,
        actor=by,
        data={k: v for k, v in data.items() if v not in (None, "")},
    )


@transaction.atomic
def record_feedback(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    rating: int | str,
    comment: str = "",
    received_at: datetime | None = None,
) -> Feedback:
    """Record a buyer's rating of an order; a rating at or below the threshold opens a follow-up.

    Refused (nothing written) when the order does not exist, the rating is not 1 to 5, the time is
    naive or in the future, or the same rating at the same time is already recorded. An opened
    follow-up writes an ``opened`` event.
    """
    policy.require(by, "orders.add_feedback", _("record feedback"))
    if not isinstance(order, Order):
        try:
            order = Order.objects.get(pk=inputs.quantity(order, "order", maximum=inputs.MAX_ID))
        except (Order.DoesNotExist, Refused):
            raise Refused(
                _("Order %(order)s does not exist.") % {"order": inputs.shown(order)}, field="order"
            ) from None
    value = parse_rating(rating)
    now = timezone.now()
    if received_at is None or received_at == "":
        when = now
    else:
        if isinstance(received_at, datetime) and timezone.is_naive(received_at):
            raise Refused(
                _("Give the time the feedback was received with its time zone."), field="received_at"
            )
        when = inputs.moment(received_at, "received_at", label=_("Received at"), skew=FUTURE_TOLERANCE)
    comment = inputs.text(comment, "comment", label=_("Comment"), max_length=MAX_COMMENT, multiline=True)
    feedback = Feedback(order=order, rating=value, comment=comment, received_at=when)
    if opens_followup(value):
        feedback.open_followup(now)
    try:
        with transaction.atomic():
            feedback.save()
    except IntegrityError:
        raise Refused(
            _("A %(rating)d-star rating received at that time is already recorded for order %(order)s.")
            % {"rating": value, "order": order.platform_order_id},
            field="received_at",
        ) from None
    if feedback.followup_status == FollowupStatus.NEW:
        _event(feedback, "opened", by, rating=value)
    return feedback


def _lock(feedback: Feedback | int, by: AbstractBaseUser | None, doing: str) -> Feedback:
    """The feedback, locked; refused if someone else moved the caller's copy on meanwhile."""
    policy.require(by, "orders.change_feedback", doing)
    try:
        pk = (
            feedback.pk
            if isinstance(feedback, Feedback)
            else inputs.quantity(feedback, "feedback", maximum=inputs.MAX_ID)
        )
        rows = policy.scope(by, Feedback.objects.select_for_update().select_related("order"))
        locked = rows.get(pk=pk)
    except (Feedback.DoesNotExist, Refused):
        raise Refused(_("Feedback %(pk)s does not exist.") % {"pk": inputs.shown(feedback)}) from None
    if isinstance(feedback, Feedback) and feedback.followup_status != locked.followup_status:
        raise OrderChanged(
            _("Someone else moved this follow-up to “%(status)s” meanwhile.")
            % {"status": locked.get_followup_status_display()}
        )
    return locked


def _check(feedback: Feedback, name: str, doing: str) -> None:
    if not can_proceed(getattr(feedback, name)):
        raise Refused(
            _("You cannot %(doing)s: the follow-up is “%(status)s”.")
            % {"doing": doing, "status": feedback.get_followup_status_display()}
        )


def followup_assignees(feedback: Feedback):
    """The people a follow-up may go to: who may work it (``orders.change_feedback``: Operators and
    Supervisors, not Finance or Analysts) on its order's store, asked of ``orders.policy``."""
    return policy.people_who_may(FOLLOWUP_PERMISSION, feedback.order.store_id).order_by("username")


@transaction.atomic
def assign_followup(
    feedback: Feedback | int, *, by: AbstractBaseUser | None, assignee: AbstractBaseUser | None
) -> Feedback:
    """Give an open follow-up to someone who may work it (or to nobody). Writes an ``assigned``
    event, and tells the assignee (``handoffs.followup_assigned``: email and team chat, after commit).

    Refused unless the assignee may work follow-ups of the order's store (:func:`followup_assignees`).
    """
    # Assigning is no move: the caller's copy being a step behind does not matter.
    locked = _lock(feedback.pk if isinstance(feedback, Feedback) else feedback, by, _("assign follow-ups"))
    if locked.followup_status not in (FollowupStatus.NEW, FollowupStatus.CONTACTED):
        raise Refused(_("Only an open follow-up can be assigned."))
    if assignee is not None and not (
        isinstance(assignee, AbstractBaseUser) and getattr(assignee, "is_staff", False)
    ):
        raise Refused(_("Follow-ups go to staff members."), field="assignee")
    if assignee is not None and not followup_assignees(locked).filter(pk=assignee.pk).exists():
        raise Refused(
            _(
                "%(person)s cannot work follow-ups of store %(store)s: give it to an operator or a "
                "supervisor of it."
            )
            % {"person": person(assignee), "store": locked.order.store.code},
            field="assignee",
        )
    locked.assignee = assignee
    locked.save(update_fields=["assignee"])
    _event(
        locked,
        "assigned",
        by,
        assignee_id=assignee.pk if assignee else None,
        assignee=assignee.get_username() if assignee else None,
    )
    if assignee is not None and (by is None or assignee.pk != by.pk):
        handoffs.followup_assigned(locked, assignee, at=timezone.now())
    return locked


@transaction.atomic
def contact_buyer(
    feedback: Feedback | int,
    *,
    by: AbstractBaseUser | None,
    channel: str,
    summary: str,
    body: str = "",
    note: str = "",
) -> Feedback:
    """``new → contacted``: record the message to the buyer as a communication on the order.

    The follow-up goes to ``by`` if nobody had it. Refused unless the follow-up is new. Writes a
    ``contacted`` event.
    """
    doing = _("record contacting the buyer")
    policy.require(by, "orders.change_feedback", doing)
    note = inputs.text(note, "note", max_length=2000, multiline=True)
    locked = _lock(feedback, by, doing)
    _check(locked, "mark_contacted", doing)
    communication = evidence.record_communication(
        locked.order,
        by=by,
        counterparty=Counterparty.BUYER,
        channel=channel,
        direction=Direction.OUTBOUND,
        kind=Kind.MESSAGE,
        summary=summary,
        body=body,
    )
    locked.mark_contacted()
    if locked.assignee_id is None and by is not None:
        locked.assignee = by
    locked.save(update_fields=["followup_status", "assignee"])
    _event(
        locked,
        "contacted",
        by,
        summary=communication.summary,
        channel=channel,
        note=note,
        communication_id=getattr(communication, "pk", None),
    )
    return locked


def _finish(feedback: Feedback | int, *, by, note: str, name: str, doing: str, event: str) -> Feedback:
    policy.require(by, "orders.change_feedback", doing)
    note = inputs.text(
        note,
        "note",
        max_length=2000,
        multiline=True,
        required=True,
        message=_("Write a note saying how it ended."),
    )
    locked = _lock(feedback, by, doing)
    _check(locked, name, doing)
    getattr(locked, name)(timezone.now())
    locked.save(update_fields=["followup_status", "followup_closed_at"])
    _event(locked, event, by, note=note)
    return locked


@transaction.atomic
def resolve_followup(feedback: Feedback | int, *, by: AbstractBaseUser | None, note: str) -> Feedback:
    """``contacted → resolved``: the buyer's problem is solved. A note is required."""
    return _finish(
        feedback, by=by, note=note, name="resolve", doing=_("resolve this follow-up"), event="resolved"
    )


@transaction.atomic
def mark_followup_unresolved(feedback: Feedback | int, *, by: AbstractBaseUser | None, note: str) -> Feedback:
    """``contacted → unresolved``: we tried and could not help. A note is required."""
    return _finish(
        feedback,
        by=by,
        note=note,
        name="mark_unresolved",
        doing=_("close this follow-up"),
        event="unresolved",
    )


def can_take(feedback: Feedback, action: str) -> bool:
    """Whether the follow-up step ``action`` (a key of ``FOLLOWUP_ACTIONS``) fits its state now."""
    name = {"contact": "mark_contacted", "resolve": "resolve", "unresolved": "mark_unresolved"}[action]
    return can_proceed(getattr(feedback, name))


FOLLOWUP_ACTIONS = {
    # name: (operation, label, needs a channel and summary)
    "contact": (contact_buyer, _("Record contacting the buyer"), True),
    "resolve": (resolve_followup, _("Mark resolved"), False),
    "unresolved": (mark_followup_unresolved, _("Mark unresolved"), False),
}


# --- the history ----------------------------------------------------------------------------------


def describe(event: FeedbackEvent) -> str:
    """One event as the history shows it, in the active language."""
    data = event.data
    if event.name == "opened":
        return _("Follow-up opened for a %(rating)s-star rating.") % {"rating": data.get("rating", "?")}
    if event.name == "assigned":
        return _("Assigned to %(who)s.") % {"who": data.get("assignee") or _("nobody")}
    if event.name == "contacted":
        text = _("Buyer contacted: %(summary)s") % {"summary": data.get("summary", "")}
        return f"{text}\n{data['note']}" if data.get("note") else text
    if event.name in ("resolved", "unresolved"):
        label = _("Resolved") if event.name == "resolved" else _("Unresolved")
        return f"{label}: {data.get('note', '')}"
    return event.name


def followup_history(feedback: Feedback) -> str:
    """The follow-up's history as dated lines: the old text notes, then one line per event."""
    lines = [feedback.followup_notes] if feedback.followup_notes else []
    for event in feedback.events.select_related("actor").order_by("created_at", "pk"):
        who = event.actor.get_username() if event.actor is not None else _("system")
        lines.append(f"[{timezone.localtime(event.created_at):%Y-%m-%d %H:%M} {who}] {describe(event)}")
    return "\n".join(lines)
