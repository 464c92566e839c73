"""Stock on hand changes only here, through append-only movements."""

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F

from .models import MovementReason, Order, Sku, StockMovement


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


def mark_out_of_stock(sku_id: int, *, by: AbstractBaseUser | None, order: Order) -> StockMovement:
    """A close for ``out_of_stock``: what we counted is wrong, so stock goes to zero and is flagged."""
    current = Sku.objects.select_for_update().values_list("stock_on_hand", flat=True).get(pk=sku_id)
    return record_movement(
        sku_id,
        delta=-max(current, 0),
        reason=MovementReason.OUT_OF_STOCK,
        by=by,
        order=order,
        out_of_stock=True,
    )
