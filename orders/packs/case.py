"""The case a pack's summary tells, as its audience may read it (``audience``).

Every value is written out here, in the active language (the reviewer's): dates as
``2026-01-12 14:05`` with their UTC offset (never a bare ISO stamp with its "T"), amounts with
their currency, codes as their labels ("To buyer", never ``to_buyer``). The summary
(``summary``) only lays the case out. Reads through ``selectors.packs`` and
``selectors.purchase`` only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from babel import Locale, UnknownLocaleError
from django.utils import timezone, translation
from django.utils.dateformat import format as date_format
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from evidence.models import Channel, Communication, Counterparty, Direction, Kind
from shopops.formats import DATETIME_FORMAT
from shopops.money import format_money

from ..models import (
    CloseReason,
    DisputeWith,
    Order,
    OrderEvent,
    Outcome,
    PurchaseStatus,
    Refund,
    RefundStatus,
    Status,
    SupplierRefundKind,
    choice_label,
)
from ..said import summary_of
from ..selectors.packs import pack_communications, pack_events
from ..selectors.purchase import purchase_block, sale_block
from ..workflow.core import status_label
from ..workflow.events import event_label
from .audience import AUDIENCES, Audience, Field, Step

Rows = list[tuple[str, str]]


@dataclass
class Block:
    line: str = ""
    rows: Rows = field(default_factory=list)


@dataclass
class Section:
    heading: str
    rows: Rows = field(default_factory=list)
    blocks: list[Block] = field(default_factory=list)
    empty: str = ""  # said when the section has nothing


@dataclass
class Case:
    title: str
    sections: list[Section]


def when(value: datetime | str | None) -> str:
    """A moment as every page shows it, with its UTC offset: a reviewer elsewhere reads it
    without guessing the day, the month or the zone (``2026-01-12 14:05 (UTC+08:00)``, in every
    language: ``shopops.formats``)."""
    if isinstance(value, str):
        value = parse_datetime(value)
    if value is None:
        return "—"
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    local = timezone.localtime(value)
    offset = local.strftime("%z")
    return f"{date_format(local, DATETIME_FORMAT)} (UTC{offset[:3]}:{offset[3:]})"


def _display_names(kind: str, code: str) -> str:
    """A country's or a language's name in the reader's language, with its code."""
    if not code:
        return ""
    try:
        names = getattr(Locale.parse(translation.to_locale(translation.get_language() or "en")), kind)
    except (UnknownLocaleError, ValueError):
        return code
    name = names.get(code.upper() if kind == "territories" else code.replace("-", "_"))
    return f"{name} ({code})" if name else code


def _value(spec: Field, value: Any, currency: str) -> str:
    if spec.kind == "when":
        return when(value)
    if spec.kind == "money":
        return format_money(value, currency)
    if spec.kind == "list":
        return ", ".join(str(v) for v in value) if isinstance(value, list) else str(value)
    if spec.kind in ("text", "count"):
        return str(value)
    return choice_label(spec.kind, value)


def _step(event: OrderEvent, step: Step, audience: Audience, sale_currency: str) -> Block:
    data = {**(event.data or {}), "close_reason": event.reason}
    currency = data.get("currency") or audience.currency or sale_currency
    rows = [
        (_(spec.label), _value(spec, data[spec.key], currency))
        for spec in step.fields
        if data.get(spec.key) not in (None, "", [])
    ]
    title = _(step.label) if step.label else event_label(event.transition)
    return Block(f"{when(event.created_at)} — {title}", rows)


def _timeline(order: Order, audience: Audience) -> Section:
    blocks = []
    for event in pack_events(order, audience.steps):
        step = audience.steps[event.transition]
        if step.only is None or step.only(event.data or {}):
            blocks.append(_step(event, step, audience, order.currency))
    return Section(_("Timeline of steps"), blocks=blocks, empty=_("No steps recorded."))


def _communications(order: Order, audience: Audience) -> Section:
    said = [c for c in pack_communications(order, audience.counterparties) if audience.sees(c)]
    return Section(
        _("Communications"),
        blocks=[_message(number, comm) for number, comm in enumerate(said, start=1)],
        empty=_("No communications recorded."),
    )


def _message(number: int, comm: Communication) -> Block:
    line = (
        f"{number}. {when(comm.occurred_at)} — {choice_label(Direction, comm.direction)}, "
        f"{choice_label(Counterparty, comm.counterparty)}, {choice_label(Channel, comm.channel)} "
        f"({choice_label(Kind, comm.kind)})"
    )
    rows = [(_("Summary"), summary_of(comm))]
    if comm.body:
        rows.append((_("Full text"), comm.body))
    return Block(line, rows)


def _refund_status(refund: Refund) -> str:
    # "Received" is Finance's check that the money arrived: ours, not the reader's.
    status = RefundStatus.SUCCEEDED if refund.status == RefundStatus.RECEIVED else refund.status
    return choice_label(RefundStatus, status)


def _shown(refunds: list[Refund]) -> list[Refund]:
    """Refunds the reader has to do with: one we withdrew before asking never happened for them."""
    return [r for r in refunds if r.status != RefundStatus.CANCELLED]


# --- the buyer's case (AliExpress) --------------------------------------------------------------


def _buyers_status(order: Order) -> str:
    """The sale's status, unless it is one of the purchase's (waiting for the supplier, in a
    dispute with the supplier)."""
    if order.status == Status.SUPPLIER_REFUND_PENDING:
        return ""
    if order.status == Status.DISPUTED and order.dispute_with == DisputeWith.SUPPLIER:
        return ""
    return status_label(order.status)


