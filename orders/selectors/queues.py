"""Hand-offs: the supervisor's queues, who an order waits on, and the orders waiting on a user.

A queue is the orders waiting for one kind of step that only some users may run (confirm a
refund, resolve a dispute, ...). The admin index counts each queue with ``queue_summary`` and
links to the order list filtered by ``queue=<key>`` (``orders.admin.filters.QueueFilter``);
both read ``Queue.select``, so the count and the rows behind the link agree. Every queue is
of one user's stores (``orders.policy``): ``select(now, user)`` counts nothing of another store.

Who may run a step comes from its declaration (``orders/transitions.py``): the step belongs to
the first group it names (the Operator for the Operator's steps, which a Supervisor may also
run; the Supervisor for the Supervisor's own). Which steps an order may take next comes from
the model's django-fsm rules.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cache
from typing import Any

from django.db.models import Count, Exists, Min, OuterRef, Q, QuerySet
from django.utils.translation import gettext_lazy as _

from evidence.models import Communication, Counterparty, Direction, Kind

from .. import policy
from ..models import (
    DisputeWith,
    FilingStatus,
    Order,
    PlatformRefund,
    Refund,
    RefundDirection,
    RefundStatus,
    Status,
)
from ..transitions import TRANSITIONS

# A supplier answer is "due" from this long before its respond-by deadline.
SUPPLIER_ANSWER_DUE_WITHIN = timedelta(hours=24)


def _with_requested_refund(direction: str, **conditions: Any) -> Exists:
    return Exists(
        Refund.objects.filter(
            order=OuterRef("pk"), direction=direction, status=RefundStatus.REQUESTED, **conditions
        )
    )


def _orders(user: Any) -> QuerySet[Order]:
    """The orders of ``user``'s stores (``None``: the system, every store)."""
    return policy.scope(user, Order.objects.all())


def refunds_to_confirm(now: datetime, user: Any) -> QuerySet[Order]:
    """Orders whose buyer refund was applied for (or is with platform support), not yet confirmed."""
    return _orders(user).filter(
        _with_requested_refund(RefundDirection.TO_BUYER),
        status__in=(Status.REFUND_PENDING, Status.ESCALATED),
    )


def escalations_open(now: datetime, user: Any) -> QuerySet[Order]:
    """Orders with platform support: the supervisor confirms the refund when support has acted."""
    return _orders(user).filter(status=Status.ESCALATED)


def returns_to_claim(now: datetime, user: Any) -> QuerySet[Order]:
    """Returns received and inspected whose refund has not been asked of the supplier yet."""
    return _orders(user).filter(status=Status.RETURN_RECEIVED)


def supplier_answered() -> Exists:
    """The supplier answered since the order began waiting for it: a communication with the
    supplier recorded since then that is theirs (a message from them) or an answer (its consent or
    refusal, however recorded). Our reminders to the supplier are not answers. The answer itself
    is then recorded by the Supervisor's step (``record_supplier_approval`` / ``_refusal``)."""
    return Exists(
        Communication.objects.filter(
            Q(direction=Direction.INBOUND) | Q(kind__in=(Kind.CONSENT, Kind.REFUSAL)),
            order=OuterRef("pk"),
            counterparty=Counterparty.SUPPLIER,
            recorded_at__gte=OuterRef("status_changed_at"),
        )
    )


def supplier_answers(now: datetime, user: Any) -> QuerySet[Order]:
    """Orders awaiting the supplier whose answer is work now: the supplier answered (early or
    not: :func:`supplier_answered`), or its answer is due within ``SUPPLIER_ANSWER_DUE_WITHIN``
    or overdue (the pending supplier refund's respond-by deadline)."""
    due = _with_requested_refund(
        RefundDirection.FROM_SUPPLIER, respond_by__lte=now + SUPPLIER_ANSWER_DUE_WITHIN
    )
    return _orders(user).filter(due | supplier_answered(), status=Status.SUPPLIER_REFUND_PENDING)


def _supplier_dispute() -> Q:
    """The dispute is the supplier's: recorded so, or (an order that got there before it was
    recorded) a supplier refund was refused (``selectors.purchase.dispute_with``)."""
    return Q(dispute_with=DisputeWith.SUPPLIER) | Q(
        Exists(
            Refund.objects.filter(
                order=OuterRef("pk"), direction=RefundDirection.FROM_SUPPLIER, status=RefundStatus.REJECTED
            )
        ),
        dispute_with="",
    )


