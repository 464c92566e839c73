"""Stock on hand changes only here, through append-only movements.

``record_movement`` is the one writer of the figure; ``adjust_stock`` adds the rules for a
person doing it by hand (a count correction or goods received from the supplier), and
``mark_out_of_stock`` is what a close for ``out_of_stock`` does to its SKU (its stock set to the
count the operator gives, 0 by default). ``save_sku`` adds a
SKU or changes its code and title (the admin's SKU form), never its stock.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils.translation import gettext as _

from shopops import inputs
from shopops.errors import Refused

from .. import policy
from ..models import MovementReason, Order, Sku, StockMovement

MANUAL_REASONS = (MovementReason.ADJUSTMENT, MovementReason.RESTOCK)
# The largest figure the stock columns (32-bit integers on PostgreSQL) hold.
MAX_STOCK = 2**31 - 1


@transaction.atomic
def record_movement(
    sku: Sku | int,
    *,
    delta: int,
    reason: str,
    by: AbstractBaseUser | None,
    order: Order | None = None,
    note: str = "",
    out_of_stock: bool | None = None,
) -> StockMovement:
    """Change a SKU's stock by ``delta`` and write the movement that explains it.

    ``out_of_stock`` sets the flag explicitly (a close for ``out_of_stock`` sets it even when the
    figure is already 0); otherwise the flag follows the figure once stock comes back.
    A movement of an order's goods belongs to a step on the order (a return received, a close
    that keeps the purchase): that step's history event writes the order's kept loss ledger
    (``ledger.refresh_ledger``); one recorded alone, outside a step, does not.
    """
    sku_id = sku.pk if isinstance(sku, Sku) else sku
    locked = Sku.objects.select_for_update().get(pk=sku_id)
    new_stock = locked.stock_on_hand + delta
    flag = out_of_stock if out_of_stock is not None else (locked.out_of_stock and new_stock <= 0)
    Sku.objects.filter(pk=sku_id).update(stock_on_hand=F("stock_on_hand") + delta, out_of_stock=flag)
    movement = StockMovement.objects.create(
        sku_id=sku_id, delta=delta, reason=reason, order=order, actor=by, note=note, stock_after=new_stock
    )
    if isinstance(sku, Sku):
        sku.stock_on_hand, sku.out_of_stock = new_stock, flag
    return movement


def mark_out_of_stock(
    sku_id: int, *, by: AbstractBaseUser | None, order: Order, count: int = 0
) -> StockMovement:
    """A close for ``out_of_stock``: what we counted is wrong, so the stock becomes ``count``, the
    units really there (0 by default), through one movement. The SKU is flagged out of stock
    when none is left; a count above 0 leaves it sellable. ``count`` is parsed by the caller
    (``workflow.inputs.stock_count``): a whole number, 0 or more."""
    if count < 0 or count > MAX_STOCK:
        raise Refused(_("The units really in stock are a whole number, 0 or more."), field="stock_count")
    current = Sku.objects.select_for_update().values_list("stock_on_hand", flat=True).get(pk=sku_id)
    return record_movement(
        sku_id,
        delta=count - current,
        reason=MovementReason.OUT_OF_STOCK,
        by=by,
        order=order,
        out_of_stock=count == 0,
    )


@transaction.atomic
def adjust_stock(
    sku: Sku | int, *, by: AbstractBaseUser | None, delta: int | str, reason: str, note: str
) -> StockMovement:
    """Change a SKU's stock by ``delta`` through one movement (``adjustment`` or ``restock``).

    Needs ``orders.adjust_stock``. Refused when the change is zero or not a whole number, the
    reason is not a manual one, a restock is negative, the note is missing, or the stock would go
    below zero or above ``MAX_STOCK``. A restock that brings stock above zero clears the
    out-of-stock flag.
    """
    policy.require(by, "orders.adjust_stock", _("adjust stock"))
    change = inputs.quantity(delta, "delta", label=_("The change"), minimum=-MAX_STOCK, maximum=MAX_STOCK)
    if change == 0:
        raise Refused(
            _("A change of 0 changes nothing; give how many units to add or remove."), field="delta"
        )
    if reason not in MANUAL_REASONS:
        raise Refused(
            _("Choose why: a stock count adjustment or goods received from the supplier."), field="reason"
        )
    if reason == MovementReason.RESTOCK and change < 0:
        raise Refused(_("Goods received add stock: give a positive number."), field="delta")
    note = inputs.text(
        note,
        "note",
        max_length=2000,
        multiline=True,
        required=True,
        message=_("Write a note saying where the change comes from (count sheet, 1688 order…)."),
    )
    sku_id = (
        sku.pk if isinstance(sku, Sku) else inputs.quantity(sku, "sku", label=_("SKU"), maximum=inputs.MAX_ID)
    )
    try:
        locked = Sku.objects.select_for_update().get(pk=sku_id)
    except (Sku.DoesNotExist, ValueError, TypeError):
        raise Refused(_("SKU %(sku)s does not exist.") % {"sku": sku_id}) from None
    if locked.stock_on_hand + change < 0:
        raise Refused(
            _("%(sku)s has %(on_hand)d in stock; removing %(n)d would leave less than nothing.")
            % {"sku": locked.code, "on_hand": locked.stock_on_hand, "n": -change},
            field="delta",
        )
    if locked.stock_on_hand + change > MAX_STOCK:
        # A typo (an order number pasted into the change): say so rather than hit the column limit.
        raise Refused(
            _("%(sku)s cannot hold more than %(max)d units; check the change %(n)d.")
            % {"sku": locked.code, "max": MAX_STOCK, "n": change},
            field="delta",
        )
    # Goods on the shelf again: the SKU is sellable once more.
    out_of_stock = False if locked.stock_on_hand + change > 0 else None
    movement = record_movement(
        locked, delta=change, reason=reason, by=by, note=note, out_of_stock=out_of_stock
    )
    if isinstance(sku, Sku):
        sku.stock_on_hand, sku.out_of_stock = locked.stock_on_hand, locked.out_of_stock
    return movement


@transaction.atomic
def save_sku(sku: Sku | int | None, *, by: AbstractBaseUser | None, code: str, title: str) -> Sku:
    """Add a SKU (``sku`` is ``None``) or change the code and title of one; returns the row written.

    Needs ``orders.add_sku`` to add and ``orders.change_sku`` to change. Only the code and the
    title are written: a new SKU starts with no stock and a changed one keeps its figure and
    flag, which move only through movements (``record_movement``). Refused when the code is
    missing, not one line or taken by another SKU, or either text is too long.
    """
    adding = sku is None
    policy.require(
        by, "orders.add_sku" if adding else "orders.change_sku", _("add SKUs") if adding else _("change SKUs")
    )
    code = inputs.text(
        code, "code", label=_("SKU code"), max_length=Sku._meta.get_field("code").max_length, required=True
    )
    title = inputs.text(title, "title", label=_("Title"), max_length=Sku._meta.get_field("title").max_length)
    locked = None
    if not adding:
        sku_id = sku.pk if isinstance(sku, Sku) else sku
        try:
            locked = Sku.objects.select_for_update().get(pk=sku_id)
        except (Sku.DoesNotExist, ValueError, TypeError):
            raise Refused(_("SKU %(sku)s does not exist.") % {"sku": sku_id}) from None
    if Sku.objects.filter(code=code).exclude(pk=locked.pk if locked else None).exists():
        raise Refused(_("Another SKU has the code %(code)s.") % {"code": code}, field="code")
    if locked is None:
        return Sku.objects.create(code=code, title=title)
    locked.code, locked.title = code, title
    locked.save(update_fields=["code", "title"])
    return locked
