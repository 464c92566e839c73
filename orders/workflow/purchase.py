"""The 1688 purchase's own life: what each close does with it, its refunds and their answers.

- :func:`close_unshipped_purchase` — a paid, not shipped close (``record_buyer_consent``'s
  ``purchase`` input): not bought yet (nothing to undo), goods in our warehouse (they go to our
  stock), or cancel on 1688 (a money-only supplier refund of the whole purchase, chased like any
  other, answered after the sale has closed if need be).
- :func:`send_back` — the units of a return that go back to the supplier (``receive_return``).
- :func:`check_supplier_request` — a supplier request that would cover a unit twice, or goods in
  our stock, or more than its units cost, is refused in words.
- :func:`update_purchase` — the purchase placed, shipped by the supplier, received or sent on;
  its 1688 ids, units, amount and the tracking number of goods sent back.
- :func:`record_purchase_refund_approval` / :func:`record_purchase_refund_refusal` — the
  supplier's answer to a request the order's own status does not wait for (a 1688 cancellation
  after the sale closed).

The rules on units are read from ``orders.selectors.purchase``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops import inputs as shared_inputs
from shopops.errors import Refused

from .. import policy
from ..models import (
    BOUGHT_STATUSES,
    PURCHASE_MOVES,
    CloseReason,
    MovementReason,
    Order,
    PurchaseOnClose,
    PurchaseStatus,
    Refund,
    RefundDirection,
    RefundStatus,
    Status,
    SupplierOrder,
    SupplierRefundKind,
)
from ..selectors import purchase as reads
from ..selectors.refunds import refundable
from ..selectors.stores import default_respond_by
from . import inputs, stock
from .core import Step, operation, status_label
from .refund_filing import record_filing
from .refunds import create_refund_locked, succeed_refund

UPDATE_PERMISSION = "orders.change_supplierorder"
APPROVAL_PERMISSION = "orders.record_supplier_approval"
REFUSAL_PERMISSION = "orders.record_supplier_refusal"


def purchase_label(purchase: SupplierOrder) -> str:
    return purchase.supplier_order_id or purchase.supplier_name or f"#{purchase.pk}"


def _locked_purchases(order: Order) -> list[SupplierOrder]:
    return list(SupplierOrder.objects.select_for_update().filter(order=order).order_by("pk"))


def _move(purchase: SupplierOrder, status: str) -> None:
    purchase.status = status
    purchase.status_changed_at = timezone.now()
    purchase.save(update_fields=["status", "status_changed_at"])


# --- a paid, not shipped close --------------------------------------------------------------


def purchase_choice(value: Any) -> str:
    """``record_buyer_consent``'s ``purchase`` input: one of ``PurchaseOnClose``, or "" (the default)."""
    if value is None or value == "":
        return ""
    return inputs.choice(value, "purchase", PurchaseOnClose, label=_("The 1688 purchase"))


def check_unshipped_close(order: Order, choice: str, reason: str) -> str:
    """The choice for ``order`` (its default when ``choice`` is ""), refused in words when it does
    not fit the purchase recorded. Under the order lock, before the move."""
    choice = choice or reads.default_purchase_on_close(order)
    found = reads.purchases(order)
    statuses = {p.status for p in found}
    open_ = statuses & {PurchaseStatus.PLACED, PurchaseStatus.SHIPPED, PurchaseStatus.FORWARDED}
    if choice == PurchaseOnClose.NOT_BOUGHT and (open_ or PurchaseStatus.RECEIVED in statuses):
        raise Refused(
            _(
                "The 1688 purchase %(purchase)s is recorded as “%(status)s”: it was bought. Cancel it "
                "on 1688, or keep its goods in our stock."
            )
            % {"purchase": purchase_label(found[0]), "status": found[0].get_status_display()},
            field="purchase",
        )
    if choice == PurchaseOnClose.TO_STOCK:
        if not (open_ or PurchaseStatus.RECEIVED in statuses):
            raise Refused(
                _("No bought 1688 purchase is recorded on this order: there are no goods of it to keep."),
                field="purchase",
            )
        if reason == CloseReason.OUT_OF_STOCK:
            raise Refused(
                _(
                    "The goods are in our warehouse: this close cannot be for “Out of stock”, which "
                    "sets the SKU's stock to 0."
                ),
                field="purchase",
            )
    if choice == PurchaseOnClose.CANCEL_ON_1688:
        if not open_:
            raise Refused(
                _(
                    "There is no 1688 purchase placed and not yet received to cancel: choose “Not "
                    "bought yet”, or keep the goods in our stock."
                ),
                field="purchase",
            )
        if refundable(order, RefundDirection.FROM_SUPPLIER) <= 0:
            raise Refused(
                _("Record the 1688 purchase's amount before asking the supplier to refund it."),
                field="purchase",
            )
    return choice