def buyer_disputes_to_resolve(now: datetime, user: Any) -> QuerySet[Order]:
    """Orders in a buyer's dispute on AliExpress, waiting for its outcome to be recorded."""
    return _orders(user).filter(status=Status.DISPUTED).exclude(_supplier_dispute())


def supplier_disputes_to_resolve(now: datetime, user: Any) -> QuerySet[Order]:
    """Orders in a dispute with the supplier on 1688 (after its refusal), waiting for its outcome."""
    return _orders(user).filter(_supplier_dispute(), status=Status.DISPUTED)


def purchase_refunds_open(now: datetime, user: Any) -> QuerySet[Order]:
    """Closed sales whose 1688 purchase still waits for the supplier's answer to a refund (a
    cancellation on 1688 answered after the buyer's refund went through)."""
    return _orders(user).filter(_with_requested_refund(RefundDirection.FROM_SUPPLIER), status=Status.CLOSED)


def _with_platform_refund(**conditions: Any) -> Exists:
    return Exists(PlatformRefund.objects.filter(order=OuterRef("pk"), **conditions))


def platform_waits_on_us(now: datetime, user: Any) -> QuerySet[Order]:
    """Orders whose 1688 refund request waits for us: the supplier refused (modify it or
    escalate), agreed to a return (send the goods back), or 1688 closed it without a refund."""
    return _orders(user).filter(_with_platform_refund(action__gt=""))


def refund_filings_failed(now: datetime, user: Any) -> QuerySet[Order]:
    """Orders whose refund request Shopops could not file on 1688 (its words on the order page)."""
    return _orders(user).filter(_with_platform_refund(filing=FilingStatus.FAILED))


@dataclass(frozen=True)
class Queue:
    key: str  # the list filter's value: /admin/orders/order/?queue=<key>
    label: Any  # lazy text
    step: str  # the transition that works the queue: who holds its permission sees the queue
    # (now, user) → the queue's orders of the user's stores (user None: the system, every store)
    select: Callable[[datetime, Any], QuerySet[Order]]

    @property
    def permission(self) -> str:
        return TRANSITIONS[self.step].permission

    @property
    def permissions(self) -> tuple[str, ...]:
        """Who holds one of these can work the queue: it is offered to them (``policy.may_any``)."""
        return (self.permission,)


QUEUES: tuple[Queue, ...] = (
    Queue("refunds_to_confirm", _("Refunds to confirm"), "confirm_refund", refunds_to_confirm),
    Queue("escalations_open", _("Escalations open with support"), "confirm_refund", escalations_open),
    Queue(
        "returns_to_claim",
        _("Returns received, supplier not asked yet"),
        "request_supplier_refund",
        returns_to_claim,
    ),
    Queue(
        "supplier_answers",
        _("Supplier answers: received, due or overdue"),
        "record_supplier_approval",
        supplier_answers,
    ),
    Queue(
        "purchase_refunds_open",
        _("1688 purchase refunds waiting, sale closed"),
        "record_supplier_approval",
        purchase_refunds_open,
    ),
    Queue(
        "platform_waits_on_us",
        _("1688 waits for us: modify a refused request, or send the goods back"),
        "record_supplier_approval",
        platform_waits_on_us,
    ),
    Queue(
        "refund_filings_failed",
        _("1688 refund requests that failed"),
        "request_supplier_refund",
        refund_filings_failed,
    ),
    Queue(
        "buyer_disputes_to_resolve",
        _("Buyer disputes to resolve (AliExpress)"),
        "resolve_dispute",
        buyer_disputes_to_resolve,
    ),
    Queue(
        "supplier_disputes_to_resolve",
        _("Supplier disputes to resolve (1688, in CNY)"),
        "resolve_dispute",
        supplier_disputes_to_resolve,
    ),
)
QUEUES_BY_KEY = {queue.key: queue for queue in QUEUES}


def queue_summary(queue: Queue, now: datetime, user: Any) -> tuple[int, datetime | None]:
    """How many orders of ``user``'s stores are in the queue and since when the oldest has been in
    its state. One query."""
    found = queue.select(now, user).aggregate(count=Count("pk"), oldest=Min("status_changed_at"))
    return found["count"], found["oldest"]


