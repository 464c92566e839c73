"""The close workflow: one function per transition, the only code that changes an order's state.

Every function takes the order (an ``Order`` or its primary key), the acting user as ``by=``
(``None`` is the system) and the inputs of SPEC section 7 by name. Each one:

1. checks that ``by`` holds the transition's permission,
2. locks the order row (``select_for_update``) inside one transaction,
3. checks the requirements (source state, inputs, evidence recorded since the current status
   began, money rules),
4. applies the django-fsm transition and saves,
5. writes exactly one ``OrderEvent``,
6. creates refunds, stock movements and outbox notifications where the spec says so.

A refusal raises ``Refused`` (or its subclasses ``NotPermitted`` / ``OrderChanged``) with a
message for an operator, and nothing is written. Notifications are delivered by Celery after
commit (``orders.outbox``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop
from django_fsm import can_proceed

from evidence.models import Attachment, Communication, Counterparty, Kind
from shopops.errors import OrderChanged, Refused, require_permission

from .. import outbox, stock
from ..models import (
    REFUND_RELEASED_STATUSES,
    CloseReason,
    MovementReason,
    Order,
    OrderEvent,
    Outcome,
    Refund,
    RefundDirection,
    RefundStatus,
    ReturnCondition,
    Status,
)
from . import events

# Kept for callers that think of it as the workflow's error.
WorkflowError = Refused

CENT = Decimal("0.01")
# Money columns hold 12 digits, two of them after the point.
MAX_AMOUNT = Decimal("1e10")


@dataclass(frozen=True)
class TransitionInfo:
    name: str
    label: str
    required: tuple[str, ...]
    optional: tuple[str, ...]
    supervisor: bool = False


# SPEC section 7, in the order the article walks through them; the admin builds its forms from it.
TRANSITIONS: dict[str, TransitionInfo] = {
    t.name: t
    for t in [
        TransitionInfo("mark_paid", gettext_noop("Mark paid"), (), ("paid_at",)),
        TransitionInfo(
            "mark_shipped", gettext_noop("Mark shipped"), ("tracking_number",), ("carrier", "shipped_at")
        ),
        TransitionInfo("mark_completed", gettext_noop("Mark completed"), (), ()),
        TransitionInfo("close_unpaid", gettext_noop("Close unpaid order"), ("reason",), ("note",)),
        TransitionInfo("request_cancellation", gettext_noop("Ask the buyer to cancel"), (), ("note",)),
        TransitionInfo("record_buyer_refusal", gettext_noop("Buyer refuses to cancel"), (), ("note",)),
        TransitionInfo(
            "record_buyer_consent", gettext_noop("Buyer agrees to cancel"), ("reason",), ("amount", "note")
        ),
        TransitionInfo(
            "escalate_to_support",
            gettext_noop("Escalate to platform support"),
            ("reference",),
            ("note",),
            True,
        ),
        TransitionInfo(
            "confirm_refund", gettext_noop("Confirm refund and close"), ("reference",), ("note",), True
        ),
        TransitionInfo("propose_return", gettext_noop("Propose a return"), (), ("note",)),
        TransitionInfo("record_return_refusal", gettext_noop("Buyer refuses to return"), (), ("note",)),
        TransitionInfo(
            "record_return_agreement",
            gettext_noop("Buyer agrees to return"),
            ("reason",),
            ("tracking_number", "note"),
        ),
        TransitionInfo(
            "receive_return",
            gettext_noop("Receive returned goods"),
            ("quantity", "condition"),
            ("amount", "note"),
        ),
        TransitionInfo(
            "request_supplier_refund",
            gettext_noop("Ask the supplier for a refund"),
            ("amount", "reason", "reference"),
            ("respond_by", "note"),
            True,
        ),
        TransitionInfo(
            "record_supplier_approval",
            gettext_noop("Supplier approved"),
            (),
            ("amount", "reference", "note"),
            True,
        ),
        TransitionInfo(
            "record_supplier_refusal", gettext_noop("Supplier refused"), ("reference",), ("note",), True
        ),
        TransitionInfo(
            "open_buyer_dispute", gettext_noop("Buyer opened a dispute"), ("reference",), ("note",)
        ),
        TransitionInfo(
            "resolve_dispute",
            gettext_noop("Resolve the dispute"),
            ("outcome",),
            ("amount", "reason", "note"),
            True,
        ),
    ]
}


# --- helpers --------------------------------------------------------------------------------


def _order_pk(order: Order | int | str) -> int:
    if isinstance(order, Order):
        return order.pk
    try:
        return int(order)
    except (TypeError, ValueError):
        raise Refused(_("“%(order)s” is not an order.") % {"order": order}) from None


def _lock(order: Order | int | str) -> Order:
    try:
        return Order.objects.select_for_update().select_related("sku").get(pk=_order_pk(order))
    except Order.DoesNotExist:
        raise Refused(_("Order %(order)s does not exist.") % {"order": order}) from None


def _label(name: str) -> str:
    return _(TRANSITIONS[name].label)


def status_label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def _check_source(name: str, order: Order, seen: Order | None) -> None:
    if can_proceed(getattr(order, name)):
        return
    if seen is not None and seen.status != order.status:
        raise OrderChanged(
            _(
                "Order %(order)s has changed: it is now “%(status)s”, so “%(action)s” is no longer "
                "possible. Reload the order to see what happened."
            )
            % {"order": order, "status": status_label(order.status), "action": _label(name)}
        )
    sources = {t.source for t in order.get_all_status_transitions() if t.name == name}
    raise Refused(
        _("“%(action)s” is not possible: order %(order)s is “%(status)s”; it must be %(sources)s.")
        % {
            "action": _label(name),
            "order": order,
            "status": status_label(order.status),
            "sources": _(" or ").join(f"“{status_label(s)}”" for s in sorted(sources)),
        }
    )


def _money(value: Any, field: str, label: str, *, allow_zero: bool = False) -> Decimal:
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Refused(
            _("%(label)s “%(value)s” is not an amount.") % {"label": label, "value": value}, field=field
        ) from None
    if not amount.is_finite():
        raise Refused(_("%(label)s must be a number.") % {"label": label}, field=field)
    if abs(amount) >= MAX_AMOUNT:
        # Beyond what the money columns hold (and what quantize can round): a typo, not a refund.
        raise Refused(_("%(label)s %(value)s is too large.") % {"label": label, "value": value}, field=field)
    if amount != amount.quantize(CENT):
        raise Refused(
            _("%(label)s %(value)s has more than two decimal places.") % {"label": label, "value": amount},
            field=field,
        )
    if amount < 0 or (amount == 0 and not allow_zero):
        raise Refused(_("%(label)s must be more than 0.") % {"label": label}, field=field)
    return amount.quantize(CENT)


def _required_text(value: Any, field: str, message: str, max_length: int = 100) -> str:
    text = str(value or "").strip()
    if not text:
        raise Refused(message, field=field)
    if len(text) > max_length:
        raise Refused(
            _("%(field)s is too long (at most %(n)d characters).") % {"field": field, "n": max_length},
            field=field,
        )
    return text


def _optional_text(value: Any, field: str, max_length: int) -> str:
    text = str(value or "").strip()
    if len(text) > max_length:
        raise Refused(
            _("%(field)s is too long (at most %(n)d characters).") % {"field": field, "n": max_length},
            field=field,
        )
    return text


def _reason(reason: Any, note: str, field: str = "reason") -> str:
    if not reason:
        raise Refused(_("Choose a close reason."), field=field)
    if reason not in CloseReason.values:
        raise Refused(_("“%(reason)s” is not a close reason.") % {"reason": reason}, field=field)
    if reason == CloseReason.OTHER and not (note or "").strip():
        raise Refused(_("Explain in the note why the order closes for “Other”."), field="note")
    return reason


def _parse_when(value: str, field: str) -> datetime:
    # parse_datetime returns None for a wrong shape but raises for a right shape with an
    # impossible date ("2026-02-30 10:00"): both are the same mistake to an operator.
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise Refused(_("“%(value)s” is not a date and time.") % {"value": value}, field=field)
    return parsed


def _when(value: Any, field: str, *, default: datetime, not_before: datetime | None = None) -> datetime:
    if value in (None, ""):
        return default
    if isinstance(value, str):
        value = _parse_when(value, field)
    if not isinstance(value, datetime):
        raise Refused(_("“%(value)s” is not a date and time.") % {"value": value}, field=field)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + timedelta(minutes=5):
        raise Refused(_("%(field)s cannot be in the future.") % {"field": field}, field=field)
    if not_before is not None and value < not_before:
        raise Refused(_("%(field)s cannot be before the order was placed.") % {"field": field}, field=field)
    return value


def _require_communication(order: Order, counterparty: str, kind: str | None, message: str) -> None:
    found = Communication.objects.filter(
        order=order, counterparty=counterparty, recorded_at__gte=order.status_changed_at
    )
    if kind is not None:
        found = found.filter(kind=kind)
    if not found.exists():
        raise Refused(message)


def refunded_total(order: Order, direction: str) -> Decimal:
    """What counts against the limit: the direction's refunds not rejected or cancelled."""
    total = (
        Refund.objects.filter(order=order, direction=direction)
        .exclude(status__in=REFUND_RELEASED_STATUSES)
        .aggregate(total=Sum("amount"))["total"]
    )
    return total or Decimal("0.00")


