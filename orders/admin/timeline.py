"""The order page's timeline: history, communications, attachments, refunds, notifications and
stock movements of one order, newest first, each entry one ``<li>`` built in Python.

The records come from ``orders.selectors.timeline``; this module only shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from django.db import models
from django.template.defaultfilters import linebreaksbr
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from evidence.models import Channel, Counterparty, Direction, Kind
from shopops.money import format_money

from ..models import (
    CloseReason,
    DisputeWith,
    MovementReason,
    NotificationChannel,
    NotificationStatus,
    NotificationTemplate,
    Order,
    OrderEvent,
    Outcome,
    PurchaseOnClose,
    PurchaseStatus,
    Refund,
    RefundDirection,
    RefundStatus,
    ReturnCondition,
    SupplierRefundKind,
)
from ..packs.limits import TARGET_LABELS
from ..platform_words import ALIBABA_1688_REFUND, status_words
from ..said import summary_of
from ..selectors.timeline import order_history
from ..workflow.core import status_label
from ..workflow.events import event_label


@dataclass
class TimelineEntry:
    at: datetime  # when it happened, as shown
    kind: str  # event, communication, attachment, refund, notification, stock: the CSS class too
    title: str
    detail: str = ""
    actor: str = ""
    url: str = ""
    lines: list[tuple[str, str]] = field(default_factory=list)
    # When it was written down, to order what ``at`` cannot: a communication's time is typed to
    # the minute, so within that minute the order of recording tells what came first.
    recorded: datetime | None = None
    # Whose half of the order it is: "sale" (AliExpress) or "purchase" (1688).
    side: str = "sale"

    @property
    def sort_key(self) -> tuple[datetime, datetime]:
        """Newest first by the minute it happened, then by the moment it was recorded."""
        return (self.at.replace(second=0, microsecond=0), self.recorded or self.at)

    def html(self, by: str) -> SafeString:
        """One ``<li>``, built in Python: fifty entries through the template engine cost more
        than the rest of the order page."""
        parts = [format_html("<strong>{}</strong>", self.title)]
        if self.actor:
            parts.append(format_html(' <span class="timeline-actor">{}</span>', by % {"actor": self.actor}))
        if self.detail:
            parts.append(format_html("<div>{}</div>", self.detail))
        if self.url:
            parts.append(format_html('<div><a href="{}">{}</a></div>', self.url, _("Download")))
        if self.lines:
            rows = format_html_join(
                "", "<dt>{}</dt><dd>{}</dd>", ((k, linebreaksbr(v)) for k, v in self.lines)
            )
            parts.append(format_html("<dl>{}</dl>", rows))
        local = timezone.localtime(self.at)
        if self.side == "purchase":
            parts.insert(0, format_html('<span class="side-badge">{}</span> ', _("1688")))
        return format_html(
            '<li class="timeline-entry {} side-{}"><time datetime="{}">{}</time>'
            '<div class="timeline-body">{}</div></li>',
            self.kind,
            self.side,
            local.isoformat(),
            formats.date_format(local, "DATETIME_FORMAT"),
            mark_safe("".join(parts)),  # noqa: S308 — every part above is format_html output
        )


def render_timeline(entries: list[TimelineEntry]) -> SafeString:
    by = _("by %(actor)s")
    return mark_safe("".join(entry.html(by) for entry in entries))  # noqa: S308 — format_html output


def _actor(user: Any) -> str:
    return user.get_username() if user is not None else _("system")


class _Labels:
    """Choice labels in the active language, translated once per page rather than once per row
    (``get_FOO_display`` rebuilds and translates the whole choice list on every call)."""

    def __init__(self) -> None:
        self._cache: dict[type, dict[str, str]] = {}

    def __call__(self, choices: type[models.TextChoices], value: str) -> str:
        table = self._cache.get(choices)
        if table is None:
            table = self._cache[choices] = {c.value: str(c.label) for c in choices}
        return table.get(value, value)


# The history events that are the purchase's own (its requests, answers, disputes, reminders).
PURCHASE_EVENTS = frozenset(
    {
        "request_supplier_refund",
        "record_supplier_approval",
        "record_supplier_refusal",
        "close_return",
        "chase_supplier",
        "supplier_refund_overdue",
        "update_purchase",
        "purchase_refund_approved",
        "purchase_refund_refused",
        "supplier_refund_filed",
        "supplier_refund_filing_failed",
        "supplier_refund_filing_retried",
        "platform_refund",
    }
)


def is_purchase_event(name: str, data: dict | None) -> bool:
    """Whether a history event belongs to the purchase's half of the order: its own steps, a
    supplier's dispute resolved, or any event that moved money from the supplier."""
    data = data or {}
    if name in PURCHASE_EVENTS:
        return True
    if name == "resolve_dispute":
        return (
            data.get("counterparty") == DisputeWith.SUPPLIER
            or data.get("direction") == RefundDirection.FROM_SUPPLIER
        )
    return data.get("direction") == RefundDirection.FROM_SUPPLIER