def close_unshipped_purchase(t: Step, choice: str, *, reference: str, note: str) -> dict[str, Any]:
    """Carry out ``choice`` (checked by :func:`check_unshipped_close`) on the locked order; the
    history data it adds."""
    order, by = t.order, t.by
    found = _locked_purchases(order)
    if choice == PurchaseOnClose.NOT_BOUGHT:
        return {"purchase": choice}
    if choice == PurchaseOnClose.TO_STOCK:
        units = reads.units_bought(order, found)
        for purchase in reads.bought(found):
            if purchase.status != PurchaseStatus.RECEIVED:
                _move(purchase, PurchaseStatus.RECEIVED)
        stock.record_movement(
            order.sku_id, delta=units, reason=MovementReason.PURCHASE_KEPT, by=by, order=order, note=note
        )
        return {"purchase": choice, "units": units}
    # Cancel on 1688: the whole purchase, money only (1688 asks for all that was paid while the
    # supplier has not shipped). Chased by the supplier chasing job like any supplier refund.
    counted = reads.purchase_units(order)
    purchase = reads.bought(found)[0]
    amount = refundable(order, RefundDirection.FROM_SUPPLIER)
    refund, _created = create_refund_locked(
        order,
        by=by,
        direction=RefundDirection.FROM_SUPPLIER,
        amount=amount,
        reason=_("Sale cancelled before the supplier shipped: cancel the purchase and refund it."),
        reference=reference,
        respond_by=default_respond_by(order),
        idempotency_key=f"{t.idempotency_key}-purchase",
        kind=SupplierRefundKind.REFUND,
        units=counted.money_refundable or counted.bought,
        supplier_order=purchase,
    )
    # Without a reference, on a store connected to 1688: Shopops files the cancellation itself.
    filing = record_filing(order, refund)
    return {
        "purchase": choice,
        "purchase_refund": refund.pk,
        "purchase_amount": amount,
        "filed_on": "1688" if filing is not None else None,
    }


# --- a return's units -------------------------------------------------------------------------


def send_back(order: Order, units: int) -> SupplierOrder:
    """``units`` received from the buyer go back to the supplier: counted on the main purchase."""
    purchase = reads.main_purchase(order)
    if purchase is None or purchase.status not in BOUGHT_STATUSES:
        raise Refused(
            _("No bought 1688 purchase is recorded on this order: the goods cannot go back to a supplier."),
            field="to_supplier",
        )
    SupplierOrder.objects.filter(pk=purchase.pk).update(returned_quantity=F("returned_quantity") + units)
    return purchase


# --- a supplier refund request ----------------------------------------------------------------


def supplier_kind(value: Any) -> str:
    """A supplier request's ``kind``: one of ``SupplierRefundKind``, or "" (the default)."""
    if value is None or value == "":
        return ""
    return inputs.choice(value, "kind", SupplierRefundKind, label=_("Kind of refund"))


def check_supplier_request(order: Order, kind: str, units: int | None, amount: Decimal) -> tuple[str, int]:
    """The (kind, units) of a supplier request on ``order``, defaults filled in; refused in words
    when it would cover a unit twice, cover goods in our stock, or ask more than its units cost."""
    counted = reads.purchase_units(order)
    kind = kind or reads.default_refund_kind(counted)
    room = counted.room(kind)
    if units is None:
        units = room
    if units > room or units == 0:
        raise Refused(_twice(kind, counted, units), field="units")
    cost = reads.units_share(order, units, counted)
    if amount > cost:
        raise Refused(
            _(
                "%(amount)s CNY is more than the %(units)d unit(s) asked for cost: at most %(cost)s CNY "
                "(the purchase's %(total)s CNY for %(bought)d unit(s))."
            )
            % {
                "amount": amount,
                "units": units,
                "cost": cost,
                "total": reads.bought_amount(order),
                "bought": counted.bought,
            },
            field="amount",
        )
    return kind, units