def refund_limit(order: Order, direction: str) -> Decimal:
    if direction == RefundDirection.TO_BUYER:
        return order.total_amount
    total = order.supplier_orders.aggregate(total=Sum("amount"))["total"]
    return total or Decimal("0.00")


def refundable(order: Order, direction: str = RefundDirection.TO_BUYER) -> Decimal:
    """What may still be refunded in ``direction`` (never negative)."""
    return max(refund_limit(order, direction) - refunded_total(order, direction), Decimal("0.00"))


def _record_event(
    order: Order, name: str, from_status: str, *, by: AbstractBaseUser | None, reason: str = "", data: dict
) -> OrderEvent:
    return events.record_event(order, name, by=by, from_status=from_status, reason=reason, data=data)


def _apply(
    name: str,
    order: Order | int | str,
    by: AbstractBaseUser | None,
    *,
    check=None,
    args: tuple | Callable[[], tuple] = (),
    after=None,
    reason: str = "",
    data: dict | None = None,
) -> Order:
    """Run transition ``name``: the common skeleton every workflow function shares.

    ``check(locked)`` validates under the lock and may return extra event data; ``args`` (or a
    callable giving them, for values ``check`` computed) go to the model's transition method;
    ``after(locked)`` creates refunds, movements and notifications once the state has moved.
    """
    require_permission(by, f"orders.{name}", _label(name).lower())
    seen = order if isinstance(order, Order) else None
    with transaction.atomic():
        locked = _lock(order)
        _check_source(name, locked, seen)
        event_data = dict(data or {})
        if check is not None:
            event_data.update(check(locked) or {})
        from_status = locked.status
        now = timezone.now()
        getattr(locked, name)(*(args() if callable(args) else args))
        locked.status_changed_at = now
        if locked.close_stage and locked.close_started_at is None:
            locked.close_started_at = now
        if locked.status == Status.CLOSED:
            if not locked.close_reason:
                # A closed order always has a reason (SPEC 1); say so rather than hit the constraint.
                raise Refused(_("Choose a close reason."), field="reason")
            locked.closed_at = now
            locked.closed_by = by
            if locked.close_started_at is None:
                locked.close_started_at = now
        locked.save()
        if after is not None:
            event_data.update(after(locked) or {})
        _record_event(locked, name, from_status, by=by, reason=reason or locked.close_reason, data=event_data)
    return locked


