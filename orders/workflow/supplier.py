"""After the goods came back: ask the 1688 supplier for our money, and record the answer."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops.errors import Refused

from ..models import Order, Refund, RefundDirection
from ..selectors.platform_refunds import files_on_1688
from ..selectors.purchase import purchase_units
from ..selectors.refunds import refund_limit
from ..selectors.stores import default_respond_by
from . import inputs
from . import purchase as purchase_flow
from .core import transition
from .refund_filing import record_filing
from .refunds import create_refund_locked, requested_refunds, succeed_refund


def request_supplier_refund(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    amount: Decimal | str,
    reason: str,
    reference: str = "",
    respond_by: datetime | str | None = None,
    kind: str = "",
    units: int | str | None = None,
    note: str = "",
    take_over: bool = False,
) -> Order:
    """Return received → awaiting supplier. Creates the supplier refund with its deadline.

    The amount (CNY) must be more than 0, at most the supplier order amount not yet refunded and
    at most what the ``units`` asked for cost; the respond-by deadline defaults to the store's
    supplier respond-by days from now (``SHOPOPS_SUPPLIER_RESPOND_DAYS`` when the store sets none).

    ``kind`` is 1688's: ``return_refund`` covers units sent back to the supplier, ``refund``
    (money only) units neither in our stock nor sent back; default ``return_refund`` when units
    were sent back and not yet asked for. ``units`` defaults to all the kind may still cover.
    A request that would count a unit twice (or goods in our stock) is refused.

    ``reference`` is the 1688 refund id of a request filed by hand. Left out on an order whose
    store is connected to 1688 and whose purchase has its 1688 order id, Shopops files the
    request itself after commit (``refund_filing``: reasons, vouchers, ``createRefund``, once)
    and records 1688's refund id as the reference; elsewhere it is required.
    """
    note = inputs.note(note)
    amount = inputs.money(amount, "amount", _("Supplier refund amount"))
    kind = purchase_flow.supplier_kind(kind)
    wanted_units = (
        None
        if units is None or units == ""
        else inputs.quantity(units, "units", label=_("Units the refund covers"))
    )
    reason_text = inputs.note(reason, "reason", required=_("Say why the supplier should refund."))
    reference = inputs.optional_text(reference, "reference", 100)
    deadline = inputs.deadline(respond_by, "respond_by", default=None)
    with transition("request_supplier_refund", order, by=by, take_over=take_over) as t:
        files = not reference and files_on_1688(t.order)
        if not reference and not files:
            raise Refused(
                _(
                    "Enter the 1688 refund reference (Shopops files the request on 1688 itself only "
                    "for a store connected to 1688 whose purchase has its 1688 order id)."
                ),
                field="reference",
            )
        if deadline is None:
            deadline = default_respond_by(t.order)
        if refund_limit(t.order, RefundDirection.FROM_SUPPLIER) <= 0:
            raise Refused(
                _("Record the 1688 supplier order and its amount before asking the supplier for a refund.")
            )
        kind, covered = purchase_flow.check_supplier_request(t.order, kind, wanted_units, amount)
        t.apply()
        refund, _created = create_refund_locked(
            t.order,
            by=by,
            direction=RefundDirection.FROM_SUPPLIER,
            amount=amount,
            reason=reason_text,
            reference=reference,
            respond_by=deadline,
            idempotency_key=t.idempotency_key,
            kind=kind,
            units=covered,
        )
        filing = record_filing(t.order, refund) if files else None
        t.event(
            amount=amount,
            kind=kind,
            units=covered,
            reason=reason_text,
            reference=reference,
            respond_by=deadline,
            note=note,
            refund=refund.pk,
            filed_on="1688" if filing is not None else None,
        )
    return t.order


def close_return(
    order: Order | int, *, by: AbstractBaseUser | None, note: str = "", take_over: bool = False
) -> Order:
    """Return received → closed, asking the supplier for nothing: the goods came back into our
    stock (never the supplier's to refund), or the Supervisor decides not to claim the rest —
    then the note must say why. The buyer was refunded when the goods arrived."""
    note = inputs.note(note)
    with transition("close_return", order, by=by, take_over=take_over) as t:
        counted = purchase_units(t.order)
        claimable = counted.returnable + counted.money_refundable
        if claimable and refund_limit(t.order, RefundDirection.FROM_SUPPLIER) > 0 and not note:
            raise Refused(
                _(
                    "%(n)d unit(s) not in our stock could still be asked of the supplier: ask for the "
                    "refund, or say in the note why not."
                )
                % {"n": claimable},
                field="note",
            )
        t.apply()
        t.event(note=note, in_stock=counted.in_stock, not_claimed=claimable)
    return t.order


def _pending_supplier_refund(order: Order) -> Refund:
    """The supplier refund the order waits for (the latest one asked), locked."""
    pending = requested_refunds(order, RefundDirection.FROM_SUPPLIER)
    if not pending:
        raise Refused(_("This order has no supplier refund waiting for an answer."))
    return pending[0]


def record_supplier_approval(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    amount: Decimal | str | None = None,
    reference: str = "",
    note: str = "",
    take_over: bool = False,
) -> Order:
    """Awaiting supplier → closed. The supplier refund succeeds with the approved amount."""
    note = inputs.note(note)
    approved = inputs.optional_money(amount, "amount", _("Approved amount"))
    reference = inputs.optional_text(reference, "reference", 100)
    with transition("record_supplier_approval", order, by=by, take_over=take_over) as t:
        refund = _pending_supplier_refund(t.order)
        if approved is not None and approved > refund.amount:
            raise Refused(
                _("The approved amount cannot exceed the %(asked)s CNY asked for.")
                % {"asked": refund.amount},
                field="amount",
            )
        t.apply()
        if approved is not None:
            refund.amount = approved
        succeed_refund(refund, reference=reference)
        t.event(amount=refund.amount, reference=reference, note=note, refund=refund.pk)
    return t.order


def record_supplier_refusal(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    reference: str,
    note: str = "",
    take_over: bool = False,
) -> Order:
    """Awaiting supplier → in dispute. Requires the supplier's refusal and a dispute reference."""
    note = inputs.note(note)
    reference = inputs.required_text(reference, "reference", _("Enter the 1688 dispute reference."))
    with transition("record_supplier_refusal", order, by=by, take_over=take_over) as t:
        refund = _pending_supplier_refund(t.order)
        t.apply(reference)
        refund.reject(timezone.now())
        refund.save()
        t.event(reference=reference, note=note, refund=refund.pk)
    return t.order
