"""The order screens' own views: transition forms, recording evidence, the bulk close, and the
order page's glance and timeline.

Nothing here changes an order: every change is one call to ``orders.workflow`` or
``evidence.services``. A ``NotPermitted`` becomes 403; a ``Refused`` is shown to the operator
(on the form field at fault when it names one) and has written nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.contrib import messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import models, transaction
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.defaultfilters import linebreaksbr
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.html import format_html, format_html_join
from django.utils.http import urlencode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop, ngettext
from django_fsm import can_proceed

from evidence import services
from evidence.models import Attachment, Channel, Communication, Counterparty, Direction, Kind
from shopops.errors import NotPermitted, OrderChanged, Refused

from . import workflow
from .forms import EVIDENCE_DEFAULTS, BulkCloseForm, CommunicationForm, TransitionForm
from .models import (
    CloseReason,
    MovementReason,
    Notification,
    NotificationChannel,
    NotificationStatus,
    NotificationTemplate,
    Order,
    OrderEvent,
    Refund,
    RefundDirection,
    RefundStatus,
    Status,
    StockMovement,
)

if TYPE_CHECKING:
    from .admin import OrderAdmin

# A bulk close runs one transaction per order inside one request: keep the request bounded.
BULK_ACTION_LIMIT = 500

# History events that are not transitions of SPEC section 7 but are written by the workflow.
OTHER_EVENT_LABELS = {
    "send_payment_reminder": gettext_noop("Payment reminder sent"),
    "create_refund": gettext_noop("Refund requested"),
    "mark_refund_received": gettext_noop("Refund marked received"),
}


def order_url(order: Order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def transition_url(order: Order, name: str) -> str:
    return reverse("admin:orders_order_transition", args=[order.pk, name])


def transition_label(name: str) -> str:
    if name in workflow.TRANSITIONS:
        return _(workflow.TRANSITIONS[name].label)
    if name in OTHER_EVENT_LABELS:
        return _(OTHER_EVENT_LABELS[name])
    return name


def _get_order(model_admin: OrderAdmin, request: HttpRequest, object_id: str) -> Order:
    order = model_admin.get_object(request, unquote(object_id))
    if order is None:
        raise Http404(_("There is no order with id %(id)s.") % {"id": object_id})
    if not model_admin.has_view_permission(request, order):
        raise PermissionDenied
    return order


def _context(model_admin: OrderAdmin, request: HttpRequest, order: Order, title: str, **extra: Any) -> dict:
    return {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": order,
        "title": title,
        "subtitle": str(order),
        "order_url": order_url(order),
        **extra,
    }


# --- the order page ---------------------------------------------------------------------------


@dataclass
class TimelineEntry:
    at: datetime
    kind: str  # event, communication, attachment, refund, notification, stock: the CSS class too
    title: str
    detail: str = ""
    actor: str = ""
    url: str = ""
    lines: list[tuple[str, str]] = field(default_factory=list)

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
        return format_html(
            '<li class="timeline-entry {}"><time datetime="{}">{}</time>'
            '<div class="timeline-body">{}</div></li>',
            self.kind,
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
    "refunds": gettext_noop("Refunds"),
}


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
    return str(value)


def _event_entry(event: OrderEvent, labels: _Labels) -> TimelineEntry:
    lines = []
    if event.from_status != event.to_status:
        lines.append(
            (
                _("Status"),
                f"{workflow.status_label(event.from_status)} → {workflow.status_label(event.to_status)}",
            )
        )
    if event.reason:
        lines.append((_("Reason"), labels(CloseReason, event.reason)))
    for key, value in (event.data or {}).items():
        if key == "refund" or value in (None, "", []):
            continue
        label = EVENT_INPUT_LABELS.get(key)
        lines.append((_(label) if label else key.replace("_", " "), _event_value(value)))
    return TimelineEntry(
        at=event.created_at,
        kind="event",
        title=transition_label(event.transition),
        actor=_actor(event.actor),
        lines=lines,
    )


def build_timeline(order: Order, refunds: list[Refund] | None = None) -> list[TimelineEntry]:
    """SPEC 3: history, communications, attachments, refunds, notifications and stock movements,
    newest first. Six queries whatever the length (five when the caller has the refunds): one
    per kind, related users joined."""
    labels = _Labels()
    entries: list[TimelineEntry] = []
    for event in OrderEvent.objects.filter(order=order).select_related("actor"):
        entries.append(_event_entry(event, labels))
    for comm in Communication.objects.filter(order=order).select_related("recorded_by"):
        entries.append(
            TimelineEntry(
                at=comm.occurred_at,
                kind=f"communication kind-{comm.kind}",
                title=_("%(kind)s — %(direction)s, %(counterparty)s via %(channel)s")
                % {
                    "kind": labels(Kind, comm.kind),
                    "direction": labels(Direction, comm.direction),
                    "counterparty": labels(Counterparty, comm.counterparty),
                    "channel": labels(Channel, comm.channel),
                },
                detail=comm.summary,
                actor=_actor(comm.recorded_by),
                lines=[(_("Full text"), comm.body)] if comm.body else [],
            )
        )
    for attachment in Attachment.objects.filter(order=order).select_related("uploaded_by"):
        entries.append(
            TimelineEntry(
                at=attachment.uploaded_at,
                kind="attachment",
                title=_("File attached: %(name)s") % {"name": attachment.original_name},
                detail=f"{attachment.content_type}, {attachment.size:,} B",
                actor=_actor(attachment.uploaded_by),
                url=reverse("admin:evidence_attachment_download", args=[attachment.pk]),
            )
        )
    for refund in Refund.objects.filter(order=order) if refunds is None else refunds:
        lines = [(_("Reference"), refund.reference)] if refund.reference else []
        if refund.respond_by:
            lines.append((_("Respond by"), _format_when(refund.respond_by)))
        entries.append(
            TimelineEntry(
                at=refund.requested_at,
                kind=f"refund refund-{refund.status}",
                title=_("Refund %(direction)s: %(amount)s %(currency)s — %(status)s")
                % {
                    "direction": labels(RefundDirection, refund.direction).lower(),
                    "amount": refund.amount,
                    "currency": refund.currency,
                    "status": labels(RefundStatus, refund.status),
                },
                lines=lines,
            )
        )
    for note in Notification.objects.filter(order=order):
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
    for movement in StockMovement.objects.filter(order=order).select_related("sku", "actor"):
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
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries


def _format_when(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def available_transitions(order: Order, user: Any) -> list[dict[str, Any]]:
    """The transitions this user may run on this order now, in the order of SPEC section 7."""
    allowed = {t.name for t in order.get_available_user_status_transitions(user)}
    return [
        {
            "name": name,
            "label": _(info.label),
            "url": transition_url(order, name),
            "supervisor": info.supervisor,
        }
        for name, info in workflow.TRANSITIONS.items()
        if name in allowed
    ]


def order_page_context(request: HttpRequest, order: Order) -> dict[str, Any]:
    """What the order page shows above its fields: the glance, the buttons and the timeline."""
    refunds = list(Refund.objects.filter(order=order))
    can_record = request.user.has_perm("evidence.add_communication")
    return {
        "transition_buttons": available_transitions(order, request.user),
        "refundable": workflow.refundable(order),
        "refunds": refunds,
        "timeline": render_timeline(build_timeline(order, refunds)),
        "can_record_evidence": can_record,
        "evidence_url": reverse("admin:orders_order_evidence", args=[order.pk]),
        "status_closed": order.status == Status.CLOSED,
    }


# --- transition forms -------------------------------------------------------------------------


def transition_view(model_admin: OrderAdmin, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
    """GET: the transition's form; POST: run it through the workflow."""
    if name not in workflow.TRANSITIONS:
        raise Http404(_("There is no step called “%(name)s”.") % {"name": name})
    order = _get_order(model_admin, request, object_id)
    # The same rule as the workflow, checked first so that a crafted POST gets a plain 403.
    if not request.user.has_perm(f"orders.{name}"):
        raise PermissionDenied
    label = transition_label(name)
    if not can_proceed(getattr(order, name)):
        seen = request.POST.get("seen_status", "")
        if seen and seen != order.status:
            message = _(
                "Order %(order)s has changed: it is now “%(status)s”, so “%(action)s” is no longer "
                "possible. Reload the order to see what happened."
            )
        else:
            message = _("“%(action)s” is not possible now: order %(order)s is “%(status)s”.")
        messages.error(
            request,
            message % {"order": order, "status": workflow.status_label(order.status), "action": label},
        )
        return HttpResponseRedirect(order_url(order))

    form = TransitionForm(request.POST or None, transition=name, order=order)
    if request.method == "POST" and form.is_valid():
        try:
            updated = getattr(workflow, name)(order, by=request.user, **form.workflow_kwargs())
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        except OrderChanged as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(order_url(order))
        except Refused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Order %(order)s: “%(action)s” done. It is now “%(status)s”.")
                % {"order": updated, "action": label, "status": workflow.status_label(updated.status)},
            )
            return HttpResponseRedirect(order_url(updated))

    evidence_url = ""
    if name in EVIDENCE_DEFAULTS and request.user.has_perm("evidence.add_communication"):
        evidence_url = (
            reverse("admin:orders_order_evidence", args=[order.pk])
            + "?"
            + urlencode({"next_transition": name})
        )
    context = _context(
        model_admin,
        request,
        order,
        label,
        form=form,
        transition=name,
        transition_info=workflow.TRANSITIONS[name],
        evidence_url=evidence_url,
        refundable=workflow.refundable(order),
    )
    return TemplateResponse(request, "admin/orders/order/transition_form.html", context)


