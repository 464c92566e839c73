"""Every transition of SPEC section 1/7, table-driven: its success path, and each way it is
refused (wrong source state, missing or invalid input, missing evidence, missing permission),
with nothing written by a refusal."""

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from decimal import Decimal
from typing import Any

import pytest
from django.utils import timezone

from orders import workflow
from orders.models import Order, OrderEvent, Refund, Status
from shopops.errors import NotPermitted, OrderChanged, Refused
from tests.factories import OrderFactory, SupplierOrderFactory, UserFactory, staff
from tests.workflow_support import attach, private_media, say, snapshot  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


def _buyer_refund(order: Order) -> None:
    workflow.create_refund(order, by=None, amount="100.00", idempotency_key=f"consent-{order.pk}")


def _supplier_order(order: Order) -> None:
    SupplierOrderFactory(order=order, amount=Decimal("300.00"))


def _supplier_refund(order: Order) -> None:
    _supplier_order(order)
    workflow.create_refund(
        order, by=None, amount="120.00", idempotency_key=f"supplier-{order.pk}", direction="from_supplier"
    )


@dataclass
class Case:
    """One row of the spec's transition table."""

    name: str
    source: str
    target: str
    group: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    # What the spec says must be recorded first; the "missing evidence" refusal skips it.
    evidence: Callable[[Order], Any] | None = None
    evidence_message: str = ""
    # Other preconditions (a refund waiting, a supplier order) that are not evidence.
    setup: Callable[[Order], Any] | None = None
    # (override of kwargs, the input at fault, the message the operator reads)
    bad_inputs: list[tuple[dict[str, Any], str, str]] = field(default_factory=list)
    order_kwargs: dict[str, Any] = field(default_factory=dict)
    wrong_source: str = Status.COMPLETED


FUTURE = (timezone.now() + timedelta(days=3)).isoformat()