# --- refunds ----------------------------------------------------------------------------------


def _create_refund(
    order: Order,
    *,
    by: AbstractBaseUser | None,
    direction: str,
    amount: Decimal,
    reason: str,
    idempotency_key: str,
    reference: str = "",
    respond_by: datetime | None = None,
) -> tuple[Refund, bool]:
    """Create a refund under the order lock the caller holds. Returns (refund, created)."""
    existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _same_refund(existing, order, direction, amount), False
    remaining = refundable(order, direction)
    if amount > remaining:
        what = _("paid by the buyer") if direction == RefundDirection.TO_BUYER else _("the supplier order")
        raise Refused(
            _(
                "A refund of %(amount)s would exceed what was %(what)s: at most %(remaining)s can "
                "still be refunded."
            )
            % {"amount": amount, "what": what, "remaining": remaining},
            field="amount",
        )
    currency = order.currency if direction == RefundDirection.TO_BUYER else "CNY"
    try:
        with transaction.atomic():
            refund = Refund.objects.create(
                order=order,
                direction=direction,
                amount=amount,
                currency=currency,
                reason=reason,
                reference=reference,
                idempotency_key=idempotency_key,
                respond_by=respond_by,
                requested_at=timezone.now(),
                requested_by=by,
            )
    except IntegrityError:
        # The same key committed by a concurrent request on another order.
        existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return _same_refund(existing, order, direction, amount), False
    return refund, True


