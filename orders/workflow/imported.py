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
from django.db import connection
from django.utils import timezone

from ..imports.changes import COMPARED, SUPPLIER_FIELDS, TRACKED_FIELDS, Changes, plan_changes
from ..imports.history import FINGERPRINT, IMPORT_EVENT, corrected_fields, refunded, stamped
from ..models import Order, PurchaseStatus, SupplierOrder, purchase_status_for
from .events import record_event, record_events
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
    source: dict[str, Any] | None = None,
) -> Changes:
    """Apply ``changes``, planned from ``seen`` (the order as the import read it), to the order.

    The order is locked and compared again: when anyone changed it since the import read it
    (a correction, a refund, a move), the plan is made anew from what is there now, so a
    correction made meanwhile is kept. The changed fields are written with one ``imported``
    history event listing each field's old and new value (the supplier order's too), then the
    forward moves, each through its own transition. Returns what was applied. Raises
    ``Refused`` (nothing written) when the row may not be applied; the caller runs each row in
    its own savepoint. ``file``: the file's name and the row, for the event; ``source``: what the
    event says instead when the values came from a platform (the AliExpress pull).
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
            data={
                **changes.event_data(locked, values, fields),
                **(source if source is not None else {"file": file[0], "row": file[1] or None}),
            },
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


# (order pk, the row's values, the order as the import read it, the planned changes, (file, row))
BatchItem = tuple[int, dict[str, Any], dict[str, Any], Changes, tuple[str, int]]


def apply_import_changes_batch(
    items: list[BatchItem], *, by: AbstractBaseUser | None, source: dict[str, Any] | None = None
) -> set[int]:
    """:func:`apply_import_changes` for many rows that only change fields of their order (no
    forward move, no supplier order), in a constant number of statements: their fields and
    fingerprints written in one ``UPDATE`` of the orders still as the import read them (their
    ``updated_at`` unchanged; the update locks them), one ``imported`` event each (old and new
    values) written at once. Returns the orders changed since the import read them: none of
    theirs is written here, the caller applies each on its own (planned again under its lock).
    Runs in the caller's transaction.
    """
    if not items:
        return set()
    now = timezone.now()
    names = sorted({name for _pk, _v, _s, changes, _f in items for name in changes.order})
    rows = [
        (
            pk,
            seen["updated_at"],
            [changes.order.get(name, seen[name]) for name in names],
            stamped(values[FINGERPRINT], now),
        )
        for pk, values, seen, changes, _file in items
    ]
    written = _set_fields(rows, names, now)
    events = []
    for pk, values, seen, changes, (file_name, row) in items:
        if pk in written:
            where = source if source is not None else {"file": file_name, "row": row or None}
            data = {**changes.event_data(seen, values, changes.order), **where}
            events.append((_Written(pk, seen["status"]), data))
    record_events(IMPORT_EVENT, events, by=by)
    return {pk for pk, *_rest in items} - written


class _Written:
    """An order as ``record_events`` reads it: its pk and status."""

    __slots__ = ("pk", "status")

    def __init__(self, pk: int, status: str):
        self.pk, self.status = pk, status


def _set_fields(rows: list[tuple[int, Any, list[Any], str]], names: list[str], now) -> set[int]:
    """Write, for each (pk, ``updated_at`` as read, values of ``names``, fingerprint), the order's
    fields ``names`` (attnames), its fingerprint and ``updated_at`` = ``now`` — only if its
    ``updated_at`` is still the one read. Returns the orders written. On PostgreSQL one
    ``UPDATE … FROM unnest(…) … RETURNING``; elsewhere the orders locked and ``bulk_update``."""
    fields = [Order._meta.get_field({"sku_id": "sku"}.get(name, name)) for name in names]
    if connection.vendor != "postgresql":
        pks = [pk for pk, *_rest in rows]
        current = dict(Order.objects.select_for_update().filter(pk__in=pks).values_list("pk", "updated_at"))
        orders = []
        for pk, read, values, fingerprint in rows:
            if current.get(pk) == read:
                order = Order(pk=pk, import_hash=fingerprint, updated_at=now)
                for field, value in zip(fields, values, strict=True):
                    setattr(order, field.attname, value)
                orders.append(order)
        names = [field.name for field in fields]
        Order.objects.bulk_update(orders, [*names, "import_hash", "updated_at"], batch_size=500)
        return {order.pk for order in orders}
    columns = [(field.column, field.db_type(connection)) for field in fields]
    columns += [("import_hash", Order._meta.get_field("import_hash").db_type(connection))]
    assigned = ", ".join(f'"{column}" = v."{column}"' for column, _type in columns)
    arrays = ", ".join(f'unnest(%s::{db_type}[]) AS "{column}"' for column, db_type in columns)
    parameters: list[Any] = [[pk for pk, *_rest in rows], [read for _pk, read, *_rest in rows]]
    parameters += [[values[n] for _pk, _read, values, _f in rows] for n in range(len(fields))]
    parameters += [[fingerprint for *_rest, fingerprint in rows], now]
    # Names and types are the model's own; every value is a parameter.
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE orders_order AS o SET "  # noqa: S608
            f'{assigned}, "updated_at" = %s '
            "FROM (SELECT unnest(%s::bigint[]) AS id, unnest(%s::timestamptz[]) AS read, "
            f"{arrays}) AS v WHERE o.id = v.id AND o.updated_at = v.read RETURNING o.id",
            [parameters[-1], *parameters[:-1]],
        )
        return {pk for (pk,) in cursor.fetchall()}