CASES = [
    Case(
        "mark_paid",
        Status.AWAITING_PAYMENT,
        Status.PAID,
        "Operator",
        {"paid_at": None},
        bad_inputs=[
            (
                {"paid_at": "yesterday"},
                "paid_at",
                "paid_at “yesterday” is not a date and time (write it like 2026-03-01 14:30).",
            ),
            (
                {"paid_at": "2026-02-30 10:00"},
                "paid_at",
                "paid_at “2026-02-30 10:00” is not a date and time (write it like 2026-03-01 14:30).",
            ),
            ({"paid_at": FUTURE}, "paid_at", "paid_at cannot be in the future."),
            (
                {"paid_at": "2001-01-01T00:00:00+00:00"},
                "paid_at",
                "paid_at cannot be before the order was placed.",
            ),  # before the order was placed
        ],
    ),
    Case(
        "mark_shipped",
        Status.PAID,
        Status.SHIPPED,
        "Operator",
        {"tracking_number": "LP00123456789CN", "carrier": "Cainiao"},
        bad_inputs=[
            ({"tracking_number": ""}, "tracking_number", "Enter the tracking number."),
            ({"tracking_number": "   "}, "tracking_number", "Enter the tracking number."),
            (
                {"tracking_number": "X" * 65},
                "tracking_number",
                "tracking_number is too long (at most 64 characters).",
            ),
            (
                {"shipped_at": "not a date"},
                "shipped_at",
                "shipped_at “not a date” is not a date and time (write it like 2026-03-01 14:30).",
            ),
        ],
    ),
    Case("mark_completed", Status.SHIPPED, Status.COMPLETED, "Operator"),
    Case(
        "close_unpaid",
        Status.AWAITING_PAYMENT,
        Status.CLOSED,
        "Operator",
        {"reason": "buyer_cancelled"},
        bad_inputs=[
            ({"reason": ""}, "reason", "Choose a close reason."),
            ({"reason": "changed_mind"}, "reason", "“changed_mind” is not a close reason."),
            (
                {"reason": "other", "note": ""},
                "note",
                "Explain in the note why the order closes for “Other”.",
            ),
        ],
    ),
    Case(
        "request_cancellation",
        Status.PAID,
        Status.CANCEL_REQUESTED,
        "Operator",
        evidence=lambda o: say(o),
        evidence_message="Record your message to the buyer",
    ),
    Case(
        "record_buyer_refusal",
        Status.CANCEL_REQUESTED,
        Status.PAID,
        "Operator",
        evidence=lambda o: say(o, kind="refusal"),
        evidence_message="Record the buyer's refusal",
    ),
    Case(
        "record_buyer_consent",
        Status.CANCEL_REQUESTED,
        Status.REFUND_PENDING,
        "Operator",
        {"reason": "out_of_stock", "amount": "40.00"},
        evidence=lambda o: say(o, kind="consent"),
        evidence_message="Record the buyer's consent before closing a paid order",
        bad_inputs=[
            ({"reason": ""}, "reason", "Choose a close reason."),
            ({"reason": "nope"}, "reason", "“nope” is not a close reason."),
            ({"amount": "0"}, "amount", "Refund amount must be more than 0."),
            ({"amount": "-5.00"}, "amount", "Refund amount must be more than 0."),
            ({"amount": "10.005"}, "amount", "Refund amount 10.005 has more than two decimal places."),
            ({"amount": "ten"}, "amount", "Refund amount “ten” is not an amount."),
            (
                {"amount": "100.01"},
                "amount",
                "A refund of 100.01 USD would exceed what was paid by the buyer: "
                "at most 100.00 USD can still be refunded.",
            ),  # more than was paid
        ],
    ),
    Case(
        "escalate_to_support",
        Status.REFUND_PENDING,
        Status.ESCALATED,
        "Supervisor",
        {"reference": "ALI-TICKET-7781"},
        evidence=lambda o: attach(o),
        evidence_message="Attach the evidence",
        setup=_buyer_refund,
        bad_inputs=[
            ({"reference": ""}, "reference", "Enter the platform support ticket reference."),
            ({"reference": "R" * 101}, "reference", "reference is too long (at most 100 characters)."),
        ],
    ),
    Case(
        "confirm_refund",
        Status.REFUND_PENDING,
        Status.CLOSED,
        "Supervisor",
        {"reference": "ALI-REFUND-991"},
        setup=_buyer_refund,
        order_kwargs={"close_reason": "buyer_cancelled"},
        bad_inputs=[({"reference": ""}, "reference", "Enter the platform refund reference.")],
    ),
    Case(
        "propose_return",
        Status.SHIPPED,
        Status.RETURN_REQUESTED,
        "Operator",
        evidence=lambda o: say(o),
        evidence_message="Record your message to the buyer before proposing a return",
    ),
    Case(
        "record_return_refusal",
        Status.RETURN_REQUESTED,
        Status.SHIPPED,
        "Operator",
        evidence=lambda o: say(o, kind="refusal"),
        evidence_message="Record the buyer's refusal",
    ),
    Case(
        "record_return_agreement",
        Status.RETURN_REQUESTED,
        Status.RETURN_IN_TRANSIT,
        "Operator",
        {"reason": "quality_issue", "tracking_number": "RT123CN"},
        evidence=lambda o: say(o, kind="consent"),
        evidence_message="Record the buyer's agreement",
        bad_inputs=[
            ({"reason": ""}, "reason", "Choose a close reason."),
            ({"reason": "other"}, "note", "Explain in the note why the order closes for “Other”."),
        ],
    ),
    Case(
        "receive_return",
        Status.RETURN_IN_TRANSIT,
        Status.RETURN_RECEIVED,
        "Operator",
        {"quantity": 2, "condition": "resellable"},
        order_kwargs={"close_reason": "quality_issue"},
        bad_inputs=[
            ({"quantity": "two"}, "quantity", "Quantity received “two” is not a whole number."),
            ({"quantity": 3}, "quantity", "Quantity received must be between 1 and 2."),  # the order had 2
            (
                {"quantity": 0, "condition": "damaged"},
                "quantity",
                "Quantity received must be between 1 and 2.",
            ),
            (
                {"condition": "broken"},
                "condition",
                "Choose the condition of the returned goods: resellable, damaged or missing.",
            ),
            (
                {"condition": ""},
                "condition",
                "Choose the condition of the returned goods: resellable, damaged or missing.",
            ),
            ({"amount": "0"}, "amount", "Refund amount must be more than 0."),
            (
                {"amount": "100.01"},
                "amount",
                "A refund of 100.01 USD would exceed what was paid by the buyer: "
                "at most 100.00 USD can still be refunded.",
            ),
        ],
    ),
    Case(
        "request_supplier_refund",
        Status.RETURN_RECEIVED,
        Status.SUPPLIER_REFUND_PENDING,
        "Supervisor",
        {"amount": "120.00", "reason": "Defective batch", "reference": "1688-RF-001"},
        setup=_supplier_order,
        order_kwargs={"close_reason": "quality_issue"},
        bad_inputs=[
            ({"amount": ""}, "amount", "Supplier refund amount “” is not an amount."),
            ({"amount": "0"}, "amount", "Supplier refund amount must be more than 0."),
            (
                {"amount": "300.01"},
                "amount",
                "300.01 CNY is more than the 2 unit(s) asked for cost: at most 300.00 CNY "
                "(the purchase's 300.00 CNY for 2 unit(s)).",
            ),  # more than the supplier order
            ({"reason": ""}, "reason", "Say why the supplier should refund."),
            (
                {"reference": ""},
                "reference",
                "Enter the 1688 refund reference (Shopops files the request on 1688 itself only "
                "for a store connected to 1688 whose purchase has its 1688 order id).",
            ),
            (
                {"respond_by": "2020-01-01T00:00:00+00:00"},
                "respond_by",
                "The respond-by deadline must be in the future.",
            ),
            (
                {"respond_by": "next week"},
                "respond_by",
                "respond_by “next week” is not a date and time (write it like 2026-03-01 14:30).",
            ),
        ],
    ),
    Case(
        "close_return",
        Status.RETURN_RECEIVED,
        Status.CLOSED,
        "Supervisor",
        {"note": "Not worth a claim: 2 units, the supplier is far"},
        setup=_supplier_order,
        order_kwargs={"close_reason": "quality_issue"},
        bad_inputs=[
            (
                {"note": ""},
                "note",
                "2 unit(s) not in our stock could still be asked of the supplier: ask for the refund, "
                "or say in the note why not.",
            ),
        ],
    ),
    Case(
        "record_supplier_approval",
        Status.SUPPLIER_REFUND_PENDING,
        Status.CLOSED,
        "Supervisor",
        {"amount": "100.00", "reference": "1688-OK-1"},
        setup=_supplier_refund,
        order_kwargs={"close_reason": "quality_issue"},
        bad_inputs=[
            ({"amount": "120.01"}, "amount", "The approved amount cannot exceed the 120.00 CNY asked for."),
            ({"amount": "-1"}, "amount", "Approved amount must be more than 0."),
        ],
    ),
    Case(
        "record_supplier_refusal",
        Status.SUPPLIER_REFUND_PENDING,
        Status.DISPUTED,
        "Supervisor",
        {"reference": "1688-DSP-5"},
        evidence=lambda o: say(o, kind="refusal", counterparty="supplier"),
        evidence_message="Record the supplier's refusal",
        setup=_supplier_refund,
        order_kwargs={"close_reason": "quality_issue"},
        bad_inputs=[({"reference": ""}, "reference", "Enter the 1688 dispute reference.")],
    ),
    Case(
        "open_buyer_dispute",
        Status.SHIPPED,
        Status.DISPUTED,
        "Operator",
        {"reference": "ALI-DSP-42"},
        bad_inputs=[({"reference": ""}, "reference", "Enter the buyer's dispute reference.")],
    ),
    Case(
        "resolve_dispute",
        Status.DISPUTED,
        Status.CLOSED,
        "Supervisor",
        {"outcome": "partial", "amount": "30.00", "reason": "shipping_issue"},
        bad_inputs=[
            ({"outcome": "draw"}, "outcome", "Choose the outcome: won, partial or lost."),
            ({"outcome": "partial", "amount": ""}, "amount", "Enter the amount of a partial outcome."),
            ({"amount": "-1"}, "amount", "Amount cannot be negative."),
            ({"amount": "100.01"}, "amount", "The amount cannot exceed 100.00 USD."),
            (
                {"reason": ""},
                "reason",
                "Choose the close reason of this dispute.",
            ),  # a buyer dispute with no close reason yet
        ],
    ),
]
IDS = [c.name for c in CASES]