def _twice(kind: str, counted: reads.PurchaseUnits, units: int) -> str:
    left = counted.room(kind)
    if left:
        rest = _("at most %(left)d more can be asked for, not %(units)d.") % {"left": left, "units": units}
    else:
        rest = _("nothing is left to ask the supplier for.")
    if kind == SupplierRefundKind.RETURN_REFUND:
        return _(
            "That would count a unit twice: a “goods sent back” refund covers only units sent back to "
            "the supplier; %(sent)d unit(s) went back, %(covered)d of them are in a refund request "
            "already, and the %(stock)d in our stock are not the supplier's to refund: %(rest)s"
        ) % {
            "sent": counted.sent_back,
            "covered": counted.return_covered,
            "stock": counted.in_stock,
            "rest": rest,
        }
    return _(
        "That would count a unit twice: of the %(bought)d unit(s) bought, %(stock)d are in our stock "
        "(the supplier does not refund goods we keep), %(sent)d went back to the supplier (asked for "
        "as goods sent back) and %(covered)d are in a money-only request already: %(rest)s"
    ) % {
        "bought": counted.bought,
        "stock": counted.in_stock,
        "sent": counted.sent_back,
        "covered": counted.money_covered,
        "rest": rest,
    }


# --- the purchase by hand ----------------------------------------------------------------------


def update_purchase(
    supplier_order: SupplierOrder | int,
    *,
    by: AbstractBaseUser | None,
    status: str = "",
    supplier_order_id: str | None = None,
    entry_ids: Any = None,
    quantity: int | str | None = None,
    amount: Decimal | str | None = None,
    return_tracking_number: str | None = None,
    note: str = "",
) -> SupplierOrder:
    """Record where the 1688 purchase stands and what 1688 says of it; inputs left ``None`` (or a
    blank status) stay as they are. A status moves only forward (``PURCHASE_MOVES``: placed →
    shipped by the supplier → received or sent on); the amount is frozen once the supplier was
    asked for a refund. Needs ``orders.change_supplierorder``. One ``update_purchase`` event."""
    policy.require(by, UPDATE_PERMISSION, _("update 1688 purchases"))
    note = inputs.note(note)
    status = inputs.choice(status, "status", PurchaseStatus, label=_("Status")) if status else ""
    new: dict[str, Any] = {}
    if supplier_order_id is not None:
        ids = shared_inputs.platform_ids(supplier_order_id, "supplier_order_id", label=_("1688 order id"))
        if len(ids) > 1:
            raise Refused(_("Give one 1688 order id."), field="supplier_order_id")
        new["supplier_order_id"] = ids[0] if ids else ""
    if entry_ids is not None:
        new["entry_ids"] = shared_inputs.platform_ids(entry_ids, "entry_ids", label=_("1688 order entry ids"))
    if quantity is not None and quantity != "":
        new["quantity"] = inputs.quantity(quantity, "quantity", label=_("Units bought"))
    if amount is not None and amount != "":
        new["amount"] = inputs.money(amount, "amount", _("Amount (CNY)"))
    if return_tracking_number is not None:
        new["return_tracking_number"] = inputs.optional_text(
            return_tracking_number, "return_tracking_number", 64
        )
    pk = supplier_order.pk if isinstance(supplier_order, SupplierOrder) else supplier_order
    order_id = _purchase_order(pk, by)
    with operation("update_purchase", order_id, by=by) as t:
        locked = SupplierOrder.objects.select_for_update().get(pk=pk)
        changed = {k: v for k, v in new.items() if getattr(locked, k) != v}
        if (
            "amount" in changed
            and Refund.objects.filter(order=t.order, direction=RefundDirection.FROM_SUPPLIER).exists()
        ):
            raise Refused(
                _("The supplier was already asked for a refund on this purchase: its amount stays as asked."),
                field="amount",
            )
        if status and status != locked.status:
            if status not in PURCHASE_MOVES[locked.status]:
                raise Refused(
                    _("The purchase is “%(now)s”: it cannot become “%(then)s”.")
                    % {"now": locked.get_status_display(), "then": PurchaseStatus(status).label},
                    field="status",
                )
            changed["status"] = status
            changed["status_changed_at"] = timezone.now()
        for name, value in changed.items():
            setattr(locked, name, value)
        if changed:
            locked.save(update_fields=list(changed))
        recorded = {k: v for k, v in changed.items() if k != "status_changed_at"}
        if recorded or note:
            t.event(
                **{
                    "purchase": locked.pk,
                    "supplier_order_id": locked.supplier_order_id,
                    **recorded,
                    "note": note,
                }
            )
    return locked