def _same_refund(existing: Refund, order: Order, direction: str, amount: Decimal) -> Refund:
    if existing.order_id != order.pk or existing.direction != direction or existing.amount != amount:
        raise Refused(
            _(
                "This request key was already used for a different refund (%(refund)s on order "
                "%(order)s); nothing was created."
            )
            % {"refund": existing, "order": existing.order},
            field="idempotency_key",
        )
    return existing


def create_refund(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    amount: Decimal | str,
    idempotency_key: str,
    direction: str = RefundDirection.TO_BUYER,
    reason: str = "",
    reference: str = "",
) -> Refund:
    """Request a (partial) refund outside a transition, e.g. a goodwill refund agreed with a buyer.

    The same ``idempotency_key`` twice returns the first refund and creates nothing; the same key
    with another amount, direction or order is refused. The direction's total never exceeds
    what was paid (buyer) or the supplier order amount (supplier), checked under the order lock.
    """
    require_permission(by, "orders.add_refund", _("request refunds"))
    if direction not in RefundDirection.values:
        raise Refused(_("“%(d)s” is not a refund direction.") % {"d": direction}, field="direction")
    key = _required_text(idempotency_key, "idempotency_key", _("Give the refund a request key."))
    amount = _money(amount, "amount", _("Refund amount"))
    with transaction.atomic():
        locked = _lock(order)
        if (
            locked.status in (Status.AWAITING_PAYMENT, Status.CLOSED)
            and direction == RefundDirection.TO_BUYER
        ):
            existing = Refund.objects.filter(idempotency_key=key).first()
            if existing is not None:
                return _same_refund(existing, locked, direction, amount)
            raise Refused(
                _("Order %(order)s is “%(status)s”: there is nothing to refund.")
                % {"order": locked, "status": status_label(locked.status)}
            )
        refund, created = _create_refund(
            locked,
            by=by,
            direction=direction,
            amount=amount,
            reason=reason,
            idempotency_key=key,
            reference=reference,
        )
        if created:
            _record_event(
                locked,
                "create_refund",
                locked.status,
                by=by,
                data={"refund": refund.pk, "direction": direction, "amount": amount, "reason": reason},
            )
    return refund


def _succeed_refund(refund: Refund, *, reference: str = "") -> None:
    refund.succeed(timezone.now(), reference)
    refund.save()
    if refund.direction == RefundDirection.TO_BUYER:
        outbox.record_refund_confirmation(refund)


@transaction.atomic
def mark_refund_received(refund: Refund | int, *, by: AbstractBaseUser | None, note: str = "") -> Refund:
    """Finance verified the money arrived (buyer's refund on the platform, supplier's in our account)."""
    require_permission(by, "orders.mark_refund_received", _("mark refunds received"))
    pk = refund.pk if isinstance(refund, Refund) else refund
    try:
        order_id = Refund.objects.values_list("order_id", flat=True).get(pk=pk)
    except (Refund.DoesNotExist, ValueError, TypeError):
        raise Refused(_("Refund %(r)s does not exist.") % {"r": refund}) from None
    # Order first, then refund: the same lock order as the transitions, so the two never deadlock.
    order = _lock(order_id)
    locked = Refund.objects.select_for_update().get(pk=pk)
    if not can_proceed(locked.mark_received):
        raise Refused(
            _("Only a succeeded refund can be marked received; this one is “%(status)s”.")
            % {"status": locked.get_status_display()}
        )
    locked.mark_received(timezone.now())
    locked.save()
    _record_event(
        order,
        "mark_refund_received",
        order.status,
        by=by,
        data={"refund": locked.pk, "amount": locked.amount, "direction": locked.direction, "note": note},
    )
    return locked


# --- the transitions of SPEC section 7 --------------------------------------------------------


def mark_paid(order, *, by, paid_at: datetime | None = None) -> Order:
    """Awaiting payment → paid. Requires the paid time (default: now)."""
    holder: dict = {}

    def check(o: Order):
        holder["paid_at"] = _when(paid_at, "paid_at", default=timezone.now(), not_before=o.placed_at)
        return {"paid_at": holder["paid_at"]}

    return _apply("mark_paid", order, by, check=check, args=lambda: (holder["paid_at"],))