def test_the_table_covers_every_transition_of_the_spec():
    assert [c.name for c in CASES] == list(workflow.TRANSITIONS)


def _prepare(case: Case, *, evidence: bool = True, status: str | None = None) -> Order:
    order = OrderFactory(status=status or case.source, **case.order_kwargs)
    if case.setup and status is None:
        case.setup(order)
    if case.evidence and evidence:
        case.evidence(order)
    return order


def _run(case: Case, order, by, **overrides) -> Order:
    return getattr(workflow, case.name)(order, by=by, **{**case.kwargs, **overrides})


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_success_moves_the_order_and_writes_one_event(case: Case):
    # given
    user = staff(case.group)
    order = _prepare(case)
    events_before = OrderEvent.objects.filter(order=order).count()

    # when
    result = _run(case, order, user)

    # then
    fresh = Order.objects.get(pk=order.pk)
    assert result.status == fresh.status == case.target
    new_events = OrderEvent.objects.filter(order=order).order_by("pk")[events_before:]
    assert len(new_events) == 1
    event = new_events[0]
    assert (event.transition, event.from_status, event.to_status, event.actor) == (
        case.name,
        case.source,
        case.target,
        user,
    )
    if case.target == Status.CLOSED:
        assert fresh.close_reason and fresh.closed_at and fresh.closed_by == user and fresh.outcome


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_the_system_may_run_every_transition(case: Case):
    order = _prepare(case)
    _run(case, order, None)
    event = OrderEvent.objects.get(order=order, transition=case.name)
    assert event.actor is None
    assert Order.objects.get(pk=order.pk).status == case.target


