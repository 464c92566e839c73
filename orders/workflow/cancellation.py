"""A paid order the buyer agrees to cancel: ask, hear the answer, refund, close.

The buyer's answer is evidence (a communication of kind ``consent`` or ``refusal`` recorded
since the order reached its status); when the platform does not release the refund, support
is asked with the evidence attached. What each transition needs recorded first is declared in
``orders.transitions`` and checked by ``core.transition``.
"""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from shopops.errors import Refused

from ..models import CloseReason, Order, RefundDirection
from ..selectors.refunds import refundable
from . import inputs, stock
from . import purchase as purchase_flow
from .core import transition
from .refunds import create_refund_locked, requested_refunds, succeed_refund


def request_cancellation(
    order: Order | int, *, by: AbstractBaseUser | None, note: str = "", take_over: bool = False
) -> Order:
    """Paid → cancellation under negotiation. Requires a communication with the buyer."""
    note = inputs.note(note)
    with transition("request_cancellation", order, by=by, take_over=take_over) as t:
        t.apply()
        t.event(note=note)
    return t.order


def record_buyer_refusal(
    order: Order | int, *, by: AbstractBaseUser | None, note: str = "", take_over: bool = False
) -> Order:
    """Cancellation under negotiation → paid. Requires the buyer's refusal recorded."""
    note = inputs.note(note)
    with transition("record_buyer_refusal", order, by=by, take_over=take_over) as t:
        t.apply()
        t.event(note=note)
    return t.order


def record_buyer_consent(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    reason: str,
    amount: Decimal | str | None = None,
    purchase: str = "",
    purchase_reference: str = "",
    note: str = "",
    stock_count: int | str | None = 0,
    take_over: bool = False,
) -> Order:
    """Cancellation under negotiation → refund in progress. Creates the buyer refund, and says
    what happens to the 1688 purchase.

    Requires the buyer's consent recorded and a close reason; the refund amount defaults to all
    that may still be refunded and must be more than 0 and at most the amount paid. A close
    for ``out_of_stock`` also sets the SKU's stock to ``stock_count``, the units really in stock
    (0 by default: then it is flagged out of stock).

    ``purchase`` (``PurchaseOnClose``; default from the purchase's status): ``not_bought``
    (nothing to undo; the purchase costs nothing in the loss ledger), ``to_stock`` (the goods
    are in our warehouse: they go to our stock) or ``cancel_on_1688`` (a money-only supplier
    refund of the whole purchase, with ``purchase_reference`` when 1688 gave one; chased like
    any supplier refund, answered even after the sale has closed).
    """
    note = inputs.note(note)
    reason = inputs.close_reason(reason, note)
    wanted = inputs.optional_money(amount, "amount", _("Refund amount"))
    choice = purchase_flow.purchase_choice(purchase)
    purchase_reference = inputs.optional_text(purchase_reference, "purchase_reference", 100)
    count = inputs.stock_count(stock_count)
    with transition("record_buyer_consent", order, by=by, take_over=take_over) as t:
        amount = wanted if wanted is not None else refundable(t.order)
        if amount <= 0:
            raise Refused(_("Nothing is left to refund on this order."), field="amount")
        choice = purchase_flow.check_unshipped_close(t.order, choice, reason)
        t.apply(reason, note or "")
        refund, _created = create_refund_locked(
            t.order,
            by=by,
            direction=RefundDirection.TO_BUYER,
            amount=amount,
            reason=reason,
            idempotency_key=t.idempotency_key,
        )
        if reason == CloseReason.OUT_OF_STOCK:
            stock.mark_out_of_stock(t.order.sku_id, by=by, order=t.order, count=count)
            t.event(stock_count=count)
        done = purchase_flow.close_unshipped_purchase(t, choice, reference=purchase_reference, note=note)
        t.event(amount=amount, note=note, refund=refund.pk, **done)
    return t.order


def escalate_to_support(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    reference: str,
    note: str = "",
    take_over: bool = False,
) -> Order:
    """Refund in progress → with platform support. Requires a ticket reference and evidence."""
    note = inputs.note(note)
    reference = inputs.required_text(
        reference, "reference", _("Enter the platform support ticket reference.")
    )
    with transition("escalate_to_support", order, by=by, take_over=take_over) as t:
        t.apply(reference)
        t.event(reference=reference, note=note)
    return t.order


def confirm_refund(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    reference: str,
    note: str = "",
    take_over: bool = False,
) -> Order:
    """Refund in progress / with support → closed. Marks the buyer refunds succeeded.

    The buyer is then sent one refund confirmation (email, and SMS when a phone is known).
    """
    note = inputs.note(note)
    reference = inputs.required_text(reference, "reference", _("Enter the platform refund reference."))
    with transition("confirm_refund", order, by=by, take_over=take_over) as t:
        pending = requested_refunds(t.order, RefundDirection.TO_BUYER)
        if not pending:
            raise Refused(_("This order has no buyer refund waiting to be confirmed."))
        t.apply()
        for refund in pending:
            succeed_refund(refund, reference=reference)
        t.event(reference=reference, note=note, refunds=[r.pk for r in pending])
    return t.order