def mark_shipped(
    order, *, by, tracking_number: str, carrier: str = "", shipped_at: datetime | None = None
) -> Order:
    """Paid → shipped. Requires the tracking number."""
    tracking = _required_text(tracking_number, "tracking_number", _("Enter the tracking number."), 64)
    carrier = _optional_text(carrier, "carrier", 64)
    holder: dict = {}

    def check(o: Order):
        holder["shipped_at"] = _when(shipped_at, "shipped_at", default=timezone.now(), not_before=o.placed_at)
        return {"shipped_at": holder["shipped_at"]}

    return _apply(
        "mark_shipped",
        order,
        by,
        check=check,
        args=lambda: (tracking, carrier, holder["shipped_at"]),
        data={"tracking_number": tracking, "carrier": carrier},
    )


def mark_completed(order, *, by) -> Order:
    """Shipped → completed (delivered, funds released)."""
    return _apply("mark_completed", order, by)


def close_unpaid(order, *, by, reason: str, note: str = "") -> Order:
    """Awaiting payment → closed, with a reason (a note when the reason is “other”).

    Closing for ``out_of_stock`` zeroes and flags the SKU with a stock movement.
    """
    reason = _reason(reason, note)

    def after(o: Order):
        if reason == CloseReason.OUT_OF_STOCK:
            stock.mark_out_of_stock(o.sku_id, by=by, order=o)

    return _apply("close_unpaid", order, by, args=(reason, note or ""), after=after, data={"note": note})


def request_cancellation(order, *, by, note: str = "") -> Order:
    """Paid → cancellation under negotiation. Requires a communication with the buyer."""

    def check(o: Order):
        _require_communication(
            o,
            Counterparty.BUYER,
            None,
            _("Record your message to the buyer before asking them to cancel a paid order."),
        )

    return _apply("request_cancellation", order, by, check=check, data={"note": note})


def record_buyer_refusal(order, *, by, note: str = "") -> Order:
    """Cancellation under negotiation → paid. Requires the buyer's refusal recorded."""

    def check(o: Order):
        _require_communication(
            o, Counterparty.BUYER, Kind.REFUSAL, _("Record the buyer's refusal before going back to “Paid”.")
        )

    return _apply("record_buyer_refusal", order, by, check=check, data={"note": note})


def record_buyer_consent(
    order, *, by, reason: str, amount: Decimal | str | None = None, note: str = ""
) -> Order:
    """Cancellation under negotiation → refund in progress. Creates the buyer refund.

    Requires the buyer's consent recorded and a close reason; the refund amount defaults to all
    that may still be refunded and must be more than 0 and at most the amount paid.
    """
    reason = _reason(reason, note)
    wanted = None if amount in (None, "") else _money(amount, "amount", _("Refund amount"))
    holder: dict = {}

    def check(o: Order):
        _require_communication(
            o,
            Counterparty.BUYER,
            Kind.CONSENT,
            _("Record the buyer's consent before closing a paid order."),
        )
        holder["amount"] = wanted if wanted is not None else refundable(o)
        if holder["amount"] <= 0:
            raise Refused(_("Nothing is left to refund on this order."), field="amount")
        return {"amount": holder["amount"], "note": note}

    def after(o: Order):
        refund, _created = _create_refund(
            o,
            by=by,
            direction=RefundDirection.TO_BUYER,
            amount=holder["amount"],
            reason=reason,
            idempotency_key=f"order-{o.pk}-record_buyer_consent-{o.status_changed_at.timestamp():.6f}",
        )
        if reason == CloseReason.OUT_OF_STOCK:
            stock.mark_out_of_stock(o.sku_id, by=by, order=o)
        return {"refund": refund.pk}

    return _apply("record_buyer_consent", order, by, check=check, args=(reason, note or ""), after=after)


def escalate_to_support(order, *, by, reference: str, note: str = "") -> Order:
    """Refund in progress → with platform support. Requires a ticket reference and evidence."""
    reference = _required_text(reference, "reference", _("Enter the platform support ticket reference."))

    def check(o: Order):
        if not Attachment.objects.filter(order=o).exists():
            raise Refused(
                _("Attach the evidence (screenshots of the buyer's consent) before escalating to support.")
            )

    return _apply(
        "escalate_to_support",
        order,
        by,
        check=check,
        args=(reference,),
        data={"reference": reference, "note": note},
    )


