"""Team work (SPEC §11): who handles each order, the periodic hand-offs, each person's choice.

- :func:`claim_order` — an operator takes on an order (``orders.claim_order``);
- :func:`assign_order` — a supervisor gives an order to someone who may handle it
  (``orders.assign_order``; ``to`` must work for the order's store and hold a role that acts
  on orders, asked of ``orders.policy``); :func:`assign_orders` for a bulk reassignment;
- :func:`hand_off_supplier_answers` and :func:`send_digests` — the batch operations of the
  periodic passes ``orders.jobs.hand_off_supplier_answers`` and ``orders.jobs.send_staff_digests``;
- :func:`set_preference` — how a person is told of hand-offs (each, or a daily digest).

Each claim or assignment is one operation on the locked order and writes one history event
(``claim_order``, ``assign_order``). The rules of who holds an order, and the claim a step makes,
are in ``assignment``; who is told of what, in ``handoffs``.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops import inputs
from shopops.errors import Refused

from .. import policy
from ..models import (
    HandoffDelivery,
    HandoffKind,
    Notification,
    NotificationChannel,
    NotificationStatus,
    NotificationTemplate,
    Order,
    StaffPreference,
)
from ..people import person
from ..selectors.due import held_for_digest, supplier_answers_unannounced
from ..transitions import TRANSITIONS
from . import outbox
from .assignment import (
    ASSIGN_PERMISSION,
    CLAIM_PERMISSION,
    FINISHED,
    handled_by_other,
    is_supervisor_of,
    may_handle,
)
from .batches import BatchResult, unique_ids
from .core import operation, status_label
from .handoffs import SUPPLIER_ANSWER_STEP, candidates, order_context, pick, tell

# Digest emails list at most this many hand-offs (all are counted).
DIGEST_LISTED = 100


def _check_open(order: Order) -> None:
    if order.status in FINISHED:
        raise Refused(
            _("Order %(order)s is “%(status)s”: nobody needs to handle it any more.")
            % {"order": order, "status": status_label(order.status)}
        )


def claim_order(order: Order | int, *, by: AbstractBaseUser | None, take_over: bool = False) -> Order:
    """``by`` takes on ``order``: it becomes theirs (``Order.assignee``). One ``claim_order`` event.

    Refused when the order is closed or completed, and when a colleague is handling it
    (``HandledByOther``) unless ``take_over`` or ``by`` may assign orders (a supervisor). Claiming
    an order one already has writes nothing.
    """
    if by is None:
        raise Refused(_("The system does not take on orders: a person does."))
    policy.require(by, CLAIM_PERMISSION, _("take on orders"))
    with operation("claim_order", order, by=by) as t:
        locked = t.order
        _check_open(locked)
        if locked.assignee_id == by.pk:
            return locked
        previous = locked.assignee
        if may_handle(previous, locked) and not take_over and not is_supervisor_of(by, locked):
            raise handled_by_other(locked, previous)
        locked.assignee = by
        locked.save(update_fields=["assignee", "updated_at"])
        t.event(assignee=by.get_username(), previous_assignee=previous.get_username() if previous else "")
    return t.order


def _staff_member(value: Any) -> AbstractBaseUser:
    """The user ``value`` names (a user or its id), or a refusal naming the input."""
    User = get_user_model()
    if isinstance(value, User):
        return value
    pk = inputs.quantity(value, "to", label=_("Handled by"), maximum=inputs.MAX_ID)
    found = User.objects.filter(pk=pk).first()
    if found is None:
        raise Refused(_("There is no staff member %(who)s.") % {"who": inputs.shown(value)}, field="to")
    return found


def _check_assignee(to: AbstractBaseUser, order: Order) -> None:
    """``to`` may handle ``order``: active staff, of its store, in a role that acts on orders."""
    if not (to.is_active and getattr(to, "is_staff", False)):
        raise Refused(
            _("%(person)s is not an active staff member: orders go to people at work.")
            % {"person": person(to)},
            field="to",
        )
    if not policy.works_for(to, order.store_id):
        raise Refused(
            _("%(person)s does not work for store %(store)s, the store of order %(order)s.")
            % {"person": person(to), "store": order.store.code, "order": order},
            field="to",
        )
    if not policy.may(to, CLAIM_PERMISSION, order):
        raise Refused(
            _("%(person)s holds no role that acts on orders (Operator or Supervisor).")
            % {"person": person(to)},
            field="to",
        )


def assign_order(
    order: Order | int, *, by: AbstractBaseUser | None, to: AbstractBaseUser | int | None
) -> Order:
    """A supervisor gives ``order`` to ``to`` (``None``: to nobody). One ``assign_order`` event.

    Refused when the order is closed or completed, and when ``to`` may not handle it (asked of
    ``orders.policy``: an active staff member who works for the order's store and holds a role
    that acts on orders — not Finance, not Analyst). Giving it to whoever has it writes nothing.
    """
    policy.require(by, ASSIGN_PERMISSION, _("assign orders"))
    target = None if to is None or to == "" else _staff_member(to)
    with operation("assign_order", order, by=by) as t:
        locked = t.order
        _check_open(locked)
        if target is not None:
            _check_assignee(target, locked)
        if locked.assignee_id == (target.pk if target else None):
            return locked
        previous = locked.assignee
        locked.assignee = target
        locked.save(update_fields=["assignee", "updated_at"])
        t.event(
            assignee=target.get_username() if target else "",
            previous_assignee=previous.get_username() if previous else "",
        )
    return t.order


def assign_orders(
    orders: Iterable[Order | int], *, by: AbstractBaseUser | None, to: AbstractBaseUser | int | None
) -> tuple[list[Order], list[tuple[Order | int, str]]]:
    """:func:`assign_order` for each of ``orders``, each in its own transaction (one refusal spoils
    no other): the orders done, and the ones refused with why."""
    done: list[Order] = []
    refused: list[tuple[Order | int, str]] = []
    for order in orders:
        try:
            done.append(assign_order(order, by=by, to=to))
        except Refused as exc:
            refused.append((order, exc.message))
    return done, refused


# --- a supplier's answer due: the periodic pass ------------------------------------------------


def hand_off_supplier_answers(
    refund_ids: Iterable[int], *, by: AbstractBaseUser | None, now: datetime | None = None
) -> BatchResult:
    """Tell the people who record the supplier's answer that it is due, once per refund.

    The batch form of a hand-off (``handoffs.tell``), for ``orders.jobs``: the refunds with their
    orders and stores in one query, the people once per store, the outbox rows in one insert
    (``outbox.recorded_together``: a refund told of before is not told again). A refund no longer
    awaiting its supplier, or not due yet, is skipped.
    """
    policy.require(by, TRANSITIONS[SUPPLIER_ANSWER_STEP].permission, _("tell staff of supplier answers due"))
    ids = unique_ids(refund_ids)
    result = BatchResult()
    with transaction.atomic():
        rows = list(
            policy.scope(by, supplier_answers_unannounced(now or timezone.now()))
            .filter(pk__in=ids)
            .select_related("order__store")
        )
        found = {refund.pk for refund in rows}
        result.skipped = [pk for pk in ids if pk not in found]
        people: dict[int, list] = {}
        with outbox.recorded_together():
            for refund in rows:
                order = refund.order
                if order.store_id not in people:
                    people[order.store_id] = list(candidates(SUPPLIER_ANSWER_STEP, order.store_id))
                context = order_context(
                    order,
                    order.store,
                    HandoffKind.SUPPLIER_ANSWER_DUE,
                    SUPPLIER_ANSWER_STEP,
                    refund.requested_at,
                )
                context["respond_by"] = refund.respond_by.isoformat() if refund.respond_by else ""
                tell(
                    f"handoff:{HandoffKind.SUPPLIER_ANSWER_DUE}:refund:{refund.pk}",
                    pick(people[order.store_id], order.assignee_id),
                    context=context,
                    order=order,
                    refund=refund,
                )
                result.done.append(refund.pk)
    return result


# --- the daily digest ---------------------------------------------------------------------------


def send_digests(notification_ids: Iterable[int], *, by: AbstractBaseUser | None) -> BatchResult:
    """One digest email per recipient listing their held hand-offs among ``notification_ids``;
    those are marked ``digested``. One transaction and a constant number of queries: the held
    rows locked (``SKIP LOCKED``: another pass's are skipped), the digests inserted together, the
    held rows updated at once. The system's pass (``by=None``) or a superuser's."""
    if by is not None and not by.is_superuser:
        raise Refused(_("Only the system sends the daily digests."))
    ids = unique_ids(notification_ids)
    result = BatchResult()
    with transaction.atomic():
        rows = list(
            held_for_digest()
            .select_for_update(skip_locked=True)
            .filter(pk__in=ids)
            .order_by("recipient", "pk")
        )
        by_recipient: dict[str, list[Notification]] = {}
        for row in rows:
            by_recipient.setdefault(row.recipient, []).append(row)
        with outbox.recorded_together():
            for recipient, held in by_recipient.items():
                items = [_digest_item(row.context) for row in held]
                outbox.record(
                    key=f"staff_digest:{recipient}:{held[0].pk}-{held[-1].pk}"[:200],
                    template=NotificationTemplate.STAFF_DIGEST,
                    channel=NotificationChannel.EMAIL,
                    recipient=recipient,
                    language=held[-1].language,
                    context={
                        "person": held[-1].context.get("person", ""),
                        "items": items[:DIGEST_LISTED],
                        "total": len(items),
                        "more": max(len(items) - DIGEST_LISTED, 0),
                    },
                )
        Notification.objects.filter(pk__in=[row.pk for row in rows]).update(
            status=NotificationStatus.DIGESTED, sent_at=timezone.now()
        )
        result.done = [row.pk for row in rows]
        done = set(result.done)
        result.skipped = [pk for pk in ids if pk not in done]
    return result


def _digest_item(context: dict[str, Any]) -> dict[str, Any]:
    keep = ("what", "order_id", "store", "store_name", "since", "link", "respond_by")
    return {name: context[name] for name in keep if name in context}


# --- a person's choice ------------------------------------------------------------------------------


@transaction.atomic
def set_preference(*, by: AbstractBaseUser | None, handoffs: str, language: str = "") -> StaffPreference:
    """How ``by`` is told of hand-offs: ``each`` (an email each time) or ``digest`` (one a day),
    and in which language (a code of ``LANGUAGES``; blank: ``LANGUAGE_CODE``). A person sets their
    own; no permission beyond being active staff."""
    if by is None or not by.is_active or not getattr(by, "is_staff", False):
        raise Refused(_("Only a staff member chooses how they are told of hand-offs."))
    handoffs = inputs.choice(handoffs, "handoffs", HandoffDelivery, label=_("Hand-offs by email"))
    codes = ["", *(code for code, _name in settings.LANGUAGES)]
    language = inputs.choice(language or "", "language", codes, label=_("Language"))
    preference, _created = StaffPreference.objects.update_or_create(
        user=by, defaults={"handoffs": handoffs, "language": language, "updated_at": timezone.now()}
    )
    return preference
