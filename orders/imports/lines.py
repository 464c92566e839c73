"""What a new order of an import is made of: its row, its ``imported`` event and its supplier order.

One definition, in two forms: the column values by field (``bulk_create`` on SQLite) and, on
PostgreSQL, the same values as the rows of binary ``COPY``s (:class:`NewOrderLines`), put in
place straight from the checked row — no model instance and no intermediate dictionary per
row, the constant columns (the import's time, the event's name, its actor) set once per file.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

from shopops import pgcopy

from ..models import Order, OrderEvent, SupplierOrder, purchase_status_for
from ..workflow.events import event_values
from .changes import ORDER_FIELDS, SUPPLIER_FIELDS
from .history import FINGERPRINT, IMPORT_EVENT, stamp

# Row column → Order field, besides ORDER_FIELDS: what every new order takes from its row.
NAMED_FIELDS = {"order_id": "platform_order_id", "store_id": "store_id", "status": "status"}


def order_row(values: dict[str, Any], sku_id: int, now: datetime) -> dict[str, Any]:
    """The new order of a checked row (attname → value), written at ``now``."""
    order = {field: values[column] for column, field in ORDER_FIELDS.items() if column in values}
    order.update({field: values[column] for column, field in NAMED_FIELDS.items()})
    order.update(
        sku_id=sku_id,
        status_changed_at=now,
        created_at=now,
        updated_at=now,
        import_hash=values[FINGERPRINT] + stamp(now),
    )
    return order


def event_row(
    order_id: int, values: dict[str, Any], where: dict[str, Any], actor_id: int | None, now: datetime
) -> dict[str, Any]:
    """The ``imported`` event of a new order; ``where``: the file and row, or the platform."""
    return event_values(
        order_id,
        IMPORT_EVENT,
        from_status="",
        to_status=values["status"],
        actor_id=actor_id,
        created_at=now,
        data={**where, "platform_status": values.get("platform_status")},
    )


def supplier_row(values: dict[str, Any], order_id: int, now: datetime) -> dict[str, Any] | None:
    """The supplier order a row describes, if it gives any of its columns."""
    supplier = {field: values[column] for column, field in SUPPLIER_FIELDS.items() if column in values}
    if not supplier:
        return None
    bought = bool(supplier.get("supplier_order_id")) or supplier.get("amount") is not None
    status = purchase_status_for(values["status"], bought=bought)
    return {"order_id": order_id, "created_at": now, "status": status, **supplier}


class NewOrderLines:
    """New orders, their events and their supplier orders as the rows of binary COPYs
    (:class:`shopops.pgcopy.Layout`), written at ``now``.

    ``source`` is what the events say the values came from instead of the file and row (the
    AliExpress pull).
    """

    def __init__(self, now: datetime, *, actor_id: int | None, file_name: str, source: dict[str, Any] | None):
        self.now = now
        self.orders = pgcopy.Layout(
            Order, now, fixed={"status_changed_at": now, "created_at": now, "updated_at": now}
        )
        self.events = pgcopy.Layout(
            OrderEvent,
            now,
            pk=False,
            fixed={
                "transition": IMPORT_EVENT,
                "from_status": "",
                "actor_id": actor_id,
                "created_at": now,
                "reason": "",
            },
        )
        self.suppliers = pgcopy.Layout(SupplierOrder, now, pk=False, fixed={"created_at": now})
        position = self.orders.position
        # Where each of a row's columns that is an order field goes, by its key in the values.
        self._order_at = {
            column: position[field] for column, field in (*ORDER_FIELDS.items(), *NAMED_FIELDS.items())
        }
        self._sku_at = position["sku_id"]
        self._hash_at = position["import_hash"]
        self._stamp = stamp(now)
        self._event_at = tuple(self.events.position[name] for name in ("order_id", "to_status", "data"))
        self._event_data = _EventData(file_name, source, now)
        self._supplier_at = {
            column: self.suppliers.position[field] for column, field in SUPPLIER_FIELDS.items()
        }
        self._supplier_order_at = self.suppliers.position["order_id"]
        self._supplier_status_at = self.suppliers.position["status"]

    def order(self, values: dict[str, Any], pk: int, sku_id: int) -> list[Any]:
        """:func:`order_row` as a COPY row."""
        row = self.orders.template.copy()
        row[0] = pk
        at = self._order_at
        for column, value in values.items():
            index = at.get(column)
            if index is not None:
                row[index] = value
        row[self._sku_at] = sku_id
        row[self._hash_at] = values[FINGERPRINT] + self._stamp
        return row

    def event(self, order_id: int, row: int, values: dict[str, Any]) -> list[Any]:
        """:func:`event_row` as a COPY row."""
        event = self.events.template.copy()
        order_at, status_at, data_at = self._event_at
        event[order_at] = order_id
        event[status_at] = values["status"]
        event[data_at] = self._event_data(row, values.get("platform_status"))
        return event

    def supplier(self, order_id: int, values: dict[str, Any]) -> list[Any] | None:
        """:func:`supplier_row` as a COPY row, or ``None`` when the row describes none."""
        supplier = self.suppliers.template.copy()
        given = False
        at = self._supplier_at
        for column, index in at.items():
            if column in values:
                supplier[index] = values[column]
                given = True
        if not given:
            return None
        supplier[self._supplier_order_at] = order_id
        bought = bool(values.get("supplier_order_id")) or values.get("supplier_amount") is not None
        supplier[self._supplier_status_at] = str(purchase_status_for(values["status"], bought=bought))
        return supplier


class _EventData:
    """The JSON text of an ``imported`` event's data, as :func:`event_row` stores it, for a row
    number and a platform status: encoded once per platform status, not once per row."""

    ROW = -1  # the row number in the encoded template, replaced by each row's

    def __init__(self, file_name: str, source: dict[str, Any] | None, now: datetime):
        self.where = source if source is not None else {"file": file_name, "row": self.ROW}
        self.now = now
        self.encode = json.JSONEncoder(ensure_ascii=False).encode
        self.templates: dict[str | None, tuple[str, ...]] = {}

    def __call__(self, row: int, platform_status: str | None) -> str:
        parts = self.templates.get(platform_status)
        if parts is None:
            values = {"status": "", "platform_status": platform_status}
            data = event_row(0, values, self.where, None, self.now)["data"]
            # In JSON text, '"row": -1' can only be the key and its value (a quote inside a
            # string is escaped): split around the value. The pull's events have no row.
            text = self.encode(data)
            parts = self.templates[platform_status] = tuple(text.split(f'"row": {self.ROW}', 1))
        if len(parts) == 1:
            return parts[0]
        return f'{parts[0]}"row": {row}{parts[1]}'
