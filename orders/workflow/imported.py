"""An import's change to an order that already exists, applied under the order's row lock.

The import (``orders.imports``) reads and checks the file and plans what each row changes
(``orders.imports.changes.plan_changes``); this operation applies one row's plan: the file's
fields and the supplier order (one ``imported`` history event listing each field's old and new
value), the forward moves of the status (each through its own transition, one history event
per move), and the fingerprint that lets a re-import recognise the row.
New orders are written in bulk by the import's COPY writer instead (``orders.imports.writer``).
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.utils import timezone

from ..imports.changes import COMPARED, SUPPLIER_FIELDS, TRACKED_FIELDS, Changes, plan_changes
from ..imports.history import FINGERPRINT, IMPORT_EVENT, corrected_fields, refunded, stamped
from ..models import Order, PurchaseStatus, SupplierOrder, purchase_status_for
from .events import record_event
from .fulfilment import mark_completed, mark_paid, mark_shipped

MOVE_FIELDS = {"mark_paid": ("paid_at",), "mark_shipped": ("shipped_at", "tracking_number", "carrier")}


def apply_import_changes(
    order_id: int,
    *,
    by: AbstractBaseUser | None,
    values: dict[str, Any],
    seen: dict[str, Any],
    sku_id: int,
    changes: Changes,
    file: tuple[str, int] = ("", 0),
) -> Changes:
    """Apply ``changes``, planned from ``seen`` (the order as the import read it), to the order.

    The order is locked and compared again: when anyone changed it since the import read it
    (a correction, a refund, a move), the plan is made anew from what is there now, so a
    correction made meanwhile is kept. The changed fields are written with one ``imported``
    history event listing each field's old and new value (the supplier order's too), then the
    forward moves, each through its own transition. Returns what was applied. Raises
    ``Refused`` (nothing written) when the row may not be applied; the caller runs each row in
    its own savepoint. ``file``: the file's name and the row, for the event.
    """
    locked = Order.objects.select_for_update().filter(pk=order_id).values(*COMPARED).get()
    if locked["updated_at"] != seen["updated_at"]:
        suppliers = list(
            SupplierOrder.objects.filter(order_id=order_id)
            .order_by("id")
            .values("id", *SUPPLIER_FIELDS.values())
        )
        changes = plan_changes(
            values,
            locked,
            sku_id,
            suppliers,
            corrected=corrected_fields([order_id], TRACKED_FIELDS).get(order_id, set()),
            has_refund=bool(refunded([order_id])),
        )
        if not changes:
            return changes
    # A field a forward move sets (paid_at, shipped_at, tracking) is written by that move and
    # recorded in its event; the import's own event lists the other fields.
    by_moves = {name for move in changes.moves for name in MOVE_FIELDS.get(move, ())}
    fields = {name: value for name, value in changes.order.items() if name not in by_moves}
    if fields or changes.supplier:
        if fields:
            Order.objects.filter(pk=order_id).update(**fields, updated_at=timezone.now())
        if changes.supplier_order_id is None and changes.supplier:
            bought = (
                bool(changes.supplier.get("supplier_order_id")) or changes.supplier.get("amount") is not None
            )
            status = purchase_status_for(values["status"], bought=bought)
            SupplierOrder.objects.create(order_id=order_id, status=status, **changes.supplier)
        elif changes.supplier:
            SupplierOrder.objects.filter(pk=changes.supplier_order_id).update(**changes.supplier)
            # A purchase not bought that the file now gives a 1688 id or an amount was bought.
            SupplierOrder.objects.filter(
                pk=changes.supplier_order_id, status=PurchaseStatus.NOT_BOUGHT
            ).exclude(supplier_order_id="", amount__isnull=True).update(
                status=purchase_status_for(values["status"], bought=True), status_changed_at=timezone.now()
            )
        record_event(
            Order(pk=order_id, status=locked["status"]),
            IMPORT_EVENT,
            by=by,
            data={**changes.event_data(locked, values, fields), "file": file[0], "row": file[1] or None},
        )
    kept = {k.field for k in changes.kept}  # a corrected value is used by the moves too

    def given(name: str) -> Any:
        return locked[name] if name in kept else values.get(name) or locked[name]

    for move in changes.moves:
        if move == "mark_paid":
            mark_paid(order_id, by=by, paid_at=values.get("paid_at"))
        elif move == "mark_shipped":
            mark_shipped(
                order_id,
                by=by,
                tracking_number=given("tracking_number"),
                carrier=given("carrier"),
                shipped_at=values.get("shipped_at"),
            )
        else:
            mark_completed(order_id, by=by)
    # Last, so the fingerprint is stamped with the order's final ``updated_at``.
    now = timezone.now()
    Order.objects.filter(pk=order_id).update(import_hash=stamped(values[FINGERPRINT], now), updated_at=now)
    return changes
