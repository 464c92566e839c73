"""What a checked row changes in an order Shopops already holds, or why it may not.

Who owns which field (``docs/import-ownership.md``):

- The **platform** owns what the file describes — dates, buyer, product, amounts, tracking,
  the platform status, the row's supplier order: the file's value wins, *unless* a staff member
  corrected that field of that order since the last import that set it (a history event listing
  the field's old and new value, such as ``correct_contact``): then Shopops' value is kept and
  the import's report names it ("kept the corrected buyer email; the file says …").
- The **shop** owns ``notes``: the file's notes fill an empty field, never replace what is there.
- **Money and identity** (quantity, unit price, total, currency, SKU, the supplier amount) of an
  order with a refund, or in a close workflow, are never changed: the row is refused, saying why.

Existing orders are compared field by field; an unchanged row changes nothing. Blank optional
cells never erase what Shopops already holds (they are left out of the row's values). The
status moves *forward only*, awaiting payment → paid → shipped → completed, one transition per
step; a backwards move, or a move of an order in a close workflow, is refused for that row. One
row describes one supplier order: a changed 1688 order id updates it, never adds a second.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext as _

from shopops.errors import Refused

from ..models import FORWARD_PATH, Order, Status, choice_label

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
COMPARED = ("id", "platform_order_id", "status", "sku_id", "sku__code", "updated_at", *ORDER_FIELDS.values())
# The shop's own fields: the file's value fills a blank one, never replaces one.
SHOP_FIELDS = frozenset({"notes"})
# Money and identity: never changed by an import once the order has a refund or is being closed.
MONEY_FIELDS = ("quantity", "unit_price", "total_amount", "currency", "sku_id")
SUPPLIER_MONEY_FIELDS = ("amount",)
# Fields a staff correction can own, as history events name them (the supplier's by row column).
TRACKED_FIELDS = (*ORDER_FIELDS.values(), "sku")

_FORWARD_INDEX = {str(status): index for index, status in enumerate(FORWARD_PATH)}
# A row's optional set of close-workflow states its status agrees with (never a CSV's: the
# AliExpress pull's, docs/platforms.md): a buyer's cancellation request (IN_CANCEL) agrees with
# the order being in Shopops' cancellation, a dispute (IN_ISSUE) with its dispute or return. An
# order in one of them keeps its state, and the row's other fields are applied as usual.
STATUS_AGREES = "status_agrees"
MOVES = {Status.PAID: "mark_paid", Status.SHIPPED: "mark_shipped", Status.COMPLETED: "mark_completed"}


@dataclass(frozen=True)
class Kept:
    """A field of the order the import did not change: Shopops' value and the file's."""

    field: str
    current: Any
    in_file: Any
    corrected: bool  # a staff correction (else: the shop's own field)

    def message(self) -> str:
        what = {
            "field": field_label(self.field),
            "file": _shown(self.in_file),
            "current": _shown(self.current),
        }
        if self.corrected:
            return _("kept the corrected %(field)s “%(current)s”; the file says “%(file)s”") % what
        return _("kept the shop's %(field)s “%(current)s”; the file says “%(file)s”") % what


@dataclass
class Changes:
    """Order fields to set, forward moves (workflow function names), and the supplier order's
    fields to set (``supplier_order_id``: the one to update, ``None`` for a new one); ``kept``:
    the fields the file would change but the shop owns."""

    order: dict[str, Any] = field(default_factory=dict)
    moves: list[str] = field(default_factory=list)
    supplier_order_id: int | None = None
    supplier: dict[str, Any] = field(default_factory=dict)
    supplier_before: dict[str, Any] = field(default_factory=dict)
    kept: list[Kept] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.order or self.moves or self.supplier)

    def event_data(
        self, record: dict[str, Any], values: dict[str, Any], order: dict[str, Any]
    ) -> dict[str, Any]:
        """Each changed field's old and new value (``order``: the order's), as the event lists them."""
        data: dict[str, Any] = {}
        for name, new in order.items():
            if name == "sku_id":
                data["sku"] = {"old": record["sku__code"], "new": values["sku"]}
            else:
                data[name] = {"old": _stored(record[name]), "new": _stored(new)}
        for name, new in self.supplier.items():
            column = SUPPLIER_COLUMNS[name]
            data[column] = {"old": _stored(self.supplier_before.get(name)), "new": _stored(new)}
        return data


SUPPLIER_COLUMNS = {field: column for column, field in SUPPLIER_FIELDS.items()}


def field_label(name: str) -> str:
    """A field's name as the report says it ("buyer email")."""
    from_model = {"sku_id": "sku", "amount": "supplier_amount"}.get(name, name)
    try:
        return str(Order._meta.get_field(from_model).verbose_name)
    except FieldDoesNotExist:
        return from_model.replace("_", " ")


