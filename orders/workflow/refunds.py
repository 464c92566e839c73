"""Refunds: requested within a transition or on their own, then succeeded, received or cancelled.

A refund is created only under its order's row lock, so two requests can never together
exceed what was paid (buyer) or the supplier orders' amount (supplier); the limit is
``selectors.refunds.refundable``. Every refund carries a request key: the same key twice gives
back the first refund. Locks are always taken order first, then refund, so that these
operations and the transitions never deadlock.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from shopops.errors import NotPermitted, Refused

from .. import policy
from ..models import Order, Refund, RefundDirection, Status, SupplierOrder
from ..selectors import refunds as refund_reads
from ..selectors.purchase import main_purchase
from ..selectors.refunds import refundable
from . import inputs, outbox
from .core import operation, status_label

# The order statuses that wait for a requested refund of each direction to be answered.
WAITING_FOR = {
    RefundDirection.TO_BUYER: (Status.REFUND_PENDING, Status.ESCALATED),
    RefundDirection.FROM_SUPPLIER: (Status.SUPPLIER_REFUND_PENDING,),
}


def create_refund_locked(
    order: Order,
    *,
    by: AbstractBaseUser | None,
    direction: str,
    amount: Decimal,
    reason: str,
    idempotency_key: str,
    reference: str = "",
    respond_by: datetime | None = None,
    kind: str = "",
    units: int | None = None,
    supplier_order: SupplierOrder | None = None,
) -> tuple[Refund, bool]:
    """Create a refund under the order lock the caller holds. Returns (refund, created).

    A supplier refund names its purchase (default: the order's main one, ``selectors.purchase``),
    its kind and the units it covers (checked by ``workflow.purchase.check_supplier_request``)."""
    existing = Refund.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return _same_refund(existing, order, direction, amount), False
    remaining = refundable(order, direction)
    currency = order.currency if direction == RefundDirection.TO_BUYER else "CNY"
    if amount > remaining:
        what = _("paid by the buyer") if direction == RefundDirection.TO_BUYER else _("the supplier order")
        raise Refused(
            _(
                "A refund of %(amount)s %(currency)s would exceed what was %(what)s: at most "
                "%(remaining)s %(currency)s can still be refunded."
            )
            % {"amount": amount, "what": what, "remaining": remaining, "currency": currency},
            field="amount",
        )
    if direction == RefundDirection.FROM_SUPPLIER and supplier_order is None:
        supplier_order = main_purchase(order)
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
                kind=kind if direction == RefundDirection.FROM_SUPPLIER else "",
                units=units if direction == RefundDirection.FROM_SUPPLIER else None,
                supplier_order=supplier_order if direction == RefundDirection.FROM_SUPPLIER else None,
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


def succeed_refund(refund: Refund, *, reference: str = "") -> None:
    """The refund went through (under the caller's order lock); a buyer is sent the confirmation."""
    refund.succeed(timezone.now(), reference)
    refund.save()
    if refund.direction == RefundDirection.TO_BUYER:
        outbox.record_refund_confirmation(refund)


def requested_refunds(order: Order, direction: str) -> list[Refund]:
    """The order's refunds of ``direction`` still waiting for an answer, locked, newest first."""
    return list(refund_reads.requested_refunds(order, direction).select_for_update())


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
    Records a ``create_refund`` event when a refund is created.
    """
    policy.require(by, "orders.add_refund", _("request refunds"))
    if not isinstance(direction, str) or direction not in RefundDirection.values:
        raise Refused(
            _("“%(d)s” is not a refund direction.") % {"d": inputs.shown(direction)}, field="direction"
        )
    reason = inputs.note(reason, "reason")
    reference = inputs.optional_text(reference, "reference", 100)
    key = inputs.required_text(idempotency_key, "idempotency_key", _("Give the refund a request key."))
    amount = inputs.money(amount, "amount", _("Refund amount"))
    with operation("create_refund", order, by=by) as t:
        if (
            t.order.status in (Status.AWAITING_PAYMENT, Status.CLOSED)
            and direction == RefundDirection.TO_BUYER
        ):
            existing = Refund.objects.filter(idempotency_key=key).first()
            if existing is not None:
                return _same_refund(existing, t.order, direction, amount)
            raise Refused(
                _("Order %(order)s is “%(status)s”: there is nothing to refund.")
                % {"order": t.order, "status": status_label(t.order.status)}
            )
        refund, created = create_refund_locked(
            t.order,
            by=by,
            direction=direction,
            amount=amount,
            reason=reason,
            idempotency_key=key,
            reference=reference,
        )
        if created:
            t.event(refund=refund.pk, direction=direction, amount=amount, reason=reason)
    return refund


def _refund_and_order(refund: Refund | int, by: AbstractBaseUser | None) -> tuple[int, int]:
    """The refund's pk and its order's, among ``by``'s stores (another store's: "does not exist")."""
    pk = refund.pk if isinstance(refund, Refund) else refund
    try:
        return pk, policy.scope(by, Refund.objects).values_list("order_id", flat=True).get(pk=pk)
    except (Refund.DoesNotExist, ValueError, TypeError):
        raise Refused(_("Refund %(r)s does not exist.") % {"r": refund}) from None


def mark_refund_received(refund: Refund | int, *, by: AbstractBaseUser | None, note: str = "") -> Refund:
    """The money was seen to arrive: a supplier's in our account (Finance), a buyer's refund on the
    platform (Finance, or who confirms refunds there: ``policy.may_mark_received``)."""
    note = inputs.note(note)
    if by is not None and not policy.may_any(by, policy.RECEIVED_PERMISSIONS):
        raise NotPermitted(_("You are not allowed to %(doing)s.") % {"doing": _("mark refunds received")})
    pk, order_id = _refund_and_order(refund, by)
    if by is not None and not policy.may_mark_received(by, Refund.objects.get(pk=pk)):
        raise NotPermitted(
            _(
                "You are not allowed to mark a refund from a supplier received: Finance sees that "
                "money arrive."
            )
        )
    with operation("mark_refund_received", order_id, by=by) as t:
        locked = Refund.objects.select_for_update().get(pk=pk)
        if not can_proceed(locked.mark_received):
            raise Refused(
                _("Only a succeeded refund can be marked received; this one is “%(status)s”.")
                % {"status": locked.get_status_display()}
            )
        locked.mark_received(timezone.now())
        locked.save()
        t.event(refund=locked.pk, amount=locked.amount, direction=locked.direction, note=note)
    return locked


def cancel_refund(refund: Refund | int, *, by: AbstractBaseUser | None, note: str) -> Refund:
    """A requested refund that will not happen (say why in ``note``): it is cancelled.

    Needs ``orders.add_refund`` (who may request a refund may withdraw one). A cancelled refund
    no longer counts against what may be refunded. Refused unless the refund is still
    requested, and when it is the one refund its order's status waits for (a confirmed,
    approved or refused refund is recorded by the order's own transition). Records a
    ``cancel_refund`` event on the order.
    """
    policy.require(by, "orders.add_refund", _("cancel refunds"))
    note = inputs.note(note, required=_("Say why the refund will not happen."))
    pk, order_id = _refund_and_order(refund, by)
    with operation("cancel_refund", order_id, by=by) as t:
        locked = Refund.objects.select_for_update().get(pk=pk)
        if not can_proceed(locked.cancel):
            raise Refused(
                _("Only a requested refund can be cancelled; this one is “%(status)s”.")
                % {"status": locked.get_status_display()}
            )
        others = [r for r in requested_refunds(t.order, locked.direction) if r.pk != locked.pk]
        if t.order.status in WAITING_FOR[locked.direction] and not others:
            raise Refused(
                _(
                    "Order %(order)s is “%(status)s” and waits for this refund: record its answer "
                    "on the order instead."
                )
                % {"order": t.order, "status": status_label(t.order.status)}
            )
        locked.cancel(timezone.now())
        locked.save()
        t.event(refund=locked.pk, amount=locked.amount, direction=locked.direction, note=note)
    return locked
