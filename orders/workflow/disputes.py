"""A dispute, opened by the buyer on the platform or by us with the supplier, and its outcome."""

from __future__ import annotations

from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from shopops.errors import Refused

from ..models import DisputeWith, Order, Outcome, Refund, RefundDirection, RefundStatus
from ..selectors.purchase import dispute_with
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
    counterparty: str = "",
    amount: Decimal | str | None = None,
    reason: str = "",
    note: str = "",
    take_over: bool = False,
) -> Order:
    """In dispute → closed with the outcome (won, partial, lost) and the amount it moves.

    ``counterparty`` says whose dispute it is: ``buyer`` (on AliExpress, decided in the sale's
    currency: the amount is what the buyer gets back) or ``supplier`` (on 1688, decided in CNY:
    the amount is what the supplier refunds). Default: the order's, recorded when the dispute
    began ("Supplier refused" or "Buyer opened a dispute"); another one is refused.

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
    wanted = (
        inputs.choice(counterparty, "counterparty", DisputeWith, label=_("Dispute with"))
        if counterparty
        else ""
    )
    with transition("resolve_dispute", order, by=by, take_over=take_over) as t:
        if not t.order.close_reason and not new_reason:
            raise Refused(_("Choose the close reason of this dispute."), field="reason")
        who = dispute_with(t.order)
        if wanted and wanted != who:
            phrases = {
                DisputeWith.BUYER: _("the buyer on AliExpress"),
                DisputeWith.SUPPLIER: _("the supplier on 1688"),
            }
            raise Refused(
                _("This dispute is with %(who)s, not %(wanted)s: record the outcome of that dispute.")
                % {"who": phrases[who], "wanted": phrases[wanted]},
                field="counterparty",
            )
        supplier_dispute = who == DisputeWith.SUPPLIER
        direction = RefundDirection.FROM_SUPPLIER if supplier_dispute else RefundDirection.TO_BUYER
        currency = "CNY" if supplier_dispute else t.order.currency
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
                _("The amount cannot exceed %(remaining)s %(currency)s.")
                % {"remaining": remaining, "currency": currency},
                field="amount",
            )
        if not t.order.close_reason:
            t.order.close_reason = new_reason
            t.order.close_note = note or ""
        if not t.order.dispute_with:
            t.order.dispute_with = who
        t.apply(outcome)
        t.event(
            outcome=outcome,
            counterparty=who,
            amount=recovered,
            currency=currency,
            direction=direction,
            note=note,
        )
        if recovered > 0:
            # The supplier's refund covers what the refused request covered (its kind and units).
            refused = (
                Refund.objects.filter(
                    order=t.order, direction=RefundDirection.FROM_SUPPLIER, status=RefundStatus.REJECTED
                )
                .order_by("-requested_at", "-pk")
                .first()
                if supplier_dispute
                else None
            )
            refund, created = create_refund_locked(
                t.order,
                by=by,
                direction=direction,
                amount=recovered,
                reason=_("Dispute outcome: %(outcome)s") % {"outcome": outcome},
                idempotency_key=t.idempotency_key,
                kind=refused.kind if refused else "",
                units=refused.units if refused else None,
                supplier_order=refused.supplier_order if refused else None,
            )
            if created:
                succeed_refund(refund)
            t.event(refund=refund.pk)
    return t.order
