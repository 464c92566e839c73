"""Buyer message templates: a Supervisor rewrites a buyer message in one language.

Each row replaces the shipped text of one (message, language); deleting it brings the shipped
text back. The form refuses a text that would not render (unknown or missing placeholder, stray
brace, an SMS over two segments), with the same check as ``manage.py check_buyer_messages``;
the save itself is ``orders.workflow.buyer_chat.save_buyer_template``. Every wording saved or
deleted is kept (``BuyerMessageTemplateVersion``) and listed on the template's page, and the form
carries the version it was read at: a save over someone else's newer edit is a 409.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shopops.errors import NotPermitted, Refused, Stale

from ..buyer_messages.catalogue import shipped_text, text_problems
from ..buyer_messages.spec import FALLBACK, MESSAGES, braced
from ..models import BuyerMessageTemplate, BuyerMessageTemplateVersion
from ..workflow import buyer_chat


class BuyerMessageTemplateForm(forms.ModelForm):
    class Meta:
        model = BuyerMessageTemplate
        fields = ["message", "language", "text"]
        widgets = {"text": forms.Textarea(attrs={"rows": 14, "cols": 90})}

    # The version of the wording the form showed (workflow.buyer_chat.template_version).
    seen = forms.CharField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.stale = False
        self.fields["seen"].initial = buyer_chat.template_version(self.instance if self.instance.pk else None)

    def clean(self):
        data = super().clean()
        message = data.get("message") or getattr(self.instance, "message", "")
        language = data.get("language") or getattr(self.instance, "language", "")
        try:
            buyer_chat.check_template_version(message, language, data.get("seen"))
        except Stale as exc:
            self.stale = True
            self.data = self.data.copy()
            self.data["seen"] = exc.version  # sent again, the form replaces the current text
            self.add_error(None, exc.message)
            return data
        try:
            text = buyer_chat.template_text(data.get("text") or "")
        except Refused as exc:
            self.add_error("text", exc.message)
            return data
        if message in MESSAGES and text:
            for problem in text_problems(message, language, text):
                self.add_error("text", problem)
        return data


@admin.register(BuyerMessageTemplate)
class BuyerMessageTemplateAdmin(admin.ModelAdmin):
    form = BuyerMessageTemplateForm
    list_display = ["message", "language", "updated_at", "updated_by"]
    list_filter = ["message", "language"]
    search_fields = ["text"]

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        fixed = ["placeholders", "shipped", "updated_at", "updated_by", "versions"]
        # The row is one (message, language): change the text, or delete it and add another.
        return ["message", "language", *fixed] if obj is not None else fixed

    @admin.display(description=gettext_lazy("placeholders"))
    def placeholders(self, obj: BuyerMessageTemplate) -> str:
        message = MESSAGES.get(obj.message) if obj else None
        if message is None:
            return _("Choose the message to see the placeholders it may use.")
        return format_html(
            "{}<br>{}",
            _("May use: %(names)s") % {"names": ", ".join(braced(n) for n in sorted(message.placeholders))},
            _("Must use: %(names)s") % {"names": ", ".join(braced(n) for n in sorted(message.required))},
        )

    @admin.display(description=gettext_lazy("every version"))
    def versions(self, obj: BuyerMessageTemplate) -> str:
        """Every wording saved or deleted for this message and language, newest first."""
        if not obj or not obj.pk:
            return "-"
        rows = BuyerMessageTemplateVersion.objects.filter(
            message=obj.message, language=obj.language
        ).select_related("created_by")
        return format_html(
            '<table class="buyer-message-versions"><thead><tr><th>{}</th><th>{}</th><th>{}</th><th>{}</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            _("When"),
            _("By"),
            _("Action"),
            _("Text"),
            format_html_join(
                "",
                "<tr><td>{}</td><td>{}</td><td>{}</td><td><pre>{}</pre></td></tr>",
                (
                    (
                        timezone.localtime(v.created_at).strftime("%Y-%m-%d %H:%M"),
                        v.created_by.get_username() if v.created_by_id else _("the system"),
                        v.get_action_display(),
                        v.text,
                    )
                    for v in rows
                ),
            ),
        )

    @admin.display(description=gettext_lazy("shipped text"))
    def shipped(self, obj: BuyerMessageTemplate) -> str:
        if not obj or obj.message not in MESSAGES:
            return "-"
        text = shipped_text(obj.message, obj.language) or shipped_text(obj.message, FALLBACK)
        return format_html("<pre>{}</pre>", text)

    def get_changeform_initial_data(self, request: HttpRequest) -> dict:
        """``?message=chat.ask_cancel&language=es`` starts from the shipped text of that language."""
        initial = super().get_changeform_initial_data(request)
        message, language = initial.get("message"), initial.get("language")
        if message in MESSAGES and not initial.get("text"):
            initial["text"] = shipped_text(message, language or FALLBACK) or shipped_text(message, FALLBACK)
        return initial

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        response = super().changeform_view(request, object_id, form_url, extra_context)
        form = getattr(getattr(response, "context_data", {}).get("adminform"), "form", None)
        if getattr(form, "stale", False):
            response.status_code = 409  # edited by someone else since the form was read
        return response

    def save_model(self, request: HttpRequest, obj: BuyerMessageTemplate, form, change: bool) -> None:
        try:
            saved = buyer_chat.save_buyer_template(
                message=obj.message,
                language=obj.language,
                text=obj.text,
                by=request.user,
                seen=form.cleaned_data.get("seen"),
            )
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        except Refused as exc:  # the form checked the same rules; a race or a script is left
            raise PermissionDenied(exc.message) from exc
        obj.pk, obj.updated_at, obj.updated_by = saved.pk, saved.updated_at, saved.updated_by

    def delete_model(self, request: HttpRequest, obj: BuyerMessageTemplate) -> None:
        buyer_chat.delete_buyer_template(obj.pk, by=request.user)

    def delete_queryset(self, request: HttpRequest, queryset) -> None:
        for pk in list(queryset.values_list("pk", flat=True)):
            buyer_chat.delete_buyer_template(pk, by=request.user)