# --- evidence ---------------------------------------------------------------------------------

# services name the input at fault; the form calls the files input "files".
_EVIDENCE_FIELDS = {"file": "files", "communication": None}


def evidence_view(model_admin: OrderAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Record a communication with its attachments, then go on to the step that needed them."""
    order = _get_order(model_admin, request, object_id)
    if not request.user.has_perm("evidence.add_communication"):
        raise PermissionDenied
    next_transition = request.GET.get("next_transition", "")
    if next_transition not in workflow.TRANSITIONS:
        next_transition = ""
    form = CommunicationForm(request.POST or None, request.FILES or None, next_transition=next_transition)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        files = data["files"]
        if files and not request.user.has_perm("evidence.add_attachment"):
            raise PermissionDenied
        stored: list[str] = []
        try:
            # One transaction: a refused file leaves no communication and no other file behind.
            with transaction.atomic():
                communication = services.record_communication(
                    order,
                    by=request.user,
                    counterparty=data["counterparty"],
                    channel=data["channel"],
                    direction=data["direction"],
                    kind=data["kind"],
                    summary=data["summary"],
                    body=data["body"],
                    occurred_at=data["occurred_at"],
                )
                for upload in files:
                    attachment = services.attach_file(
                        order, by=request.user, file=upload, communication=communication
                    )
                    stored.append(attachment.file.name)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        except Refused as exc:
            # The rows were rolled back; files already written to storage must not linger.
            for name in stored:
                default_storage.delete(name)
            target = _EVIDENCE_FIELDS.get(exc.field, exc.field)
            form.add_error(target if target in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                ngettext(
                    "Recorded “%(summary)s” with %(count)d attachment.",
                    "Recorded “%(summary)s” with %(count)d attachments.",
                    len(files),
                )
                % {"summary": communication.summary, "count": len(files)},
            )
            if next_transition and request.user.has_perm(f"orders.{next_transition}"):
                return HttpResponseRedirect(transition_url(order, next_transition))
            return HttpResponseRedirect(order_url(order))

    title = _("Record a communication")
    context = _context(
        model_admin,
        request,
        order,
        title,
        form=form,
        next_transition=next_transition,
        next_label=transition_label(next_transition) if next_transition else "",
        max_mb=f"{settings.SHOPOPS_ATTACHMENT_MAX_BYTES / (1024 * 1024):g}",
    )
    return TemplateResponse(request, "admin/orders/order/evidence_form.html", context)


# --- bulk actions -----------------------------------------------------------------------------


def _report(request: HttpRequest, done: list[Order], refused: list[tuple[Order, str]], done_message) -> None:
    if done:
        messages.success(
            request,
            done_message(len(done)) % {"count": len(done), "orders": ", ".join(str(o) for o in done)},
        )
    for order, why in refused:
        messages.error(request, _("Order %(order)s was refused: %(why)s") % {"order": order, "why": why})


def bounded_selection(request: HttpRequest, queryset: QuerySet, refusal: str) -> list | None:
    """The selected rows, or None when more than ``BULK_ACTION_LIMIT`` were selected.

    Then ``refusal`` (with ``%(limit)d``) is shown and nothing is done: a bulk action never
    handles part of a selection without a word.
    """
    rows = list(queryset.order_by("pk")[: BULK_ACTION_LIMIT + 1])
    if len(rows) > BULK_ACTION_LIMIT:
        messages.error(request, refusal % {"limit": BULK_ACTION_LIMIT})
        return None
    return rows


def bulk_close(
    model_admin: OrderAdmin, request: HttpRequest, queryset: QuerySet[Order]
) -> HttpResponse | None:
    """The ``close_unpaid`` action: ask for the reason, then close each order on its own."""
    orders = bounded_selection(
        request, queryset, _("Select at most %(limit)d orders for a bulk close; nothing was closed.")
    )
    if orders is None:
        return None
    form = BulkCloseForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        done: list[Order] = []
        refused: list[tuple[Order, str]] = []
        for order in orders:
            # Each order in its own transaction (the workflow's): one refusal spoils no other.
            try:
                done.append(
                    workflow.close_unpaid(
                        order.pk,
                        by=request.user,
                        reason=form.cleaned_data["reason"],
                        note=form.cleaned_data["note"],
                    )
                )
            except Refused as exc:
                refused.append((order, exc.message))
        _report(
            request,
            done,
            refused,
            lambda n: ngettext(
                "Closed %(count)d order: %(orders)s.", "Closed %(count)d orders: %(orders)s.", n
            ),
        )
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Close unpaid orders"),
        "form": form,
        "orders": orders,
        "unpaid_count": sum(1 for o in orders if o.status == Status.AWAITING_PAYMENT),
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
        "index": request.POST.get("index", "0"),
    }
    return TemplateResponse(request, "admin/orders/order/bulk_close.html", context)


def bulk_payment_reminder(request: HttpRequest, queryset: QuerySet[Order]) -> None:
    """The ``send_payment_reminder`` action: one reminder per unpaid order, reported per order."""
    orders = bounded_selection(
        request,
        queryset,
        _("Select at most %(limit)d orders for a payment reminder; no reminder was sent."),
    )
    if orders is None:
        return
    done: list[Order] = []
    refused: list[tuple[Order, str]] = []
    for order in orders:
        if order.payment_reminded_at is not None:
            refused.append((order, _("a payment reminder was already sent.")))
            continue
        try:
            done.append(workflow.send_payment_reminder(order.pk, by=request.user))
        except Refused as exc:
            refused.append((order, exc.message))
    _report(
        request,
        done,
        refused,
        lambda n: ngettext(
            "Payment reminder sent for %(count)d order: %(orders)s.",
            "Payment reminders sent for %(count)d orders: %(orders)s.",
            n,
        ),
    )