# --- who an order waits on --------------------------------------------------------------------


@cache
def _sources() -> dict[str, frozenset[str]]:
    """Each transition's source statuses, from the model's django-fsm rules."""
    found: dict[str, set[str]] = {}
    for rule in Order._meta.get_field("status").get_all_transitions(Order):
        found.setdefault(rule.name, set()).add(rule.source)
    return {name: frozenset(statuses) for name, statuses in found.items()}


def next_steps(status: str) -> list[str]:
    """The transitions an order in ``status`` may take next, in the order of the declarations."""
    return [name for name in TRANSITIONS if status in _sources().get(name, ())]


def step_owner(name: str) -> str:
    """The group whose job the step is: the first group its declaration names."""
    return TRANSITIONS[name].groups[0]


def steps_waiting_on(user: Any) -> list[str]:
    """The transitions that are this user's job.

    A step is the user's when the user may run it and either its owner is one of the user's
    groups or none of its groups is (a superuser, a permission given to the user directly). A
    Supervisor may run the Operator's steps too, but they are the Operator's job.
    """
    if not user.is_active:
        return []
    groups = set(user.groups.values_list("name", flat=True))
    return [
        name
        for name, declared in TRANSITIONS.items()
        if user.has_perm(declared.permission)
        and (step_owner(name) in groups or not groups.intersection(declared.groups))
    ]


def statuses_waiting_on(user: Any) -> list[str]:
    """The statuses in which an order's next step is this user's job (``steps_waiting_on``)."""
    sources = _sources()
    mine = steps_waiting_on(user)
    return [status for status in Status.values if any(status in sources.get(n, ()) for n in mine)]


def waiting_on_condition(user: Any) -> Q:
    """The condition of :func:`waiting_on`, for a list that already has its queryset."""
    # A user with no step of their own: "IN ()" would be no SQL at all, which the list's
    # paginator cannot EXPLAIN on PostgreSQL; no order has the empty status.
    return Q(status__in=statuses_waiting_on(user) or [""]) & policy.store_condition(user, Order)


def waiting_on(user: Any) -> QuerySet[Order]:
    """Orders of the user's stores whose next step is this user's job. Closed and completed
    orders have none."""
    return Order.objects.filter(waiting_on_condition(user))


# --- "Mine": the orders a user is handling, and the ones whose next step is theirs ---------------

# An order in these needs nobody: it is never "mine" (orders.workflow.assignment.FINISHED).
FINISHED = (Status.CLOSED, Status.COMPLETED)
# Orders in these wait on the buyer or the carrier, not on us: an unpaid order (the platform's
# import marks it paid, the timeout closes it), a shipped one (the import completes it). They are in
# nobody's pool, only in their assignee's "Mine".
NOT_POOLED = (Status.AWAITING_PAYMENT, Status.SHIPPED)


def mine_statuses(user: Any) -> tuple[list[str], list[str]]:
    """The statuses whose next step is ``user``'s job (:func:`statuses_waiting_on`), in two kinds:
    ``pooled`` — the team's pool, "mine" while nobody is handling the order (an operator's
    steps) — and ``group`` — steps only a supervisor may take, "mine" whoever handles the order
    (its operator assignee cannot take them)."""
    sources = _sources()
    steps = steps_waiting_on(user)
    pooled, group = [], []
    for status in Status.values:
        if status in FINISHED:
            continue
        mine = [name for name in steps if status in sources.get(name, ())]
        if not mine:
            continue
        if all(TRANSITIONS[name].supervisor for name in mine):
            group.append(status)
        elif status not in NOT_POOLED:
            pooled.append(status)
    return pooled, group


def mine_condition(user: Any) -> Q:
    """The condition of :func:`mine`, for a list that already has its queryset."""
    pooled, group = mine_statuses(user)
    condition = Q(assignee_id=user.pk) & ~Q(status__in=FINISHED)
    if pooled:
        condition |= Q(assignee__isnull=True, status__in=pooled)
    if group:
        condition |= Q(status__in=group)
    return condition & policy.store_condition(user, Order)


def mine(user: Any) -> QuerySet[Order]:
    """ "Mine" (the index and the order list): the open orders of the user's stores assigned to
    them, the unassigned ones whose next step is theirs, and the ones waiting on a step only a
    supervisor may take, for a supervisor."""
    return Order.objects.filter(mine_condition(user))
