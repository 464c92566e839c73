"""A shipped order the buyer sends back: propose, agree, receive the goods, refund the buyer.

The buyer's message, refusal or agreement each transition needs is declared in
``orders.transitions`` and checked by ``core.transition``.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from shopops.errors import Refused
from shopops.money import CENT

from ..models import BOUGHT_STATUSES, MovementReason, Order, RefundDirection, ReturnCondition
from ..selectors.purchase import purchases
from ..selectors.refunds import refundable
from . import inputs, stock
from . import purchase as purchase_flow
from .core import transition
from .refunds import create_refund_locked, succeed_refund


def propose_return(
    order: Order | int, *, by: AbstractBaseUser | None, note: str = "", take_over: bool = False
) -> Order:
    """Shipped → return under negotiation. Requires a communication with the buyer."""
    note = inputs.note(note)
    with transition("propose_return", order, by=by, take_over=take_over) as t:
        t.apply()
        t.event(note=note)
    return t.order


def record_return_refusal(
    order: Order | int, *, by: AbstractBaseUser | None, note: str = "", take_over: bool = False
) -> Order:
    """Return under negotiation → shipped. Requires the buyer's refusal recorded."""
    note = inputs.note(note)
    with transition("record_return_refusal", order, by=by, take_over=take_over) as t:
        t.apply()
        t.event(note=note)
    return t.order


def record_return_agreement(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    reason: str,
    tracking_number: str = "",
    note: str = "",
    take_over: bool = False,
) -> Order:
    """Return under negotiation → awaiting returned goods. Requires the buyer's consent and a reason."""
    note = inputs.note(note)
    reason = inputs.close_reason(reason, note)
    tracking = inputs.optional_text(tracking_number, "tracking_number", 64)
    with transition("record_return_agreement", order, by=by, take_over=take_over) as t:
        t.apply(reason, note or "", tracking)
        t.event(tracking_number=tracking, note=note)
    return t.order


def _return_refund(order: Order, quantity: int, wanted: Decimal | None) -> Decimal:
    """What the buyer gets back for ``quantity`` returned units, unless an amount was given."""
    if wanted is not None:
        return wanted
    remaining = refundable(order)
    if quantity in (0, order.quantity):
        return remaining
    # An import may leave the unit price out (0.00): the share of what was paid then, never a
    # silent refund of nothing.
    if order.unit_price > 0:
        share = order.unit_price * quantity
    else:
        share = order.total_amount * quantity / order.quantity
    return min(remaining, share.quantize(CENT))


def receive_return(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    quantity: int | str,
    condition: str,
    amount: Decimal | str | None = None,
    to_supplier: int | str | None = None,
    note: str = "",
    take_over: bool = False,
) -> Order:
    """Awaiting returned goods → return received. Refunds the buyer; each unit received goes to
    our stock or back to the supplier.

    ``to_supplier``: how many of the units received go back to the 1688 supplier (they can then
    be asked back as a "goods sent back" refund); the others of a resellable return go to our
    stock (never the supplier's to refund). Left empty: a resellable return all to stock, a
    damaged one all back to the supplier when a purchase was bought (else kept), a missing one
    nothing.

    Confirming receipt on AliExpress releases the buyer's refund, so the refund is created as
    succeeded and the buyer is sent the confirmation. The amount defaults to what remains
    refundable for a full return, or unit price times quantity for a partial one (the quantity's
    share of the amount paid when the order has no unit price).
    """
    note = inputs.note(note)
    if condition not in ReturnCondition.values:
        raise Refused(
            _("Choose the condition of the returned goods: resellable, damaged or missing."),
            field="condition",
        )
    qty = inputs.quantity(quantity, "quantity", label=_("Quantity received"), minimum=0)
    wanted = inputs.optional_money(amount, "amount", _("Refund amount"))
    back = (
        None
        if to_supplier is None or to_supplier == ""
        else inputs.quantity(
            to_supplier, "to_supplier", label=_("Units sent back to the supplier"), minimum=0
        )
    )
    with transition("receive_return", order, by=by, take_over=take_over) as t:
        low = 0 if condition == ReturnCondition.MISSING else 1
        if not low <= qty <= t.order.quantity:
            raise Refused(
                _("Quantity received must be between %(low)d and %(high)d.")
                % {"low": low, "high": t.order.quantity},
                field="quantity",
            )
        if back is None:
            bought = any(p.status in BOUGHT_STATUSES for p in purchases(t.order))
            back = qty if condition == ReturnCondition.DAMAGED and bought else 0
        if back > qty:
            raise Refused(
                _("Only %(qty)d unit(s) were received: %(back)d cannot go back to the supplier.")
                % {"qty": qty, "back": back},
                field="to_supplier",
            )
        refund_amount = _return_refund(t.order, qty, wanted)
        t.apply()
        t.event(quantity=qty, condition=condition, amount=refund_amount, to_supplier=back, note=note)
        if back:
            purchase_flow.send_back(t.order, back)
        if refund_amount > 0:
            refund, created = create_refund_locked(
                t.order,
                by=by,
                direction=RefundDirection.TO_BUYER,
                amount=refund_amount,
                reason=t.order.close_reason,
                idempotency_key=t.idempotency_key,
            )
            if created:
                succeed_refund(refund)
            t.event(refund=refund.pk)
        if condition == ReturnCondition.RESELLABLE and qty > back:
            stock.record_movement(
                t.order.sku_id,
                delta=qty - back,
                reason=MovementReason.RETURN_RESELLABLE,
                by=by,
                order=t.order,
                note=note,
            )
    return t.order
