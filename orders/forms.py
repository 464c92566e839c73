"""Forms of the operator screens: one per transition, evidence, and the bulk close.

The forms only collect and shape input; every rule (what is allowed, amounts, evidence) is
checked by ``orders.workflow`` / ``evidence.services``, whose ``Refused`` errors the views put
back on the form. Field names are the workflow's input names (SPEC section 7).
"""

from __future__ import annotations

from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evidence.models import Channel, Counterparty, Direction, Kind

from . import workflow
from .models import CloseReason, Order, Outcome, Refund, RefundDirection, RefundStatus, ReturnCondition

# What a browser's datetime-local input sends, plus what a person types by hand.
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
# Transitions whose `reason` is a close reason; request_supplier_refund's is free text.
CLOSE_REASON_TRANSITIONS = {
    "close_unpaid",
    "record_buyer_consent",
    "record_return_agreement",
    "resolve_dispute",
}
DISPUTE_OUTCOMES = [(o.value, o.label) for o in (Outcome.WON, Outcome.PARTIAL, Outcome.LOST)]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


def _datetime_field(label, *, required: bool, help_text: str = "") -> forms.DateTimeField:
    return forms.DateTimeField(
        label=label,
        required=required,
        input_formats=DATETIME_FORMATS,
        widget=DateTimeLocalInput(),
        help_text=help_text,
    )


def _money_field(
    label, *, required: bool, help_text: str = "", min_value: str = "0.01"
) -> forms.DecimalField:
    return forms.DecimalField(
        label=label,
        required=required,
        max_digits=12,
        decimal_places=2,
        min_value=Decimal(min_value),
        help_text=help_text,
    )


def _close_reason_choices(required: bool) -> list[tuple[str, Any]]:
    blank = [("", _("— choose a reason —"))]
    return blank + list(CloseReason.choices)


def _field_for(name: str, input_name: str, required: bool, order: Order) -> forms.Field:
    """The form field for one workflow input of transition ``name``."""
    if input_name == "reason":
        if name in CLOSE_REASON_TRANSITIONS:
            help_text = (
                _("Needed only if the buyer opened the dispute before a close reason was recorded.")
                if name == "resolve_dispute"
                else ""
            )
            return forms.ChoiceField(
                label=_("Close reason"),
                choices=_close_reason_choices(required),
                required=required,
                help_text=help_text,
            )
        return forms.CharField(
            label=_("Why the supplier should refund"),
            widget=forms.Textarea(attrs={"rows": 3}),
            required=required,
        )
    if input_name == "note":
        return forms.CharField(
            label=_("Note"),
            widget=forms.Textarea(attrs={"rows": 3}),
            required=required,
            help_text=_("Required when the reason is “Other”."),
        )
    if input_name == "amount":
        labels = {
            "record_buyer_consent": _("Refund to the buyer"),
            "receive_return": _("Refund to the buyer"),
            "request_supplier_refund": _("Amount asked of the supplier (CNY)"),
            "record_supplier_approval": _("Amount approved (CNY)"),
            "resolve_dispute": _("Amount recovered"),
        }
        return _money_field(
            labels.get(name, _("Amount")),
            required=required,
            min_value="0.00" if name == "resolve_dispute" else "0.01",
        )
    if input_name == "reference":
        labels = {
            "escalate_to_support": _("Platform support ticket reference"),
            "confirm_refund": _("Platform refund reference"),
            "request_supplier_refund": _("1688 refund reference"),
            "record_supplier_approval": _("1688 refund reference"),
            "record_supplier_refusal": _("1688 dispute reference"),
            "open_buyer_dispute": _("Buyer's dispute reference"),
        }
        return forms.CharField(label=labels.get(name, _("Reference")), max_length=100, required=required)
    if input_name == "tracking_number":
        label = _("Return tracking number") if name == "record_return_agreement" else _("Tracking number")
        return forms.CharField(label=label, max_length=64, required=required)
    if input_name == "carrier":
        return forms.CharField(label=_("Carrier"), max_length=64, required=required)
    if input_name == "paid_at":
        return _datetime_field(_("Paid at"), required=required, help_text=_("Leave empty for now."))
    if input_name == "shipped_at":
        return _datetime_field(_("Shipped at"), required=required, help_text=_("Leave empty for now."))
    if input_name == "respond_by":
        return _datetime_field(_("Supplier must answer by"), required=required)
    if input_name == "quantity":
        return forms.IntegerField(label=_("Quantity received"), min_value=0, max_value=order.quantity)
    if input_name == "condition":
        return forms.ChoiceField(
            label=_("Condition"), choices=[("", "—"), *ReturnCondition.choices], required=required
        )
    if input_name == "outcome":
        return forms.ChoiceField(
            label=_("Outcome"), choices=[("", "—"), *DISPUTE_OUTCOMES], required=required
        )
    raise KeyError(input_name)


