"""The order page's own screens: transition forms, recording evidence, correcting contact details.

Each screen is a function ``view(model_admin, request, object_id, ...)`` wired by
``OrderAdmin.get_urls`` (``shopops.admin_base.screen``). Nothing here changes an order: every
change is one call to ``orders.workflow`` or ``evidence.services``, which check the permission,
the order's state and the inputs. A ``NotPermitted`` becomes 403; an ``OrderChanged`` sends the
operator back to the order with its message; any other ``Refused`` is shown on the form (on the
field at fault when it names one) and has written nothing.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.core.files.storage import default_storage
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import translation
from django.utils.http import urlencode
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from evidence import services
from shopops.errors import NotPermitted, OrderChanged, Refused, Stale

from .. import policy, workflow
from ..buyer_messages.chat import audience, ready_texts
from ..forms import CommunicationForm, TransitionForm
from ..models import Order, Refund, Status
from ..people import person
from ..selectors.evidence import evidence_missing
from ..selectors.queues import FINISHED, next_steps, step_owner
from ..selectors.refunds import refundable
from ..transitions import OPERATOR, SUPERVISOR, TRANSITIONS
from ..workflow.assignment import ASSIGN_PERMISSION, CLAIM_PERMISSION, HandledByOther, holder_for
from ..workflow.contacts import CONTACT_FIELDS, contact_version
from ..workflow.core import as_seen, check_source, status_label
from ..workflow.events import event_label
from ..workflow.versions import version_of
from .assignment import take_over_page
from .timeline import build_timeline, render_timeline

CORRECT_CONTACT_PERMISSION = "orders.change_order"


def order_url(order: Order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def transition_url(order: Order, name: str) -> str:
    return reverse("admin:orders_order_transition", args=[order.pk, name])


def get_order(model_admin: ModelAdmin, request: HttpRequest, object_id: str) -> Order:
    """The order of the URL, for a user who may view it (404 / 403 otherwise)."""
    order = model_admin.get_object(request, unquote(object_id))
    if order is None:
        raise Http404(_("There is no order with id %(id)s.") % {"id": object_id})
    if not model_admin.has_view_permission(request, order):
        raise PermissionDenied
    return order


def _render(
    model_admin: ModelAdmin, request: HttpRequest, template: str, order: Order, title: str, **extra: Any
) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": order,
        "title": title,
        "subtitle": str(order),
        "order_url": order_url(order),
        **extra,
    }
    return TemplateResponse(request, template, context)


# --- the order page ---------------------------------------------------------------------------


def available_transitions(order: Order, user: Any) -> list[dict[str, Any]]:
    """The transitions this user may run on this order now, in the order of SPEC section 7."""
    allowed = {t.name for t in order.get_available_user_status_transitions(user)}
    return [
        {
            "name": name,
            "label": event_label(name),
            "url": transition_url(order, name),
            "supervisor": declared.supervisor,
        }
        for name, declared in TRANSITIONS.items()
        if name in allowed
    ]


# Who a step waits on, by the group whose job it is (orders/transitions.py: its first group).
_WAITING_FOR = {OPERATOR: gettext_lazy("an operator"), SUPERVISOR: gettext_lazy("a supervisor")}


def waiting_for(order: Order, buttons: list[dict[str, Any]]) -> list[str]:
    """When this user can run none of the order's next steps: who can, and what the steps are.

    One sentence per group, e.g. "Waiting for a supervisor: “Escalate to platform support” or
    “Confirm refund and close”." Empty when the user has a step to run, or there is none.
    """
    if buttons:
        return []
    by_group: dict[str, list[str]] = {}
    for name in next_steps(order.status):
        by_group.setdefault(step_owner(name), []).append(f"“{event_label(name)}”")
    return [
        _("Waiting for %(who)s: %(steps)s.")
        % {"who": _WAITING_FOR.get(group, group), "steps": get_text_list(steps, _("or"))}
        for group, steps in by_group.items()
    ]


def handling_context(request: HttpRequest, order: Order) -> dict[str, Any]:
    """Who handles the order, and what this user may do about it: take it on (or over), assign it."""
    user = request.user
    finished = order.status in FINISHED
    mine = order.assignee_id is not None and order.assignee_id == user.pk
    can_claim = not finished and not mine and policy.may(user, CLAIM_PERMISSION, order)
    can_assign = not finished and policy.may(user, ASSIGN_PERMISSION, order)
    return {
        "handled_by": person(order.assignee) if order.assignee_id else "",
        "handled_by_me": mine,
        "claim_url": reverse("admin:orders_order_claim", args=[order.pk]) if can_claim else "",
        "assign_url": reverse("admin:orders_order_assign", args=[order.pk]) if can_assign else "",
    }


def order_page_context(request: HttpRequest, order: Order) -> dict[str, Any]:
    """What the order page shows above its fields: the glance, the buttons and the timeline."""
    refunds = list(Refund.objects.filter(order=order))
    can_correct = policy.may(request.user, CORRECT_CONTACT_PERMISSION)
    buttons = available_transitions(order, request.user)
    entries = build_timeline(order, refunds)
    return {
        **handling_context(request, order),
        "transition_buttons": buttons,
        "waiting_for": waiting_for(order, buttons),
        "refundable": refundable(order),
        "refunds": refunds,
        "timeline": render_timeline(entries),
        "timeline_entries": entries,
        "can_record_evidence": policy.may(request.user, "evidence.add_communication"),
        "evidence_url": reverse("admin:orders_order_evidence", args=[order.pk]),
        "contact_url": reverse("admin:orders_order_contact", args=[order.pk]) if can_correct else "",
        "status_closed": order.status == Status.CLOSED,
    }


# --- transition forms -------------------------------------------------------------------------


def _after_stale(data, stale: Stale, version_field: str):
    """The submitted data again, with each value someone else changed meanwhile shown as it is now
    (unless this user typed another one) and the current version: what a 409 shows."""
    data = data.copy()
    for field, change in stale.changes.items():
        if field in data and data.get(field) == change["old"]:
            data[field] = change["new"]
    data[version_field] = stale.version
    return data


def transition_view(model_admin: ModelAdmin, request: HttpRequest, object_id: str, name: str) -> HttpResponse:
    """GET: the transition's form; POST: run it through the workflow."""
    declared = TRANSITIONS.get(name)
    if declared is None:
        raise Http404(_("There is no step called “%(name)s”.") % {"name": name})
    order = get_order(model_admin, request, object_id)
    # The workflow checks it too; checked first so that the form is never shown to a user who
    # may not run the step.
    if not policy.may(request.user, declared.permission, order):
        raise PermissionDenied
    label = event_label(name)
    seen = order
    if request.method == "POST":
        # The order as the form showed it: its status, and the version of the values it showed.
        seen = as_seen(
            order, status=request.POST.get("seen_status", ""), version=request.POST.get("seen_version")
        )
    try:
        # The workflow's own source rule and message: no form for a step that cannot run now.
        check_source(name, order, seen)
    except Refused as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(order_url(order))
    # A colleague's order: ask first ("Ana is handling this order; take it over?"); the form
    # then carries take_over=1, and the workflow takes the order over with the step.
    take_over = (request.POST if request.method == "POST" else request.GET).get("take_over") == "1"
    holder = holder_for(order, request.user)
    if holder is not None and not take_over:
        return take_over_page(model_admin, request, order, holder, action=request.path)
    form = TransitionForm(request.POST or None, transition=name, order=order)
    shown = declared.shown_fields
    seen_version = version_of(order, shown) if shown else ""
    status = 200
    if request.method == "POST" and form.is_valid():
        run = getattr(workflow, name)
        try:
            updated = run(seen, by=request.user, take_over=take_over, **form.workflow_kwargs())
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        except HandledByOther as exc:
            # Someone took the order on while the form was open: ask again.
            return take_over_page(model_admin, request, order, exc.assignee, action=request.path)
        except OrderChanged as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(order_url(order))
        except Stale as exc:
            # 409: the form again, with what changed and the current values and version.
            form = TransitionForm(
                _after_stale(request.POST, exc, "seen_version"), transition=name, order=order
            )
            form.is_valid()
            form.add_error(None, exc.message)
            seen_version, status = exc.version, 409
        except Refused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request,
                _("Order %(order)s: “%(action)s” done. It is now “%(status)s”.")
                % {"order": updated, "action": label, "status": status_label(updated.status)},
            )
            return HttpResponseRedirect(order_url(updated))

    # The step's rule in words, said before anything is recorded, and whether it is met now.
    evidence_rule, evidence_met, evidence_url = "", False, ""
    if declared.evidence is not None:
        evidence_rule = _(declared.evidence.sentence)
        evidence_met = not evidence_missing(name, order)
        if not evidence_met and policy.may(request.user, "evidence.add_communication"):
            evidence_url = (
                reverse("admin:orders_order_evidence", args=[order.pk])
                + "?"
                + urlencode({"next_transition": name})
            )
    response = _render(
        model_admin,
        request,
        "admin/orders/order/transition_form.html",
        order,
        label,
        form=form,
        transition=name,
        evidence_rule=evidence_rule,
        evidence_met=evidence_met,
        evidence_url=evidence_url,
        seen_version=seen_version,
        take_over=take_over,
        **ready_text_context(request, order, name),
    )
    response.status_code = status
    return response