def confirm_refund(order, *, by, reference: str, note: str = "") -> Order:
    """Refund in progress / with support → closed. Marks the buyer refund succeeded.

    The buyer is then sent one refund confirmation (email, and SMS when a phone is known).
    """
    reference = _required_text(reference, "reference", _("Enter the platform refund reference."))
    holder: dict = {}

    def check(o: Order):
        pending = list(
            Refund.objects.select_for_update().filter(
                order=o, direction=RefundDirection.TO_BUYER, status=RefundStatus.REQUESTED
            )
        )
        if not pending:
            raise Refused(_("This order has no buyer refund waiting to be confirmed."))
        holder["refunds"] = pending
        return {"reference": reference, "note": note, "refunds": [r.pk for r in pending]}

    def after(o: Order):
        for refund in holder["refunds"]:
            _succeed_refund(refund, reference=reference)

    return _apply("confirm_refund", order, by, check=check, after=after)


def propose_return(order, *, by, note: str = "") -> Order:
    """Shipped → return under negotiation. Requires a communication with the buyer."""

    def check(o: Order):
        _require_communication(
            o, Counterparty.BUYER, None, _("Record your message to the buyer before proposing a return.")
        )

    return _apply("propose_return", order, by, check=check, data={"note": note})


def record_return_refusal(order, *, by, note: str = "") -> Order:
    """Return under negotiation → shipped. Requires the buyer's refusal recorded."""

    def check(o: Order):
        _require_communication(
            o,
            Counterparty.BUYER,
            Kind.REFUSAL,
            _("Record the buyer's refusal before going back to “Shipped”."),
        )

    return _apply("record_return_refusal", order, by, check=check, data={"note": note})


def record_return_agreement(order, *, by, reason: str, tracking_number: str = "", note: str = "") -> Order:
    """Return under negotiation → awaiting returned goods. Requires the buyer's consent and a reason."""
    reason = _reason(reason, note)
    tracking = _optional_text(tracking_number, "tracking_number", 64)

    def check(o: Order):
        _require_communication(
            o, Counterparty.BUYER, Kind.CONSENT, _("Record the buyer's agreement to return the goods first.")
        )

    return _apply(
        "record_return_agreement",
        order,
        by,
        check=check,
        args=(reason, note or "", tracking),
        data={"tracking_number": tracking, "note": note},
    )


def receive_return(
    order, *, by, quantity: int | str, condition: str, amount: Decimal | str | None = None, note: str = ""
) -> Order:
    """Awaiting returned goods → return received. Refunds the buyer; resellable goods restock.

    Confirming receipt on AliExpress releases the buyer's refund, so the refund is created as
    succeeded and the buyer is sent the confirmation. The amount defaults to what remains
    refundable for a full return, or unit price times quantity for a partial one (the quantity's
    share of the amount paid when the order has no unit price).
    """
    if condition not in ReturnCondition.values:
        raise Refused(
            _("Choose the condition of the returned goods: resellable, damaged or missing."),
            field="condition",
        )
    try:
        qty = int(str(quantity).strip())
    except (TypeError, ValueError):
        raise Refused(
            _("Quantity received “%(q)s” is not a whole number.") % {"q": quantity}, field="quantity"
        ) from None
    wanted = None if amount in (None, "") else _money(amount, "amount", _("Refund amount"))
    holder: dict = {}

    def check(o: Order):
        low = 0 if condition == ReturnCondition.MISSING else 1
        if not low <= qty <= o.quantity:
            raise Refused(
                _("Quantity received must be between %(low)d and %(high)d.")
                % {"low": low, "high": o.quantity},
                field="quantity",
            )
        remaining = refundable(o)
        if wanted is not None:
            holder["amount"] = wanted
        elif qty in (0, o.quantity):
            holder["amount"] = remaining
        else:
            # An import may leave the unit price out (0.00): the share of what was paid then,
            # never a silent refund of nothing.
            share = o.unit_price * qty if o.unit_price > 0 else o.total_amount * qty / o.quantity
            holder["amount"] = min(remaining, share.quantize(CENT))
        return {"quantity": qty, "condition": condition, "amount": holder["amount"], "note": note}

    def after(o: Order):
        result = {}
        if holder["amount"] > 0:
            refund, created = _create_refund(
                o,
                by=by,
                direction=RefundDirection.TO_BUYER,
                amount=holder["amount"],
                reason=o.close_reason,
                idempotency_key=f"order-{o.pk}-receive_return-{o.status_changed_at.timestamp():.6f}",
            )
            if created:
                _succeed_refund(refund)
            result["refund"] = refund.pk
        if condition == ReturnCondition.RESELLABLE and qty > 0:
            stock.record_movement(
                o.sku_id, delta=qty, reason=MovementReason.RETURN_RESELLABLE, by=by, order=o, note=note
            )
        return result

    return _apply("receive_return", order, by, check=check, after=after)


