"""What a checked row changes in an order Shopops already holds, or why it may not.

Existing orders are compared field by field; an unchanged row changes nothing. Blank optional
cells never erase what Shopops already holds (they are left out of the row's values). The
status moves *forward only*, awaiting payment → paid → shipped → completed, one transition per
step; a backwards move, or a move of an order in a close workflow, is refused for that row.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from shopops.errors import Refused

from ..models import FORWARD_PATH, Status

# Row column → Order field, for the fields an import sets and compares.
ORDER_FIELDS = {
    "placed_at": "placed_at",
    "paid_at": "paid_at",
    "shipped_at": "shipped_at",
    "buyer_name": "buyer_name",
    "buyer_email": "buyer_email",
    "buyer_phone": "buyer_phone",
    "buyer_country": "buyer_country",
    "buyer_language": "buyer_language",
    "product_title": "product_title",
    "quantity": "quantity",
    "unit_price": "unit_price",
    "total_amount": "total_amount",
    "currency": "currency",
    "tracking_number": "tracking_number",
    "carrier": "carrier",
    "notes": "notes",
    "platform_status": "platform_status",
}
# Row column → SupplierOrder field.
SUPPLIER_FIELDS = {
    "supplier_name": "supplier_name",
    "supplier_contact": "supplier_contact",
    "supplier_order_id": "supplier_order_id",
    "supplier_amount": "amount",
}
# What is read of an existing order to compare a row with it.
COMPARED = ("id", "platform_order_id", "status", "sku_id", *ORDER_FIELDS.values())

_FORWARD_INDEX = {str(status): index for index, status in enumerate(FORWARD_PATH)}
MOVES = {Status.PAID: "mark_paid", Status.SHIPPED: "mark_shipped", Status.COMPLETED: "mark_completed"}


@dataclass
class Changes:
    """Order fields to set, forward moves (workflow function names), and the supplier order's
    fields to set (``supplier_order_id``: the one to update, ``None`` for a new one)."""

    order: dict[str, Any] = field(default_factory=dict)
    moves: list[str] = field(default_factory=list)
    supplier_order_id: int | None = None
    supplier: dict[str, Any] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.order or self.moves or self.supplier)


def _label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def _moves(order_id: str, current: str, target: str) -> list[str]:
    if current == target:
        return []
    if current not in _FORWARD_INDEX:
        raise Refused(
            _(
                "order %(order)s is “%(current)s”, in a close workflow: an import does not move it "
                "to “%(target)s”. Row not applied."
            )
            % {"order": order_id, "current": _label(current), "target": _label(target)}
        )
    if _FORWARD_INDEX[target] < _FORWARD_INDEX[current]:
        raise Refused(
            _(
                "order %(order)s is already “%(current)s”: an import never moves an order back to "
                "“%(target)s”. Row not applied."
            )
            % {"order": order_id, "current": _label(current), "target": _label(target)}
        )
    return [MOVES[s] for s in FORWARD_PATH[_FORWARD_INDEX[current] + 1 : _FORWARD_INDEX[target] + 1]]


def plan_changes(
    values: dict[str, Any], record: dict[str, Any], sku_id: int, supplier_orders: list[dict[str, Any]]
) -> Changes:
    """What the row's ``values`` change in the order ``record`` (``COMPARED`` fields) whose SKU
    becomes ``sku_id``, and in its ``supplier_orders``.

    Raises ``Refused`` when the row may not be applied.
    """
    changes = Changes()
    changes.order = {
        field: values[column]
        for column, field in ORDER_FIELDS.items()
        if column in values and values[column] != record[field]
    }
    if sku_id != record["sku_id"]:
        changes.order["sku_id"] = sku_id
    changes.moves = _moves(values["order_id"], record["status"], values["status"])
    supplier = {field: values[column] for column, field in SUPPLIER_FIELDS.items() if column in values}
    if not supplier:
        return changes
    target = None
    wanted_id = supplier.get("supplier_order_id")
    if wanted_id:
        target = next((so for so in supplier_orders if so["supplier_order_id"] == wanted_id), None)
    if target is None and len(supplier_orders) == 1:
        only = supplier_orders[0]
        if not wanted_id or not only["supplier_order_id"]:
            target = only
    if target is None and len(supplier_orders) > 1 and not wanted_id:
        raise Refused(
            _(
                "order %(order)s has %(n)d supplier orders: give the 1688 order id "
                "(supplier_order_id) to say which one the row updates. Row not applied."
            )
            % {"order": values["order_id"], "n": len(supplier_orders)}
        )
    if target is None:
        changes.supplier = supplier
    else:
        changes.supplier_order_id = target["id"]
        changes.supplier = {k: v for k, v in supplier.items() if target[k] != v}
    return changes