# The inputs of SPEC section 7 as they are stored in OrderEvent.data, named for a person.
EVENT_INPUT_LABELS = {
    "paid_at": gettext_noop("Paid at"),
    "shipped_at": gettext_noop("Shipped at"),
    "tracking_number": gettext_noop("Tracking number"),
    "carrier": gettext_noop("Carrier"),
    "note": gettext_noop("Note"),
    "amount": gettext_noop("Amount"),
    "reference": gettext_noop("Reference"),
    "respond_by": gettext_noop("Respond by"),
    "quantity": gettext_noop("Quantity"),
    "condition": gettext_noop("Condition"),
    "outcome": gettext_noop("Outcome"),
    "direction": gettext_noop("Direction"),
    "reason": gettext_noop("Reason"),
    # the 1688 purchase (issue 21)
    "purchase": gettext_noop("The 1688 purchase"),
    "purchase_refund": gettext_noop("Supplier refund"),
    "purchase_amount": gettext_noop("Asked of the supplier"),
    "kind": gettext_noop("Kind of refund"),
    "units": gettext_noop("Units"),
    "to_supplier": gettext_noop("Units sent back to the supplier"),
    "counterparty": gettext_noop("Dispute with"),
    "currency": gettext_noop("Currency"),
    "in_stock": gettext_noop("Units in our stock"),
    "stock_count": gettext_noop("Units really in stock"),
    "not_claimed": gettext_noop("Units not claimed"),
    "status": gettext_noop("Status"),
    "supplier_order_id": gettext_noop("1688 order id"),
    "entry_ids": gettext_noop("1688 order entry ids"),
    "return_tracking_number": gettext_noop("Return tracking number"),
    # a Supervisor's correction of the buyer's contact details (orders.workflow.contacts)
    "buyer_email": gettext_noop("Buyer email"),
    "buyer_phone": gettext_noop("Buyer phone"),
    "buyer_language": gettext_noop("Buyer language"),
    "buyer_name": gettext_noop("Buyer name"),
    # the 1688 refund requests (orders.workflow.refund_filing, refund_answers)
    "status_on_1688": gettext_noop("1688 status"),
    "refunded_fen": gettext_noop("Refunded on 1688 (fen)"),
    "reject_reason": gettext_noop("The supplier's refusal"),
    "goods_status": gettext_noop("Goods status"),
    "vouchers": gettext_noop("Vouchers"),
    "code": gettext_noop("1688's code"),
    "message": gettext_noop("1688's words"),
    "filed_on": gettext_noop("Filed by Shopops on"),
    "found_after_lost_answer": gettext_noop("Found on 1688 after its answer was lost"),
    # an evidence pack built (orders.workflow.packs)
    "target": gettext_noop("For"),
    "files": gettext_noop("Files in the pack"),
    "left_out": gettext_noop("Left out"),
    # who handles the order (orders.workflow.team, and the claim a step makes)
    "assignee": gettext_noop("Handled by"),
    "previous_assignee": gettext_noop("Before"),
    "took_over_from": gettext_noop("Taken over from"),
}