def request_supplier_refund(
    order,
    *,
    by,
    amount: Decimal | str,
    reason: str,
    reference: str,
    respond_by: datetime | None = None,
    note: str = "",
) -> Order:
    """Return received → awaiting supplier. Creates the supplier refund with its deadline.

    The amount (CNY) must be more than 0 and at most the supplier order amount not yet
    refunded; the respond-by deadline defaults to ``SHOPOPS_SUPPLIER_RESPOND_DAYS`` from now.
    """
    amount = _money(amount, "amount", _("Supplier refund amount"))
    reason_text = _required_text(reason, "reason", _("Say why the supplier should refund."), 2000)
    reference = _required_text(reference, "reference", _("Enter the 1688 refund reference."))
    now = timezone.now()
    if respond_by in (None, ""):
        deadline = now + timedelta(days=settings.SHOPOPS_SUPPLIER_RESPOND_DAYS)
    else:
        deadline = _parse_when(respond_by, "respond_by") if isinstance(respond_by, str) else respond_by
        if not isinstance(deadline, datetime):
            raise Refused(_("“%(v)s” is not a date and time.") % {"v": respond_by}, field="respond_by")
        if timezone.is_naive(deadline):
            deadline = timezone.make_aware(deadline)
        if deadline <= now:
            raise Refused(_("The respond-by deadline must be in the future."), field="respond_by")

    def check(o: Order):
        if refund_limit(o, RefundDirection.FROM_SUPPLIER) <= 0:
            raise Refused(
                _("Record the 1688 supplier order and its amount before asking the supplier for a refund.")
            )
        return {
            "amount": amount,
            "reason": reason_text,
            "reference": reference,
            "respond_by": deadline,
            "note": note,
        }

    def after(o: Order):
        refund, _created = _create_refund(
            o,
            by=by,
            direction=RefundDirection.FROM_SUPPLIER,
            amount=amount,
            reason=reason_text,
            reference=reference,
            respond_by=deadline,
            idempotency_key=f"order-{o.pk}-request_supplier_refund-{o.status_changed_at.timestamp():.6f}",
        )
        return {"refund": refund.pk}

    return _apply("request_supplier_refund", order, by, check=check, after=after)


def _pending_supplier_refund(o: Order) -> Refund:
    refund = (
        Refund.objects.select_for_update()
        .filter(order=o, direction=RefundDirection.FROM_SUPPLIER, status=RefundStatus.REQUESTED)
        .order_by("-requested_at")
        .first()
    )
    if refund is None:
        raise Refused(_("This order has no supplier refund waiting for an answer."))
    return refund


def record_supplier_approval(
    order, *, by, amount: Decimal | str | None = None, reference: str = "", note: str = ""
) -> Order:
    """Awaiting supplier → closed. The supplier refund succeeds with the approved amount."""
    approved = None if amount in (None, "") else _money(amount, "amount", _("Approved amount"))
    reference = _optional_text(reference, "reference", 100)
    holder: dict = {}

    def check(o: Order):
        refund = _pending_supplier_refund(o)
        if approved is not None and approved > refund.amount:
            raise Refused(
                _("The approved amount cannot exceed the %(asked)s CNY asked for.")
                % {"asked": refund.amount},
                field="amount",
            )
        holder["refund"] = refund
        return {
            "amount": approved or refund.amount,
            "reference": reference,
            "note": note,
            "refund": refund.pk,
        }

    def after(o: Order):
        refund = holder["refund"]
        if approved is not None:
            refund.amount = approved
        _succeed_refund(refund, reference=reference)

    return _apply("record_supplier_approval", order, by, check=check, after=after)


def record_supplier_refusal(order, *, by, reference: str, note: str = "") -> Order:
    """Awaiting supplier → in dispute. Requires the supplier's refusal and a dispute reference."""
    reference = _required_text(reference, "reference", _("Enter the 1688 dispute reference."))
    holder: dict = {}

    def check(o: Order):
        _require_communication(
            o,
            Counterparty.SUPPLIER,
            Kind.REFUSAL,
            _("Record the supplier's refusal before opening a dispute."),
        )
        holder["refund"] = _pending_supplier_refund(o)
        return {"reference": reference, "note": note, "refund": holder["refund"].pk}

    def after(o: Order):
        holder["refund"].reject(timezone.now())
        holder["refund"].save()

    return _apply("record_supplier_refusal", order, by, check=check, args=(reference,), after=after)