@pytest.mark.parametrize("case", CASES, ids=IDS)
def test_refused_from_the_wrong_state_and_nothing_changes(case: Case):
    order = _prepare(case, status=case.wrong_source)
    before = snapshot(order)

    with pytest.raises(Refused) as refused:
        _run(case, order.pk, staff(case.group))

    assert "is not possible" in str(refused.value)
    assert "Completed" in str(refused.value)
    assert not isinstance(refused.value, NotPermitted)
    assert snapshot(order) == before


@pytest.mark.parametrize(
    ("case", "override", "field_name", "message"),
    [(c, o, f, m) for c in CASES for o, f, m in c.bad_inputs],
    ids=[f"{c.name}-{f}-{i}" for c in CASES for i, (_o, f, _m) in enumerate(c.bad_inputs)],
)
def test_refused_for_missing_or_invalid_input_and_nothing_changes(case: Case, override, field_name, message):
    order = _prepare(case)
    before = snapshot(order)

    with pytest.raises(Refused) as refused:
        _run(case, order, staff(case.group), **override)

    assert refused.value.field == field_name, str(refused.value)
    assert str(refused.value) == message
    assert snapshot(order) == before


@pytest.mark.parametrize("case", [c for c in CASES if c.evidence], ids=[c.name for c in CASES if c.evidence])
def test_refused_without_the_required_evidence_and_nothing_changes(case: Case):
    order = _prepare(case, evidence=False)
    before = snapshot(order)

    with pytest.raises(Refused) as refused:
        _run(case, order, staff(case.group))

    assert case.evidence_message in str(refused.value)
    assert snapshot(order) == before


def _lacking(case: Case) -> list[tuple[Case, list[str] | None]]:
    rows = [(case, []), (case, ["Finance"]), (case, ["Analyst"])]
    if case.group == "Supervisor":
        rows.append((case, ["Operator"]))
    return rows


PERMISSION_ROWS = [row for c in CASES for row in _lacking(c)]


@pytest.mark.parametrize(
    ("case", "groups"),
    PERMISSION_ROWS,
    ids=[f"{c.name}-{'+'.join(g) or 'no-group'}" for c, g in PERMISSION_ROWS],
)
def test_refused_without_the_permission_and_nothing_changes(case: Case, groups):
    user = UserFactory(groups=groups)
    order = _prepare(case)
    before = snapshot(order)

    with pytest.raises(NotPermitted) as refused:
        _run(case, order, user)

    assert "not allowed" in str(refused.value)
    assert snapshot(order) == before


def test_an_inactive_user_is_refused_even_with_the_group():
    user = staff("Operator")
    user.is_active = False
    user.save()
    order = OrderFactory()
    with pytest.raises(NotPermitted):
        workflow.mark_paid(order, by=user)
    assert Order.objects.get(pk=order.pk).status == Status.AWAITING_PAYMENT


