"""An import's change to an order that already exists, applied under the order's row lock.

The import (``orders.imports``) reads and checks the file and plans what each row changes
(``orders.imports.changes.plan_changes``); this operation applies one row's plan: the file's
fields, the forward moves of the status (each through its own transition, one history event
per move), the supplier order, and the fingerprint that lets a re-import recognise the row.
New orders are written in bulk by the import's COPY writer instead (``orders.imports.writer``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from ..imports.changes import COMPARED, Changes, plan_changes
from ..imports.history import FINGERPRINT, stamped
from ..models import Order, SupplierOrder
from .fulfilment import mark_completed, mark_paid, mark_shipped


def apply_import_changes(
    order_id: int,
    *,
    by: AbstractBaseUser | None,
    values: dict[str, Any],
    seen: dict[str, Any],
    sku_id: int,
    changes: Changes,
) -> None:
    """Apply ``changes``, planned from ``seen`` (the order as the import read it), to the order.

    The order is locked and compared again: when someone moved it since the import read it,
    the plan is made anew from what is there now. Raises ``Refused`` (nothing written) when a
    move is refused; the caller runs each row in its own savepoint.
    """
    locked = Order.objects.select_for_update().filter(pk=order_id).values(*COMPARED).get()
    order_changes, moves = changes.order, changes.moves
    if locked["status"] != seen["status"]:
        again = plan_changes(values, locked, sku_id, [])
        order_changes, moves = again.order, again.moves
    if order_changes:
        Order.objects.filter(pk=order_id).update(**order_changes, updated_at=timezone.now())
    for move in moves:
        if move == "mark_paid":
            mark_paid(order_id, by=by, paid_at=values.get("paid_at"))
        elif move == "mark_shipped":
            mark_shipped(
                order_id,
                by=by,
                tracking_number=values.get("tracking_number") or locked["tracking_number"],
                carrier=values.get("carrier") or locked["carrier"],
                shipped_at=values.get("shipped_at"),
            )
        else:
            mark_completed(order_id, by=by)
    if changes.supplier:
        if changes.supplier_order_id is None:
            SupplierOrder.objects.create(order_id=order_id, **changes.supplier)
        else:
            SupplierOrder.objects.filter(pk=changes.supplier_order_id).update(**changes.supplier)
    # Last, so the fingerprint is stamped with the order's final ``updated_at``.
    now = timezone.now()
    Order.objects.filter(pk=order_id).update(import_hash=stamped(values[FINGERPRINT], now), updated_at=now)
