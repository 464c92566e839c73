"""A dispute, opened by the buyer on the platform or by us with the supplier, and its outcome."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from shopops.errors import Refused

from ..models import Order, Outcome, Refund, RefundDirection, RefundStatus
from ..selectors.refunds import refundable
from . import inputs
from .core import transition
from .refunds import create_refund_locked, succeed_refund


def open_buyer_dispute(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    reference: str,
    note: str = "",
    take_over: bool = False,
) -> Order:
    """Shipped / return under negotiation → in dispute. Requires the buyer's dispute reference."""
    note = inputs.note(note)
    reference = inputs.required_text(reference, "reference", _("Enter the buyer's dispute reference."))
    with transition("open_buyer_dispute", order, by=by, take_over=take_over) as t:
        t.apply(reference)
        t.event(reference=reference, note=note)
    return t.order


def resolve_dispute(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    outcome: str,
    amount: Decimal | str | None = None,
    reason: str = "",
    note: str = "",
    take_over: bool = False,
) -> Order:
    """In dispute → closed with the outcome (won, partial, lost) and the amount recovered.

    A buyer may open a dispute on a shipped order before any close reason was recorded; a
    closed order must have one, so ``reason`` is then required (otherwise it is optional and
    does not replace the reason recorded earlier).

    A dispute with the supplier (after a refusal) recovers money from the supplier: the amount
    is recorded as a succeeded supplier refund. A buyer's dispute decides what the buyer gets
    back: the amount is recorded as a succeeded buyer refund and the buyer is told.
    """
    note = inputs.note(note)
    if outcome not in (Outcome.WON, Outcome.PARTIAL, Outcome.LOST):
        raise Refused(_("Choose the outcome: won, partial or lost."), field="outcome")
    given = inputs.optional_money(amount, "amount", _("Amount"), allow_zero=True)
    new_reason = inputs.close_reason(reason, note) if reason else ""
    with transition("resolve_dispute", order, by=by, take_over=take_over) as t:
        if not t.order.close_reason and not new_reason:
            raise Refused(_("Choose the close reason of this dispute."), field="reason")
        supplier_dispute = Refund.objects.filter(
            order=t.order, direction=RefundDirection.FROM_SUPPLIER, status=RefundStatus.REJECTED
        ).exists()
        direction = RefundDirection.FROM_SUPPLIER if supplier_dispute else RefundDirection.TO_BUYER
        remaining = refundable(t.order, direction)
        if given is not None:
            recovered = given
        elif outcome == Outcome.PARTIAL:
            raise Refused(_("Enter the amount of a partial outcome."), field="amount")
        else:
            # Money moves when we win against the supplier (it refunds us) or lose against the
            # buyer (we refund them); otherwise nobody pays anything back.
            recovered = remaining if (outcome == Outcome.WON) == supplier_dispute else Decimal("0.00")
        if recovered > remaining:
            raise Refused(
                _("The amount cannot exceed %(remaining)s.") % {"remaining": remaining}, field="amount"
            )
        if not t.order.close_reason:
            t.order.close_reason = new_reason
            t.order.close_note = note or ""
        t.apply(outcome)
        t.event(outcome=outcome, amount=recovered, direction=direction, note=note)
        if recovered > 0:
            refund, created = create_refund_locked(
                t.order,
                by=by,
                direction=direction,
                amount=recovered,
                reason=_("Dispute outcome: %(outcome)s") % {"outcome": outcome},
                idempotency_key=t.idempotency_key,
            )
            if created:
                succeed_refund(refund)
            t.event(refund=refund.pk)
    return t.order