def _stored(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(sep=" ")
    if isinstance(value, Decimal):
        return str(value)
    return value


def _shown(value: Any) -> str:
    return str(_stored(value))


def _moves(order_id: str, current: str, target: str, agrees: Collection[str] = ()) -> list[str]:
    if current == target or current in agrees:
        return []
    if current not in _FORWARD_INDEX:
        raise Refused(
            _(
                "order %(order)s is “%(current)s”, in a close workflow: an import does not move it "
                "to “%(target)s”. Row not applied."
            )
            % {
                "order": order_id,
                "current": choice_label(Status, current),
                "target": choice_label(Status, target),
            }
        )
    if _FORWARD_INDEX[target] < _FORWARD_INDEX[current]:
        raise Refused(
            _(
                "order %(order)s is already “%(current)s”: an import never moves an order back to "
                "“%(target)s”. Row not applied."
            )
            % {
                "order": order_id,
                "current": choice_label(Status, current),
                "target": choice_label(Status, target),
            }
        )
    return [MOVES[s] for s in FORWARD_PATH[_FORWARD_INDEX[current] + 1 : _FORWARD_INDEX[target] + 1]]


def _refuse_money(order_id: str, status: str, fields: list[str], has_refund: bool) -> None:
    why = (
        _("it has a refund")
        if has_refund
        else _("it is “%(status)s”, in a close workflow") % {"status": choice_label(Status, status)}
    )
    raise Refused(
        _("order %(order)s: an import never changes %(fields)s of an order once %(why)s. Row not applied.")
        % {"order": order_id, "fields": ", ".join(field_label(f) for f in fields), "why": why},
        field=SUPPLIER_COLUMNS.get(fields[0]) or {"sku_id": "sku"}.get(fields[0], fields[0]),
    )


def plan_changes(
    values: dict[str, Any],
    record: dict[str, Any],
    sku_id: int,
    supplier_orders: list[dict[str, Any]],
    *,
    corrected: Collection[str] = (),
    has_refund: bool = False,
) -> Changes:
    """What the row's ``values`` change in the order ``record`` (``COMPARED`` fields) whose SKU
    becomes ``sku_id``, and in its ``supplier_orders``.

    ``corrected``: the fields a staff member corrected since the last import (kept);
    ``has_refund``: the order has a refund (its money and identity are frozen, as they are in
    a close workflow). Raises ``Refused`` when the row may not be applied.
    """
    changes = Changes()
    for column, name in ORDER_FIELDS.items():
        if column not in values or values[column] == record[name]:
            continue
        if name in corrected:
            changes.kept.append(Kept(name, record[name], values[column], corrected=True))
        elif name in SHOP_FIELDS and record[name]:
            changes.kept.append(Kept(name, record[name], values[column], corrected=False))
        else:
            changes.order[name] = values[column]
    if sku_id != record["sku_id"]:
        if "sku" in corrected:
            changes.kept.append(Kept("sku", record["sku__code"], values["sku"], corrected=True))
        else:
            changes.order["sku_id"] = sku_id
    frozen = has_refund or record["status"] not in _FORWARD_INDEX
    if frozen:
        money = [name for name in MONEY_FIELDS if name in changes.order]
        if money:
            _refuse_money(values["order_id"], record["status"], money, has_refund)
    changes.moves = _moves(
        values["order_id"], record["status"], values["status"], values.get(STATUS_AGREES, ())
    )
    supplier = {name: values[column] for column, name in SUPPLIER_FIELDS.items() if column in values}
    if not supplier:
        return changes
    target = _target_supplier_order(values, supplier, supplier_orders)
    if target is None:
        changes.supplier = supplier
    else:
        changes.supplier_order_id = target["id"]
        changes.supplier = {k: v for k, v in supplier.items() if target[k] != v}
        changes.supplier_before = {k: target[k] for k in changes.supplier}
        if frozen and "amount" in changes.supplier:
            _refuse_money(values["order_id"], record["status"], ["amount"], has_refund)
    return changes


def _target_supplier_order(
    values: dict[str, Any], supplier: dict[str, Any], supplier_orders: list[dict[str, Any]]
) -> dict[str, Any] | None:
    """The supplier order the row describes; ``None``: the order has none yet (a new one)."""
    if not supplier_orders:
        return None
    wanted_id = supplier.get("supplier_order_id")
    if wanted_id:
        found = next((so for so in supplier_orders if so["supplier_order_id"] == wanted_id), None)
        if found is not None:
            return found
    if len(supplier_orders) == 1:
        return supplier_orders[0]  # a changed 1688 order id corrects it: never a second one
    if wanted_id:
        raise Refused(
            _(
                "order %(order)s has %(n)d supplier orders and none has the 1688 order id %(id)s: "
                "an import updates one of them, it never adds another. Row not applied."
            )
            % {"order": values["order_id"], "n": len(supplier_orders), "id": wanted_id},
            field="supplier_order_id",
        )
    raise Refused(
        _(
            "order %(order)s has %(n)d supplier orders: give the 1688 order id "
            "(supplier_order_id) to say which one the row updates. Row not applied."
        )
        % {"order": values["order_id"], "n": len(supplier_orders)},
        field="supplier_order_id",
    )
