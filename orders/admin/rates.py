"""Exchange rates: the ECB's reference rates the loss ledger converts with, and Finance's corrections.

Everyone on the staff may look; Finance (``orders.correct_exchangerate``) corrects a rate from
its page with a note saying why. The correction goes through ``orders.workflow.rates`` and the
value it replaced stays below, in the rate's corrections (append-only). Rates are never added
or deleted here: ``manage.py load_fx_rates`` and the daily fetch load them.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext_lazy

from shopops.admin_base import ReadOnlyInline
from shopops.errors import Refused, Stale

from .. import policy
from ..models import ExchangeRate, ExchangeRateChange
from ..workflow import rates


class ExchangeRateChangeInline(ReadOnlyInline):
    model = ExchangeRateChange
    verbose_name_plural = gettext_lazy("Corrections (every earlier value is kept)")
    fields = ["created_at", "old_rate", "new_rate", "actor", "source", "note"]
    ordering = ["-created_at", "-id"]


class CorrectRateForm(forms.ModelForm):
    note = forms.CharField(
        label=gettext_lazy("Why the rate is corrected"),
        widget=forms.Textarea(attrs={"rows": 2}),
        required=False,
    )
    # The rate the form showed (workflow.rates.rate_version): a correction made since is a 409.
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stale = False
        if self.instance.pk:
            self.fields["seen"].initial = rates.rate_version(self.instance)

    class Meta:
        model = ExchangeRate
        fields = ["rate"]
        help_texts = {
            "rate": gettext_lazy(
                "Units of the currency per 1 EUR, as the ECB quotes it. Every ledger movement of this "
                "day (and of the following weekend or holidays) converts at the corrected rate."
            )
        }

    def clean(self) -> dict:
        data = super().clean()
        try:
            rates.check_rate_version(self.instance, data.get("seen") or None)
        except Stale as exc:
            self.stale = True
            self.data = self.data.copy()
            self.data["seen"] = exc.version  # sent again, the form corrects the current rate
            self.add_error(None, exc.message)
            return data
        if "rate" in data:
            try:
                data["rate"] = rates.check_correction(
                    self.initial["rate"], data["rate"], data.get("note", "")
                )
            except Refused as exc:
                self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        return data


@admin.register(ExchangeRate)
class ExchangeRateAdmin(admin.ModelAdmin):
    form = CorrectRateForm
    list_display = ["date", "currency", "rate", "source", "corrected"]
    list_filter = ["currency", "corrected"]
    search_fields = ["currency"]
    date_hierarchy = "date"
    readonly_fields = ["date", "currency", "source", "corrected", "updated_at"]
    fields = ["date", "currency", "rate", "note", "seen", "source", "corrected", "updated_at"]
    inlines = [ExchangeRateChangeInline]
    list_per_page = 100
    show_full_result_count = False

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return policy.may(request.user, "orders.correct_exchangerate")

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            response = super().changeform_view(request, object_id, form_url, extra_context)
        except Stale as exc:  # corrected between the form's check and the save: said, not a 500
            messages.error(request, exc.message)
            return HttpResponseRedirect(request.path)
        form = getattr(getattr(response, "context_data", {}).get("adminform"), "form", None)
        if getattr(form, "stale", False):
            response.status_code = 409  # corrected by someone else since the form was read
        return response

    def save_model(self, request: HttpRequest, obj: ExchangeRate, form, change: bool) -> None:
        # The form checked the correction; the workflow writes it and keeps the old value.
        rates.correct_rate(
            obj.pk,
            by=request.user,
            new_rate=obj.rate,
            note=form.cleaned_data.get("note", ""),
            seen=form.cleaned_data.get("seen") or None,
        )
