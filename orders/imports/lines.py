"""What a new order of an import is made of: its row, its ``imported`` event and its supplier order.

One definition, in two forms: the column values (``bulk_create`` on SQLite, and the rows
written after a streamed COPY) and, on PostgreSQL, the same values as ``COPY`` text lines
(:class:`NewOrderLines`), formatted straight from the checked row — no model instance and no
intermediate dictionary per row, the constant columns (the import's time, the event's name,
its actor) formatted once per file.
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
    """The COPY lines of new orders, their events and their supplier orders, written at ``now``.

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
        self.suppliers = pgcopy.Layout(SupplierOrder, now, pk=False)
        slots = self.orders.slots
        # The row's columns that are order fields, by their key in the checked values.
        self._order_slots = {
            column: slots[field] for column, field in (*ORDER_FIELDS.items(), *NAMED_FIELDS.items())
        }
        self._sku_at = slots["sku_id"][0]
        self._hash_at = slots["import_hash"][0]
        self._stamp = stamp(now)
        self._event_order_at = self.events.slots["order_id"][0]
        self._event_status_at = self.events.slots["to_status"][0]
        self._event_data_at = self.events.slots["data"][0]
        self._event_data = _EventData(file_name, source, now)

    def order(self, values: dict[str, Any], pk: int, sku_id: int) -> str:
        """:func:`order_row` as a COPY line."""
        parts = self.orders.template.copy()
        parts[0] = str(pk)
        slots = self._order_slots
        for column, value in values.items():
            slot = slots.get(column)
            if slot is not None:
                parts[slot[0]] = slot[1](value)
        parts[self._sku_at] = str(sku_id)
        parts[self._hash_at] = values[FINGERPRINT] + self._stamp
        return "\t".join(parts)

    def event(self, order_id: int, row: int, values: dict[str, Any]) -> str:
        """:func:`event_row` as a COPY line."""
        parts = self.events.template.copy()
        parts[self._event_order_at] = str(order_id)
        parts[self._event_status_at] = values["status"]  # a status code: nothing to escape
        parts[self._event_data_at] = self._event_data(row, values.get("platform_status"))
        return "\t".join(parts)

    def supplier(self, order_id: int, values: dict[str, Any]) -> str | None:
        """:func:`supplier_row` as a COPY line, or ``None`` when the row describes none."""
        supplier = supplier_row(values, order_id, self.now)
        return None if supplier is None else self.suppliers.line(supplier)


class _EventData:
    """The COPY text of an ``imported`` event's data, as :func:`event_row` stores it, for a row
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
            data = event_row(
                0, {"status": "", "platform_status": platform_status}, self.where, None, self.now
            )
            text = pgcopy.escape(self.encode(data["data"]))
            # In JSON text, '"row": -1' can only be the key and its value (a quote inside a
            # string is escaped): split around the value. The pull's events have no row.
            parts = self.templates[platform_status] = tuple(text.split(f'"row": {self.ROW}', 1))
        if len(parts) == 1:
            return parts[0]
        return f'{parts[0]}"row": {row}{parts[1]}'