def transition_initial(name: str, order: Order) -> dict[str, Any]:
    """Sensible defaults: what remains refundable, the configured supplier deadline, ..."""
    now = timezone.localtime()
    initial: dict[str, Any] = {}
    info = workflow.TRANSITIONS[name]
    inputs = (*info.required, *info.optional)
    if "amount" in inputs:
        if name in ("record_buyer_consent", "receive_return"):
            initial["amount"] = workflow.refundable(order)
        elif name == "request_supplier_refund":
            initial["amount"] = workflow.refundable(order, RefundDirection.FROM_SUPPLIER)
        elif name == "record_supplier_approval":
            pending = (
                Refund.objects.filter(
                    order=order, direction=RefundDirection.FROM_SUPPLIER, status=RefundStatus.REQUESTED
                )
                .order_by("-requested_at")
                .values_list("amount", flat=True)
                .first()
            )
            if pending is not None:
                initial["amount"] = pending
    if "respond_by" in inputs:
        initial["respond_by"] = now + timedelta(days=settings.SHOPOPS_SUPPLIER_RESPOND_DAYS)
    if "quantity" in inputs:
        initial["quantity"] = order.quantity
    if "reason" in inputs and name in CLOSE_REASON_TRANSITIONS and order.close_reason:
        initial["reason"] = order.close_reason
    if name == "mark_shipped":
        initial["carrier"] = order.carrier
    return initial


class TransitionForm(forms.Form):
    """Exactly the inputs of one transition (``workflow.TRANSITIONS[name]``)."""

    def __init__(self, *args: Any, transition: str, order: Order, **kwargs: Any):
        self.transition = transition
        self.order = order
        info = workflow.TRANSITIONS[transition]
        kwargs.setdefault("initial", transition_initial(transition, order))
        super().__init__(*args, **kwargs)
        for input_name in info.required:
            self.fields[input_name] = _field_for(transition, input_name, True, order)
        for input_name in info.optional:
            self.fields[input_name] = _field_for(transition, input_name, False, order)

    def workflow_kwargs(self) -> dict[str, Any]:
        """The cleaned inputs to pass to the workflow function; empty optional ones left out."""
        info = workflow.TRANSITIONS[self.transition]
        values = {}
        for input_name in (*info.required, *info.optional):
            value = self.cleaned_data.get(input_name)
            if input_name in info.optional and value in (None, ""):
                continue
            values[input_name] = value
        return values


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files from one ``<input type=file multiple>`` (Django docs, "Uploading multiple files")."""

    def __init__(self, *args: Any, **kwargs: Any):
        kwargs.setdefault("widget", MultipleFileInput())
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        single = super().clean
        if isinstance(data, list | tuple):
            return [single(d, initial) for d in data if d]
        return [single(data, initial)] if data else []


# What the transition that asked for evidence needs: who, which way, what kind.
EVIDENCE_DEFAULTS: dict[str, dict[str, str]] = {
    "request_cancellation": {"counterparty": Counterparty.BUYER, "direction": Direction.OUTBOUND},
    "record_buyer_refusal": {"counterparty": Counterparty.BUYER, "kind": Kind.REFUSAL},
    "record_buyer_consent": {"counterparty": Counterparty.BUYER, "kind": Kind.CONSENT},
    "propose_return": {"counterparty": Counterparty.BUYER, "direction": Direction.OUTBOUND},
    "record_return_refusal": {"counterparty": Counterparty.BUYER, "kind": Kind.REFUSAL},
    "record_return_agreement": {"counterparty": Counterparty.BUYER, "kind": Kind.CONSENT},
    "escalate_to_support": {
        "counterparty": Counterparty.PLATFORM_SUPPORT,
        "direction": Direction.OUTBOUND,
        "channel": Channel.OTHER,
    },
    "record_supplier_refusal": {
        "counterparty": Counterparty.SUPPLIER,
        "kind": Kind.REFUSAL,
        "channel": Channel.WANGWANG,
    },
}


class CommunicationForm(forms.Form):
    """A communication with its attachments, recorded through ``evidence.services``."""

    counterparty = forms.ChoiceField(label=_("With"), choices=Counterparty.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices)
    direction = forms.ChoiceField(label=_("Direction"), choices=Direction.choices)
    kind = forms.ChoiceField(
        label=_("Kind"),
        choices=Kind.choices,
        help_text=_("“Consent” and “Refusal” are what the consent and refusal steps require."),
    )
    summary = forms.CharField(label=_("Summary"), max_length=255)
    body = forms.CharField(
        label=_("Full text"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text=_("Paste the conversation as it was written."),
    )
    occurred_at = _datetime_field(_("When it happened"), required=True)
    files = MultipleFileField(
        label=_("Attachments"),
        required=False,
        help_text=_("Screenshots or documents: PNG, JPEG, WebP, PDF or plain text, at most 10 MB each."),
    )

    def __init__(self, *args: Any, next_transition: str = "", **kwargs: Any):
        initial = {
            "counterparty": Counterparty.BUYER,
            "channel": Channel.ALIEXPRESS_MESSAGE,
            "direction": Direction.INBOUND,
            "kind": Kind.MESSAGE,
            "occurred_at": timezone.localtime().replace(second=0, microsecond=0),
            **EVIDENCE_DEFAULTS.get(next_transition, {}),
        }
        kwargs.setdefault("initial", initial)
        super().__init__(*args, **kwargs)


class BulkCloseForm(forms.Form):
    """The reason and note that every order of a bulk close gets."""

    reason = forms.ChoiceField(label=_("Close reason"), choices=_close_reason_choices(True))
    note = forms.CharField(
        label=_("Note"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Required when the reason is “Other”."),
    )