def open_buyer_dispute(order, *, by, reference: str, note: str = "") -> Order:
    """Shipped / return under negotiation → in dispute. Requires the buyer's dispute reference."""
    reference = _required_text(reference, "reference", _("Enter the buyer's dispute reference."))
    return _apply(
        "open_buyer_dispute", order, by, args=(reference,), data={"reference": reference, "note": note}
    )


def resolve_dispute(
    order,
    *,
    by,
    outcome: str,
    amount: Decimal | str | None = None,
    reason: str = "",
    note: str = "",
) -> Order:
    """In dispute → closed with the outcome (won, partial, lost) and the amount recovered.

    A buyer may open a dispute on a shipped order before any close reason was recorded; a
    closed order must have one, so ``reason`` is then required (otherwise it is optional and
    does not replace the reason recorded earlier).

    A dispute with the supplier (after a refusal) recovers money from the supplier: the amount
    is recorded as a succeeded supplier refund. A buyer's dispute decides what the buyer gets
    back: the amount is recorded as a succeeded buyer refund and the buyer is told.
    """
    allowed = (Outcome.WON, Outcome.PARTIAL, Outcome.LOST)
    if outcome not in allowed:
        raise Refused(_("Choose the outcome: won, partial or lost."), field="outcome")
    given = None if amount in (None, "") else _money(amount, "amount", _("Amount"), allow_zero=True)
    new_reason = _reason(reason, note) if reason else ""
    holder: dict = {}

    def check(o: Order):
        if not o.close_reason and not new_reason:
            raise Refused(_("Choose the close reason of this dispute."), field="reason")
        supplier_dispute = Refund.objects.filter(
            order=o, direction=RefundDirection.FROM_SUPPLIER, status=RefundStatus.REJECTED
        ).exists()
        direction = RefundDirection.FROM_SUPPLIER if supplier_dispute else RefundDirection.TO_BUYER
        remaining = refundable(o, direction)
        if given is not None:
            value = given
        elif outcome == Outcome.PARTIAL:
            raise Refused(_("Enter the amount of a partial outcome."), field="amount")
        else:
            win_for_us = outcome == Outcome.WON
            value = remaining if win_for_us == supplier_dispute else Decimal("0.00")
        if value > remaining:
            raise Refused(
                _("The amount cannot exceed %(remaining)s.") % {"remaining": remaining}, field="amount"
            )
        holder.update(direction=direction, amount=value)
        if not o.close_reason:
            o.close_reason = new_reason
            o.close_note = note or ""
        return {"outcome": outcome, "amount": value, "direction": direction, "note": note}

    def after(o: Order):
        if holder["amount"] <= 0:
            return None
        refund, created = _create_refund(
            o,
            by=by,
            direction=holder["direction"],
            amount=holder["amount"],
            reason=_("Dispute outcome: %(outcome)s") % {"outcome": outcome},
            idempotency_key=f"order-{o.pk}-resolve_dispute-{o.status_changed_at.timestamp():.6f}",
        )
        if created:
            _succeed_refund(refund)
        return {"refund": refund.pk}

    return _apply("resolve_dispute", order, by, check=check, args=(outcome,), after=after)


# --- reminders --------------------------------------------------------------------------------


@transaction.atomic
def send_payment_reminder(order, *, by) -> Order:
    """Ask an unpaid order's buyer to pay; one reminder per order (later calls change nothing)."""
    require_permission(by, "orders.send_payment_reminder", _("send payment reminders"))
    locked = _lock(order)
    if locked.status != Status.AWAITING_PAYMENT:
        raise Refused(
            _("Order %(order)s is “%(status)s”: only unpaid orders get a payment reminder.")
            % {"order": locked, "status": status_label(locked.status)}
        )
    if locked.payment_reminded_at is not None:
        return locked
    if not locked.buyer_email and not locked.buyer_phone:
        raise Refused(_("Order %(order)s has no buyer email or phone to remind.") % {"order": locked})
    locked.payment_reminded_at = timezone.now()
    locked.save(update_fields=["payment_reminded_at", "updated_at"])
    outbox.record_payment_reminder(locked)
    _record_event(locked, "send_payment_reminder", locked.status, by=by, data={})
    return locked