def _buyers_outcome(order: Order) -> str:
    if order.outcome in (Outcome.CANCELLED_UNPAID, Outcome.REFUNDED):
        return choice_label(Outcome, order.outcome)
    if order.outcome in (Outcome.WON, Outcome.PARTIAL, Outcome.LOST):
        return "" if order.dispute_with == DisputeWith.SUPPLIER else choice_label(Outcome, order.outcome)
    return ""


def buyer_case(order: Order, audience: Audience) -> Case:
    sale = sale_block(order)
    money = sale.currency
    facts = Section(
        _("Order"),
        rows=[
            (_("Order id"), sale.platform_order_id),
            (_("Status"), _buyers_status(order)),
            (_("Product"), f"{sale.sku} — {sale.product_title} × {sale.quantity}"),
            (_("Unit price"), format_money(sale.unit_price, money)),
            (_("Total paid"), format_money(sale.total_amount, money)),
            (_("Placed"), when(sale.placed_at)),
            (_("Paid"), when(sale.paid_at) if sale.paid_at else ""),
            (_("Shipped"), when(sale.shipped_at) if sale.shipped_at else ""),
            (_("Tracking number"), " ".join(x for x in (sale.tracking_number, sale.carrier) if x)),
            (_("Return tracking number"), sale.return_tracking_number),
            (_("Close reason"), choice_label(CloseReason, order.close_reason) if order.close_reason else ""),
            (_("Outcome"), _buyers_outcome(order)),
            (
                _("Platform reference"),
                "" if order.dispute_with == DisputeWith.SUPPLIER else order.platform_reference,
            ),
        ],
    )
    buyer = Section(
        _("Buyer"),
        rows=[
            (_("Name"), sale.buyer_name),
            (_("Country"), _display_names("territories", sale.buyer_country)),
            (_("Email"), sale.buyer_email),
            (_("Phone"), sale.buyer_phone),
            (_("Language"), _display_names("languages", order.buyer_language)),
        ],
    )
    refunds = Section(
        _("Refunds to the buyer"),
        blocks=[
            Block(
                f"{format_money(r.amount, r.currency)} — {_refund_status(r)}",
                [
                    (_("Reference"), r.reference),
                    (_("Requested"), when(r.requested_at)),
                    (_("Succeeded"), when(r.succeeded_at) if r.succeeded_at else ""),
                ],
            )
            for r in _shown(sale.refunds)
        ],
    )
    title = _("Evidence summary — order %(order)s") % {"order": sale.platform_order_id}
    sections = [facts, buyer] + ([refunds] if refunds.blocks else [])
    return Case(title, [*sections, _timeline(order, audience), _communications(order, audience)])


# --- the purchase's case (the supplier on 1688) ---------------------------------------------------


def _suppliers_outcome(order: Order) -> str:
    if order.outcome == Outcome.SUPPLIER_REFUNDED:
        return choice_label(Outcome, order.outcome)
    if order.outcome in (Outcome.WON, Outcome.PARTIAL, Outcome.LOST):
        return choice_label(Outcome, order.outcome) if order.dispute_with == DisputeWith.SUPPLIER else ""
    return ""


def supplier_case(order: Order, audience: Audience) -> Case:
    block = purchase_block(order)
    ids = [p.supplier_order_id for p in block.purchases if p.supplier_order_id]
    purchases = [
        Section(
            _("1688 purchase order"),
            rows=[
                (_("1688 order id"), p.supplier_order_id),
                (_("1688 order entry ids"), ", ".join(p.entry_ids or [])),
                (_("Supplier"), p.supplier_name),
                (_("Purchase status"), choice_label(PurchaseStatus, p.status)),
                (_("Units bought"), str(p.units)),
                (_("Amount (CNY)"), format_money(p.amount, "CNY") if p.amount is not None else ""),
                (
                    _("Units sent back to the supplier"),
                    str(p.returned_quantity) if p.returned_quantity else "",
                ),
                (_("Return tracking number (to the supplier)"), p.return_tracking_number),
            ],
        )
        for p in block.purchases
    ]
    goods = Section(
        _("The goods"),
        rows=[
            (_("Product"), order.product_title),
            (_("Close reason"), choice_label(CloseReason, order.close_reason) if order.close_reason else ""),
            (_("Outcome"), _suppliers_outcome(order)),
            (_("1688 dispute reference"), block.dispute_reference),
        ],
    )
    refunds = Section(
        _("Refunds asked of the supplier"),
        blocks=[
            Block(
                " — ".join(
                    x
                    for x in (
                        choice_label(SupplierRefundKind, r.kind) if r.kind else "",
                        format_money(r.amount, r.currency),
                        _refund_status(r),
                    )
                    if x
                ),
                [
                    (_("Units the refund covers"), str(r.units) if r.units else ""),
                    (_("1688 order id"), r.supplier_order.supplier_order_id if r.supplier_order else ""),
                    (_("1688 refund reference"), r.reference),
                    (_("Why the supplier should refund"), r.reason),
                    (_("Requested"), when(r.requested_at)),
                    (_("Answer by"), when(r.respond_by) if r.respond_by else ""),
                    (_("Succeeded"), when(r.succeeded_at) if r.succeeded_at else ""),
                ],
            )
            for r in _shown(block.refunds)
        ],
    )
    title = _("Evidence summary — 1688 order %(order)s") % {"order": ", ".join(ids) or "—"}
    sections = [*purchases, goods] + ([refunds] if refunds.blocks else [])
    return Case(title, [*sections, _timeline(order, audience), _communications(order, audience)])


def case_for(order: Order, target: str) -> Case:
    """The case of ``order`` as ``target``'s reader may read it, in the active language."""
    audience = AUDIENCES[target]
    return (supplier_case if audience.side == "purchase" else buyer_case)(order, audience)