def test_evidence_recorded_before_the_current_status_does_not_count():
    # given: the buyer refused something while the order was merely paid
    operator = staff("Operator")
    order = OrderFactory(status=Status.PAID)
    say(order, kind="refusal")
    workflow.request_cancellation(order, by=operator)

    # when / then: that old refusal is not an answer to the cancellation request
    with pytest.raises(Refused, match="Record the buyer's refusal"):
        workflow.record_buyer_refusal(order, by=operator)
    say(order, kind="refusal")
    assert workflow.record_buyer_refusal(order, by=operator).status == Status.PAID


def test_a_supplier_refusal_does_not_stand_in_for_the_buyer():
    order = OrderFactory(status=Status.CANCEL_REQUESTED)
    say(order, kind="consent", counterparty="supplier")
    with pytest.raises(Refused, match="consent"):
        workflow.record_buyer_consent(order, by=staff("Operator"), reason="buyer_cancelled")


def test_a_stale_order_instance_gets_the_order_changed_refusal():
    operator = staff("Operator")
    order = OrderFactory()
    stale = Order.objects.get(pk=order.pk)
    workflow.mark_paid(order, by=operator)

    with pytest.raises(OrderChanged) as refused:
        workflow.close_unpaid(stale, by=operator, reason="buyer_cancelled")

    assert "has changed" in str(refused.value)
    assert "Paid, not shipped" in str(refused.value)
    assert OrderEvent.objects.filter(order=order).count() == 1


def test_an_order_that_does_not_exist_is_refused_clearly():
    with pytest.raises(Refused, match="does not exist"):
        workflow.mark_paid(999_999, by=None)
    with pytest.raises(Refused, match="is not an order"):
        workflow.mark_paid("abc", by=None)


def test_the_supervisor_runs_operator_transitions_too():
    order = OrderFactory()
    assert (
        workflow.close_unpaid(order, by=staff("Supervisor"), reason="payment_timeout").status == Status.CLOSED
    )


def test_close_unpaid_out_of_stock_marks_the_sku_with_a_movement():
    order = OrderFactory()
    workflow.record_movement(order.sku, delta=7, reason="restock", by=None)
    workflow.close_unpaid(order, by=staff("Operator"), reason="out_of_stock")

    order.sku.refresh_from_db()
    assert (order.sku.stock_on_hand, order.sku.out_of_stock) == (0, True)
    movement = order.sku.movements.order_by("-pk").first()
    assert (movement.delta, movement.reason, movement.order_id) == (-7, "out_of_stock", order.pk)


def test_record_buyer_consent_refunds_everything_by_default():
    order = OrderFactory(status=Status.CANCEL_REQUESTED)
    say(order, kind="consent")
    workflow.record_buyer_consent(order, by=staff("Operator"), reason="buyer_cancelled")
    refund = Refund.objects.get(order=order)
    assert (refund.direction, refund.status, refund.amount) == ("to_buyer", "requested", Decimal("100.00"))


def test_a_closed_order_keeps_its_close_reason_from_the_dispute_resolution():
    order = OrderFactory(status=Status.DISPUTED)
    workflow.resolve_dispute(order, by=staff("Supervisor"), outcome="won", reason="shipping_issue")
    fresh = Order.objects.get(pk=order.pk)
    assert (fresh.close_reason, fresh.outcome) == ("shipping_issue", "won")
    assert not Refund.objects.filter(order=order).exists()  # we won: the buyer gets nothing back


def test_mark_refund_received_is_finance_only():
    order = OrderFactory(status=Status.REFUND_PENDING, close_reason="buyer_cancelled")
    _buyer_refund(order)
    workflow.confirm_refund(order, by=None, reference="R-1")
    refund = Refund.objects.get(order=order)

    with pytest.raises(NotPermitted):
        workflow.mark_refund_received(refund, by=staff("Operator"))
    received = workflow.mark_refund_received(refund.pk, by=staff("Finance"))

    assert received.status == "received" and received.received_at
    with pytest.raises(Refused, match="Only a succeeded refund"):
        workflow.mark_refund_received(refund.pk, by=staff("Finance"))


def test_send_payment_reminder_records_one_reminder():
    order = OrderFactory()
    workflow.send_payment_reminder(order, by=staff("Operator"))
    workflow.send_payment_reminder(order, by=staff("Operator"))
    assert set(order.notifications.values_list("channel", "template")) == {
        ("email", "payment_reminder"),
        ("sms", "payment_reminder"),
    }