def ready_text_context(request: HttpRequest, order: Order, transition: str) -> dict[str, Any]:
    """What the transition form shows of the ready texts (nothing for other steps, or for a user
    who may not record communications)."""
    if not audience(transition, order) or not policy.may(request.user, "evidence.add_communication"):
        return {}
    return {
        "ready_texts": ready_texts(transition, order, ui_language=translation.get_language()),
        "ready_audience": audience(transition, order),
        "ready_text_url": reverse("admin:orders_order_ready_text", args=[order.pk]),
        # A text that needs the store's settings (its return address): a superuser may open them.
        "store_settings_url": reverse("admin:orders_store_change", args=[order.store_id])
        if policy.may(request.user, "orders.change_store", order.store)
        else "",
    }


# --- evidence ---------------------------------------------------------------------------------

# services name the input at fault; the form calls the files input "files".
_EVIDENCE_FIELDS = {"file": "files", "communication": None}


def evidence_view(model_admin: ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """Record a communication with its attachments, then go on to the step that needed them."""
    order = get_order(model_admin, request, object_id)
    if not policy.may(request.user, "evidence.add_communication"):
        raise PermissionDenied
    next_transition = request.GET.get("next_transition", "")
    if next_transition not in TRANSITIONS:
        next_transition = ""
    # The rule of the step this evidence is for, said before anything is recorded; a file it
    # needs is asked for here, not found missing on the step's own submit.
    rule = TRANSITIONS[next_transition].evidence if next_transition else None
    needs_file = rule is not None and rule.attachment and evidence_missing(next_transition, order)
    form = CommunicationForm(
        request.POST or None,
        request.FILES or None,
        next_transition=next_transition,
        file_needed_by=event_label(next_transition) if needs_file else "",
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        files = data["files"]
        if files and not policy.may(request.user, "evidence.add_attachment"):
            raise PermissionDenied
        stored: list[str] = []
        unreadable: list = []  # images kept as evidence that are not readable images
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
                    if attachment.image_check:
                        unreadable.append(attachment)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        except Refused as exc:
            # The rows were rolled back; files already written to storage must not linger.
            for name in stored:
                default_storage.delete(name)
            target = _EVIDENCE_FIELDS.get(exc.field, exc.field)
            form.add_error(target if target in form.fields else None, exc.message)
        else:
            if files:
                recorded = ngettext(
                    "Recorded “%(summary)s” with %(count)d attachment.",
                    "Recorded “%(summary)s” with %(count)d attachments.",
                    len(files),
                )
            else:
                recorded = _("Recorded “%(summary)s”.")
            messages.success(request, recorded % {"summary": communication.summary, "count": len(files)})
            for attachment in unreadable:
                messages.warning(
                    request,
                    _(
                        "“%(name)s” is kept as evidence, but it is not a readable image (%(why)s): "
                        "it will not go into evidence packs."
                    )
                    % {"name": attachment.original_name, "why": attachment.get_image_check_display()},
                )
            if next_transition and policy.may(request.user, f"orders.{next_transition}", order):
                return HttpResponseRedirect(transition_url(order, next_transition))
            return HttpResponseRedirect(order_url(order))

    return _render(
        model_admin,
        request,
        "admin/orders/order/evidence_form.html",
        order,
        _("Record a communication"),
        form=form,
        next_transition=next_transition,
        next_label=event_label(next_transition) if next_transition else "",
        next_rule=_(rule.sentence) if rule is not None else "",
        max_mb=f"{settings.SHOPOPS_ATTACHMENT_MAX_BYTES / (1024 * 1024):g}",
    )


# --- correcting the buyer's contact details ---------------------------------------------------


class ContactForm(forms.Form):
    """The buyer's contact details as they are; the workflow checks what is typed."""

    buyer_name = forms.CharField(label=gettext_lazy("Buyer name"), max_length=200)
    buyer_email = forms.CharField(label=gettext_lazy("Buyer email"), required=False, max_length=254)
    buyer_phone = forms.CharField(
        label=gettext_lazy("Buyer phone"),
        required=False,
        max_length=32,
        help_text=gettext_lazy(
            "Stored in international form (+34…); other forms are read for the buyer's country."
        ),
    )
    buyer_language = forms.CharField(
        label=gettext_lazy("Buyer language"),
        max_length=16,
        help_text=gettext_lazy("A language code, like en, es or zh-hans: the buyer's messages are in it."),
    )
    note = forms.CharField(
        label=gettext_lazy("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("Why, or where the right details come from."),
    )
    # The version of the details the form showed (workflow.contacts.contact_version).
    seen = forms.CharField(widget=forms.HiddenInput, required=False)


def contact_view(model_admin: ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """GET: the buyer's contact details in a form; POST: ``workflow.correct_contact``."""
    order = get_order(model_admin, request, object_id)
    if not policy.may(request.user, CORRECT_CONTACT_PERMISSION):
        raise PermissionDenied
    initial = {name: getattr(order, name) for name in CONTACT_FIELDS}
    initial["seen"] = contact_version(order)
    form = ContactForm(request.POST or None, initial=initial)
    status = 200
    if request.method == "POST" and form.is_valid():
        values = {**form.cleaned_data, "seen": form.cleaned_data["seen"] or None}
        try:
            updated = workflow.correct_contact(order, by=request.user, **values)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        except Stale as exc:
            # 409: what changed and by whom; the form shows the current details (and this
            # user's own edits), with the current version.
            if exc.changes:
                form = ContactForm(_after_stale(request.POST, exc, "seen"), initial=initial)
                form.is_valid()
            else:
                form = ContactForm(initial=initial)
            form.add_error(None, exc.message)
            status = 409
        except Refused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(
                request, _("Order %(order)s: the buyer's contact details are corrected.") % {"order": updated}
            )
            return HttpResponseRedirect(order_url(updated))
    response = _render(
        model_admin,
        request,
        "admin/orders/order/contact_form.html",
        order,
        _("Correct contact details"),
        form=form,
    )
    response.status_code = status
    return response
