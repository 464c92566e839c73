"""Forms of the operator screens: one per transition, evidence, and the bulk close.

The forms only collect and shape input; every rule (what is allowed, amounts, evidence) is
checked by ``orders.workflow`` / ``evidence.services``, whose ``Refused`` errors the views put
back on the form. A transition's form is built from its declaration (``orders/transitions.py``):
field names are the workflow's input names (SPEC section 7), with the declared kind, label,
help text and default rule.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from decimal import Decimal
from typing import Any

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from evidence.models import CHANNELS_BY_COUNTERPARTY, Channel, Counterparty, Direction, Kind
from shopops import inputs
from shopops.errors import Refused
from shopops.money import money

from .models import (
    CloseReason,
    DisputeWith,
    Order,
    Outcome,
    PurchaseOnClose,
    RefundDirection,
    ReturnCondition,
    SupplierRefundKind,
)
from .selectors.purchase import (
    default_purchase_on_close,
    dispute_currency,
    dispute_with,
    supplier_request_default,
)
from .selectors.refunds import refundable, requested_refunds
from .selectors.stores import default_respond_by
from .transitions import REASON_NOTE, TRANSITIONS, Input

# What a browser's datetime-local input sends, plus what a person types by hand.
DATETIME_FORMATS = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d %H:%M:%S"]
DISPUTE_OUTCOMES = [(o.value, o.label) for o in (Outcome.WON, Outcome.PARTIAL, Outcome.LOST)]


class DateTimeLocalInput(forms.DateTimeInput):
    input_type = "datetime-local"

    def __init__(self, attrs: dict | None = None):
        super().__init__(attrs=attrs, format="%Y-%m-%dT%H:%M")


class MomentField(forms.DateTimeField):
    """A date and time checked by ``shopops.inputs.moment``: a past event within the sane window
    (from ``SHOPOPS_EARLIEST_DATE`` to now), or with ``future=True`` a deadline within a year.
    The year 1 or 9999 is a message beside the field, never a row that breaks the pages."""

    def __init__(self, *args: Any, future: bool = False, skew: timedelta | None = None, **kwargs: Any):
        kwargs.setdefault("input_formats", DATETIME_FORMATS)
        kwargs.setdefault("widget", DateTimeLocalInput())
        super().__init__(*args, **kwargs)
        self.future, self.skew = future, skew

    def clean(self, value: Any) -> Any:
        typed = value if isinstance(value, str) else None
        return clean_moment(super().clean(value), self.label, future=self.future, skew=self.skew, typed=typed)


def clean_moment(
    value: Any, label: Any, *, future: bool = False, skew: timedelta | None = None, typed: str | None = None
) -> Any:
    """A form's cleaned date and time through ``shopops.inputs.moment``; ``None`` stays ``None``.

    ``typed``: what the person typed; a refusal quotes it (the year 1 was shown as
    ``datetime.datetime(1, 1, 1, 0, 0, tzinfo=…``).
    """
    if value is None:
        return None
    try:
        return inputs.moment(value, "value", label=str(label), future=future, skew=skew)
    except Refused as refused:
        message = refused.message
        if typed and typed.strip():
            try:
                inputs.moment(typed.strip(), "value", label=str(label), future=future, skew=skew)
            except Refused as again:
                message = again.message
        raise forms.ValidationError(message) from None


def _datetime_field(
    label, *, required: bool, help_text: str = "", future: bool = False
) -> forms.DateTimeField:
    return MomentField(label=label, required=required, help_text=help_text, future=future)


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


def _close_reason_choices() -> list[tuple[str, Any]]:
    return [("", _("— choose a reason —")), *CloseReason.choices]


def _note_field(label, *, required: bool, help_text: str = "") -> forms.CharField:
    return forms.CharField(
        label=label, widget=forms.Textarea(attrs={"rows": 3}), required=required, help_text=help_text
    )


def input_currency(spec: Input, order: Order) -> str:
    """The currency of a money input on ``order``'s form ("" when it declares none)."""
    if spec.currency == "order":
        return order.currency
    if spec.currency == "dispute":
        return dispute_currency(order)
    return spec.currency


def input_wording(spec: Input, order: Order) -> tuple[str, str]:
    """(label, help) of ``spec`` on ``order``'s form, translated: the supplier's wording when the
    order's dispute is with the supplier, and an amount's currency after its label."""
    supplier = (spec.supplier_label or spec.supplier_help) and dispute_with(order) == DisputeWith.SUPPLIER
    label = _(spec.supplier_label if supplier and spec.supplier_label else spec.label)
    help_source = spec.supplier_help if supplier and spec.supplier_help else spec.help
    currency = input_currency(spec, order)
    if currency:
        label = f"{label} ({currency})"
    return str(label), str(_(help_source)) if help_source else ""


def _field_for(spec: Input, order: Order, *, has_close_reason: bool) -> forms.Field:
    """The form field of one declared input (``orders.transitions.Input``). The note's help about
    the reason "Other" is shown only on a form that asks for a close reason."""
    label, help_text = input_wording(spec, order)
    if spec.kind == "note" and spec.help == REASON_NOTE.help and not has_close_reason:
        help_text = ""
    required = spec.required
    if spec.kind == "text":
        return forms.CharField(
            label=label, max_length=spec.max_length, required=required, help_text=help_text
        )
    if spec.kind == "note":
        return _note_field(label, required=required, help_text=help_text)
    if spec.kind == "money":
        return _money_field(
            label,
            required=required,
            help_text=help_text,
            min_value="0.00" if spec.allow_zero else "0.01",
        )
    if spec.kind == "datetime":
        # A deadline (the supplier's answer) lies ahead; every other time is of a past event.
        future = spec.default == "respond_by"
        return _datetime_field(label, required=required, help_text=help_text, future=future)
    if spec.kind == "quantity":
        return forms.IntegerField(
            label=label, min_value=0, max_value=order.quantity, required=required, help_text=help_text
        )
    if spec.kind == "stock_count":
        wrong = _("Give the units really in stock as a whole number, 0 or more.")
        return forms.IntegerField(
            label=label,
            min_value=0,
            max_value=inputs.MAX_QUANTITY,
            required=required,
            help_text=help_text,
            error_messages={"invalid": wrong, "min_value": wrong, "max_value": wrong},
        )
    choices = {
        "close_reason": _close_reason_choices,
        "condition": lambda: [("", "—"), *ReturnCondition.choices],
        "outcome": lambda: [("", "—"), *DISPUTE_OUTCOMES],
        "purchase_on_close": lambda: PurchaseOnClose.choices,
        "refund_kind": lambda: SupplierRefundKind.choices,
        "counterparty": lambda: DisputeWith.choices,
    }
    if spec.kind in choices:
        return forms.ChoiceField(
            label=label, choices=choices[spec.kind](), required=required, help_text=help_text
        )
    raise ValueError(f"Input {spec.name!r} has an unknown kind {spec.kind!r}")


def _pending_supplier_amount(order: Order) -> Decimal | None:
    pending = requested_refunds(order, RefundDirection.FROM_SUPPLIER)
    return money(pending.values_list("amount", flat=True).first())


# The default rules an input may declare (``Input.default``, ``orders.transitions.DEFAULT_RULES``):
# order -> initial value (None: none).
INITIAL_BY_RULE: dict[str, Callable[[Order], Any]] = {
    "refundable": lambda order: refundable(order),
    "supplier_refundable": lambda order: supplier_request_default(order)[2],
    "pending_supplier_amount": _pending_supplier_amount,
    "respond_by": lambda order: default_respond_by(order),
    "order_quantity": lambda order: order.quantity,
    "none_in_stock": lambda order: 0,
    "order_close_reason": lambda order: order.close_reason or None,
    "order_carrier": lambda order: order.carrier,
    "purchase_on_close": default_purchase_on_close,
    "supplier_refund_kind": lambda order: supplier_request_default(order)[0],
    "supplier_refund_units": lambda order: supplier_request_default(order)[1] or None,
    "dispute_with": dispute_with,
}


def transition_initial(name: str, order: Order) -> dict[str, Any]:
    """Sensible defaults, by each input's declared rule: what remains refundable, the configured
    supplier deadline, ..."""
    initial: dict[str, Any] = {}
    for spec in TRANSITIONS[name].inputs:
        if spec.default:
            value = INITIAL_BY_RULE[spec.default](order)
            if value is not None:
                initial[spec.name] = value
    return initial


class TransitionForm(forms.Form):
    """Exactly the declared inputs of one transition (``orders.transitions.TRANSITIONS[name]``),
    the required ones first."""

    def __init__(self, *args: Any, transition: str, order: Order, **kwargs: Any):
        self.transition = transition
        self.order = order
        declared = TRANSITIONS[transition]
        kwargs.setdefault("initial", transition_initial(transition, order))
        super().__init__(*args, **kwargs)
        has_close_reason = any(i.kind == "close_reason" for i in declared.inputs)
        for name in (*declared.required, *declared.optional):
            self.fields[name] = _field_for(declared.input(name), order, has_close_reason=has_close_reason)

    def workflow_kwargs(self) -> dict[str, Any]:
        """The cleaned inputs to pass to the workflow function; empty optional ones left out."""
        declared = TRANSITIONS[self.transition]
        values = {}
        for spec in declared.inputs:
            value = self.cleaned_data.get(spec.name)
            if not spec.required and value in (None, ""):
                continue
            values[spec.name] = value
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


# What the transition that asked for evidence needs: who, which way, what kind (declared with
# the transition).
EVIDENCE_DEFAULTS: dict[str, dict[str, str]] = {
    t.name: t.evidence.form_initial() for t in TRANSITIONS.values() if t.evidence is not None
}


class ChannelSelect(forms.Select):
    """The channels, each option saying whom it reaches (``data-counterparties``):
    ``static/shopops/channels.js`` offers only the chosen counterparty's. Without JavaScript
    every channel is listed, and ``evidence.services`` refuses a wrong pair on the channel."""

    def create_option(self, name, value, label, selected, index, subindex=None, attrs=None):
        option = super().create_option(name, value, label, selected, index, subindex=subindex, attrs=attrs)
        option["attrs"]["data-counterparties"] = " ".join(
            who for who, channels in CHANNELS_BY_COUNTERPARTY.items() if value in channels
        )
        return option


class CommunicationForm(forms.Form):
    """A communication with its attachments, recorded through ``evidence.services``."""

    counterparty = forms.ChoiceField(label=_("With"), choices=Counterparty.choices)
    channel = forms.ChoiceField(label=_("Channel"), choices=Channel.choices, widget=ChannelSelect)
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

    def __init__(self, *args: Any, next_transition: str = "", file_needed_by: str = "", **kwargs: Any):
        # file_needed_by: the label of the step this is recorded for, when that step needs a file
        # attached and the order has none yet (escalating to support): a file is then required.
        self.file_needed_by = file_needed_by
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
        if file_needed_by:
            self.fields["files"].required = True

    def clean_files(self) -> list:
        files = self.cleaned_data.get("files") or []
        if self.file_needed_by and not files:
            raise forms.ValidationError(
                _("“%(step)s” needs a file attached to the order: add the screenshots here.")
                % {"step": self.file_needed_by}
            )
        return files


class BulkCloseForm(forms.Form):
    """The reason and note that every order of a bulk close gets."""

    reason = forms.ChoiceField(label=_("Close reason"), choices=_close_reason_choices())
    note = _note_field(_("Note"), required=False, help_text=_("Required when the reason is “Other”."))