# Stored inputs that are choice codes: shown by their label in the reader's language.
EVENT_INPUT_CHOICES: dict[str, type[models.TextChoices]] = {
    "direction": RefundDirection,
    "outcome": Outcome,
    "condition": ReturnCondition,
    "counterparty": DisputeWith,
    "kind": SupplierRefundKind,
    "status": PurchaseStatus,
}
# ``purchase`` is a choice on a close (what it did with the purchase), an id elsewhere.
CLOSE_PURCHASE_CHOICES = PurchaseOnClose
# Stored inputs that are internal ids (the refunds a step created or answered): the refunds are
# entries of their own on the timeline.
EVENT_INTERNAL_KEYS = frozenset({"refund", "refunds", "purchase_refund", "currency", "platform"})


def _event_value(value: Any) -> str:
    """Stored inputs are JSON: show a timestamp in the reader's time zone, the rest as text."""
    if isinstance(value, str) and len(value) >= 19 and value[4] == "-" and value[10] == "T":
        try:
            moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return value
        if timezone.is_aware(moment):
            return formats.date_format(timezone.localtime(moment), "DATETIME_FORMAT")
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict) and set(value) == {"old", "new"}:
        # A corrected field: what it was, and what it is now.
        return f"{value['old'] or '—'} → {value['new'] or '—'}"
    return str(value)


def _event_entry(event: OrderEvent, labels: _Labels, currency: str) -> TimelineEntry:
    lines = []
    if event.from_status != event.to_status:
        lines.append(
            (
                _("Status"),
                f"{status_label(event.from_status)} → {status_label(event.to_status)}",
            )
        )
    if event.reason:
        lines.append((_("Reason"), labels(CloseReason, event.reason)))
    data = event.data or {}
    for key, value in data.items():
        if key in EVENT_INTERNAL_KEYS or value in (None, "", []):
            continue
        label = EVENT_INPUT_LABELS.get(key)
        if key == "purchase" and not isinstance(value, str):
            continue  # the purchase's id: the purchase block names it
        if key == "purchase" and isinstance(value, str):
            shown = labels(CLOSE_PURCHASE_CHOICES, value)
        elif key in EVENT_INPUT_CHOICES and isinstance(value, str):
            shown = labels(EVENT_INPUT_CHOICES[key], value)
        elif key == "target" and value in TARGET_LABELS:
            shown = _(TARGET_LABELS[value])
        elif key == "amount":
            shown = _amount(value, _event_currency(event, currency))
        elif key == "purchase_amount":
            shown = _amount(value, "CNY")
        elif key == "status_on_1688" and isinstance(value, dict):
            shown = _event_value({k: status_words(v, ALIBABA_1688_REFUND) for k, v in value.items()})
        else:
            shown = _event_value(value)
        lines.append((_(label) if label else key.replace("_", " "), shown))
    return TimelineEntry(
        at=event.created_at,
        kind="event",
        title=event_label(event.transition),
        actor=_actor(event.actor)
        if event.actor is not None or not data.get("platform")
        else str(data["platform"]),
        lines=lines,
        side="purchase" if is_purchase_event(event.transition, data) else "sale",
    )