def _purchase_order(pk: Any, by: AbstractBaseUser | None) -> int:
    try:
        return policy.scope(by, SupplierOrder.objects).values_list("order_id", flat=True).get(pk=pk)
    except (SupplierOrder.DoesNotExist, ValueError, TypeError):
        raise Refused(_("Purchase %(p)s does not exist.") % {"p": shared_inputs.shown(pk)}) from None


# --- the supplier's answer to a purchase refund the order's status does not wait for ----------


def _refund_for_answer(refund: Refund | int, by: AbstractBaseUser | None) -> tuple[int, int]:
    pk = refund.pk if isinstance(refund, Refund) else refund
    try:
        order_id = (
            policy.scope(by, Refund.objects)
            .filter(direction=RefundDirection.FROM_SUPPLIER)
            .values_list("order_id", flat=True)
            .get(pk=pk)
        )
    except (Refund.DoesNotExist, ValueError, TypeError):
        raise Refused(
            _("Supplier refund %(r)s does not exist.") % {"r": shared_inputs.shown(refund)}
        ) from None
    return pk, order_id


def _locked_requested(t: Step, pk: int) -> Refund:
    locked = Refund.objects.select_for_update(of=("self",)).select_related("supplier_order").get(pk=pk)
    if locked.status != RefundStatus.REQUESTED:
        raise Refused(
            _("This supplier refund is “%(status)s”: it was answered already.")
            % {"status": locked.get_status_display()}
        )
    if t.order.status == Status.SUPPLIER_REFUND_PENDING:
        raise Refused(
            _(
                "Order %(order)s is “%(status)s”: record the supplier's answer with the order's steps "
                "“Supplier approved” or “Supplier refused”."
            )
            % {"order": t.order, "status": status_label(t.order.status)}
        )
    return locked


def record_purchase_refund_approval(
    refund: Refund | int,
    *,
    by: AbstractBaseUser | None,
    amount: Decimal | str | None = None,
    reference: str = "",
    note: str = "",
) -> Refund:
    """The supplier agreed: the refund succeeds with ``amount`` (CNY, at most what was asked;
    default all of it). A money-only refund of every unit of a purchase not received cancels the
    purchase. Needs ``orders.record_supplier_approval``; one ``purchase_refund_approved`` event."""
    policy.require(by, APPROVAL_PERMISSION, _("record the supplier's answer"))
    note = inputs.note(note)
    approved = inputs.optional_money(amount, "amount", _("Approved amount"))
    reference = inputs.optional_text(reference, "reference", 100)
    pk, order_id = _refund_for_answer(refund, by)
    with operation("purchase_refund_approved", order_id, by=by) as t:
        locked = _locked_requested(t, pk)
        if approved is not None and approved > locked.amount:
            raise Refused(
                _("The approved amount cannot exceed the %(asked)s CNY asked for.")
                % {"asked": locked.amount},
                field="amount",
            )
        if approved is not None:
            locked.amount = approved
        succeed_refund(locked, reference=reference)
        purchase = locked.supplier_order
        if (
            purchase is not None
            and locked.kind == SupplierRefundKind.REFUND
            and purchase.status in (PurchaseStatus.PLACED, PurchaseStatus.SHIPPED)
            and (locked.units or 0) >= reads.units_bought(t.order, [purchase])
        ):
            _move(purchase, PurchaseStatus.CANCELLED)
        t.event(
            refund=locked.pk,
            direction=RefundDirection.FROM_SUPPLIER,
            amount=locked.amount,
            kind=locked.kind,
            units=locked.units,
            reference=reference,
            note=note,
        )
    return locked


def record_purchase_refund_refusal(
    refund: Refund | int, *, by: AbstractBaseUser | None, reference: str = "", note: str = ""
) -> Refund:
    """The supplier refused: the refund is rejected (its units may be asked for again). Needs
    ``orders.record_supplier_refusal``; one ``purchase_refund_refused`` event."""
    policy.require(by, REFUSAL_PERMISSION, _("record the supplier's answer"))
    note = inputs.note(note)
    reference = inputs.optional_text(reference, "reference", 100)
    pk, order_id = _refund_for_answer(refund, by)
    with operation("purchase_refund_refused", order_id, by=by) as t:
        locked = _locked_requested(t, pk)
        locked.reject(timezone.now())
        locked.save()
        t.event(
            refund=locked.pk,
            direction=RefundDirection.FROM_SUPPLIER,
            amount=locked.amount,
            kind=locked.kind,
            reference=reference,
            note=note,
        )
    return locked