def build_timeline(order: Order, refunds: list[Refund] | None = None) -> list[TimelineEntry]:
    """SPEC 3: history, communications, attachments, refunds, notifications and stock movements,
    newest first, read by ``selectors.timeline.order_history`` (six queries whatever the length,
    five when the caller has the refunds)."""
    history = order_history(order, refunds)
    labels = _Labels()
    entries: list[TimelineEntry] = []
    for event in history.events:
        entries.append(_event_entry(event, labels, order.currency))
    for comm in history.communications:
        entries.append(
            TimelineEntry(
                at=comm.occurred_at,
                recorded=comm.recorded_at,
                kind=f"communication kind-{comm.kind}",
                title=_("%(kind)s — %(direction)s, %(counterparty)s via %(channel)s")
                % {
                    "kind": labels(Kind, comm.kind),
                    "direction": labels(Direction, comm.direction),
                    "counterparty": labels(Counterparty, comm.counterparty),
                    "channel": labels(Channel, comm.channel),
                },
                detail=summary_of(comm),
                actor=_actor(comm.recorded_by),
                lines=[(_("Full text"), comm.body)] if comm.body else [],
                side="purchase" if comm.counterparty == Counterparty.SUPPLIER else "sale",
            )
        )
    for attachment in history.attachments:
        entries.append(
            TimelineEntry(
                at=attachment.uploaded_at,
                kind="attachment",
                title=_("File attached: %(name)s") % {"name": attachment.download_name},
                detail=f"{attachment.content_type}, {attachment.size:,} B",
                actor=_actor(attachment.uploaded_by),
                url=reverse("admin:evidence_attachment_download", args=[attachment.pk]),
            )
        )
    for refund in history.refunds:
        lines = [(_("Reference"), refund.reference)] if refund.reference else []
        if refund.kind:
            lines.append((_("Kind of refund"), labels(SupplierRefundKind, refund.kind)))
        if refund.units:
            lines.append((_("Units"), str(refund.units)))
        if refund.respond_by:
            lines.append((_("Respond by"), _format_when(refund.respond_by)))
        supplier = refund.direction == RefundDirection.FROM_SUPPLIER
        entries.append(
            TimelineEntry(
                at=refund.requested_at,
                kind=f"refund refund-{refund.status}",
                title=_("Refund %(direction)s: %(amount)s %(currency)s — %(status)s")
                % {
                    "direction": labels(RefundDirection, refund.direction).lower(),
                    "amount": _amount(refund.amount, ""),
                    "currency": refund.currency,
                    "status": labels(RefundStatus, refund.status),
                },
                lines=lines,
                side="purchase" if supplier else "sale",
            )
        )
    for note in history.notifications:
        entries.append(
            TimelineEntry(
                at=note.sent_at or note.created_at,
                kind=f"notification notification-{note.status}",
                title=_("%(channel)s to %(recipient)s: %(template)s — %(status)s")
                % {
                    "channel": labels(NotificationChannel, note.channel),
                    "recipient": note.recipient,
                    "template": labels(NotificationTemplate, note.template),
                    "status": labels(NotificationStatus, note.status),
                },
                detail=note.last_error if note.status == "failed" else "",
            )
        )
    for movement in history.movements:
        entries.append(
            TimelineEntry(
                at=movement.created_at,
                kind="stock",
                title=_("Stock of %(sku)s %(delta)+d (%(reason)s), now %(after)d")
                % {
                    "sku": movement.sku.code,
                    "delta": movement.delta,
                    "reason": labels(MovementReason, movement.reason),
                    "after": movement.stock_after,
                },
                detail=movement.note,
                actor=_actor(movement.actor),
            )
        )
    entries.sort(key=lambda e: e.sort_key, reverse=True)
    return entries


def _format_when(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


# The steps whose amount is the supplier's refund, in CNY (SPEC 1), or the purchase's.
SUPPLIER_AMOUNT_STEPS = frozenset(
    {
        "request_supplier_refund",
        "record_supplier_approval",
        "update_purchase",
        "purchase_refund_approved",
        "purchase_refund_refused",
    }
)


def _event_currency(event: OrderEvent, currency: str) -> str:
    """A supplier refund's amount is in CNY; a buyer's in the order's currency; a dispute's
    outcome in the currency recorded with it."""
    data = event.data or {}
    if data.get("currency"):
        return str(data["currency"])
    if event.transition in SUPPLIER_AMOUNT_STEPS or data.get("direction") == RefundDirection.FROM_SUPPLIER:
        return "CNY"
    return currency


def _amount(value: Any, currency: str) -> str:
    try:
        return format_money(value, currency)
    except ValueError:
        return str(value)
