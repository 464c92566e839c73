"""Buyer feedback: the follow-up queue, manual entry, the follow-up steps and the CSV import.

Configuration plus delegation: every change goes through ``orders.workflow.feedback`` (the
import through ``orders.imports.feedback``). The worklist on
the admin index links to the queue of open follow-ups, ``?followup=open``.
"""

from functools import partial

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html, format_html_join
from django.utils.timesince import timesince
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from evidence.models import Counterparty, channel_choices
from shopops.admin_base import screen
from shopops.errors import Refused

from .. import policy
from ..forms import clean_moment
from ..groups import IMPORT_PERMISSION
from ..imports.feedback import import_feedback
from ..models import Feedback, FollowupStatus
from ..people import person
from ..scoped_admin import StoreScopedAdmin
from ..workflow import feedback as services
from .filters import OpenFollowupFilter
from .imports import max_upload_bytes, too_big_message

OPEN = (FollowupStatus.NEW, FollowupStatus.CONTACTED)  # the follow-up is not finished


class FeedbackAddForm(forms.ModelForm):
    rating = forms.TypedChoiceField(
        label=gettext_lazy("rating"), coerce=int, choices=[(i, "★" * i) for i in range(1, 6)]
    )

    class Meta:
        model = Feedback
        fields = ["order", "rating", "comment", "received_at"]

    def clean_received_at(self):
        # Between SHOPOPS_EARLIEST_DATE and now (shopops.inputs): the year 1 would break the list.
        # What was typed, for the message: the admin's date and time inputs, or one text.
        typed = " ".join(
            part for part in (self.data.get("received_at_0"), self.data.get("received_at_1")) if part
        ) or self.data.get("received_at")
        return clean_moment(
            self.cleaned_data["received_at"], self.fields["received_at"].label, typed=typed or None
        )


class ContactForm(forms.Form):
    # A buyer is contacted on the buyer's channels only (evidence.services refuses the others).
    channel = forms.ChoiceField(
        label=gettext_lazy("Channel"), choices=partial(channel_choices, Counterparty.BUYER)
    )
    summary = forms.CharField(label=gettext_lazy("Summary"), max_length=255)
    body = forms.CharField(label=gettext_lazy("Full text"), required=False, widget=forms.Textarea)
    note = forms.CharField(label=gettext_lazy("Note"), required=False, widget=forms.Textarea)


class NoteForm(forms.Form):
    note = forms.CharField(label=gettext_lazy("How did it end?"), widget=forms.Textarea)


class FeedbackImportForm(forms.Form):
    file = forms.FileField(label=gettext_lazy("CSV file"))
    dry_run = forms.BooleanField(label=gettext_lazy("Check only, import nothing"), required=False)


@admin.register(Feedback)
class FeedbackAdmin(StoreScopedAdmin):
    list_display = [
        "order",
        "buyer",
        "stars",
        "short_comment",
        "received_at",
        "followup_status",
        "assignee",
        "age",
    ]
    list_filter = [OpenFollowupFilter, "followup_status", "rating", "assignee"]
    list_select_related = ["order", "assignee"]
    search_fields = ["order__platform_order_id", "order__buyer_name", "comment"]
    date_hierarchy = "received_at"
    raw_id_fields = ["order"]
    change_list_template = "admin/orders/feedback/change_list.html"
    readonly_fields = [
        "order",
        "rating",
        "comment",
        "received_at",
        "followup_status",
        "followup_opened_at",
        "followup_closed_at",
        "age",
        "notes",
        "followup_actions",
    ]

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = FeedbackAddForm
        form = super().get_form(request, obj, change=change, **kwargs)
        if obj is not None and "assignee" in form.base_fields:
            # Only the people who may work this follow-up (orders.policy: the role and the store).
            form.base_fields["assignee"].queryset = services.followup_assignees(obj)
            form.base_fields["assignee"].label_from_instance = person
        return form

    def get_fields(self, request, obj=None):
        if obj is None:
            return ["order", "rating", "comment", "received_at"]
        return [
            "order",
            "rating",
            "comment",
            "received_at",
            "followup_status",
            "assignee",
            "age",
            "followup_opened_at",
            "followup_closed_at",
            "notes",
            "followup_actions",
        ]

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if db_field.name == "assignee":
            # Nobody until the follow-up is known (get_form narrows it to who may work it).
            from django.contrib.auth import get_user_model

            kwargs["queryset"] = get_user_model().objects.none()
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def has_delete_permission(self, request, obj=None):
        # A rating is what the buyer said: it is kept, like evidence.
        return False

    def get_queryset(self, request):
        # The title of a feedback names its order and buyer (Feedback.__str__).
        return super().get_queryset(request).select_related("order")

    @admin.display(description=gettext_lazy("buyer"), ordering="order__buyer_name")
    def buyer(self, obj: Feedback) -> str:
        return obj.order.buyer_name

    @admin.display(description=gettext_lazy("rating"), ordering="rating")
    def stars(self, obj: Feedback) -> str:
        return "★" * obj.rating + "☆" * (5 - obj.rating)

    @admin.display(description=gettext_lazy("comment"))
    def short_comment(self, obj: Feedback) -> str:
        return obj.comment if len(obj.comment) <= 60 else obj.comment[:57] + "…"

    @admin.display(description=gettext_lazy("age"), ordering="followup_opened_at")
    def age(self, obj: Feedback) -> str:
        if not obj.followup_opened_at:
            return "—"
        if obj.followup_status in OPEN:
            return _("open %(age)s") % {"age": timesince(obj.followup_opened_at)}
        return _("took %(age)s") % {"age": timesince(obj.followup_opened_at, obj.followup_closed_at)}

    @admin.display(description=gettext_lazy("follow-up notes"))
    def notes(self, obj: Feedback) -> str:
        history = services.followup_history(obj) or "—"
        return format_html('<pre class="followup-history">{}</pre>', history)

    @admin.display(description=gettext_lazy("next step"))
    def followup_actions(self, obj: Feedback) -> str:
        steps = [
            (reverse("admin:orders_feedback_followup", args=[obj.pk, name]), label)
            for name, (_service, label, _contact) in services.FOLLOWUP_ACTIONS.items()
            if services.can_take(obj, name)
        ]
        if not steps:
            return "—"
        return format_html_join(" ", '<a class="button" href="{}">{}</a>', steps)

    def save_model(self, request, obj, form, change):
        if not change:
            created = services.record_feedback(
                obj.order,
                by=request.user,
                rating=obj.rating,
                comment=obj.comment,
                received_at=obj.received_at,
            )
            # The admin goes on with the form's instance (history entry, redirect): make it the
            # row the workflow wrote.
            obj.pk = created.pk
            obj._state.adding = False
            obj._state.db = created._state.db
            return
        if "assignee" in form.changed_data:
            services.assign_followup(obj.pk, by=request.user, assignee=form.cleaned_data["assignee"])

    def changelist_view(self, request, extra_context=None):
        can_import = self.has_add_permission(request) and policy.may(request.user, IMPORT_PERMISSION)
        return super().changelist_view(request, {**(extra_context or {}), "can_import": can_import})

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Refused as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # --- follow-up steps and import --------------------------------------------------------

    def get_urls(self):
        return [
            screen(self, "<int:pk>/followup/<str:action>/", followup_view, "orders_feedback_followup"),
            screen(self, "import/", import_view, "orders_feedback_import"),
            *super().get_urls(),
        ]


def followup_view(model_admin: FeedbackAdmin, request: HttpRequest, pk: int, action: str) -> HttpResponse:
    """GET: the step's form; POST: run it through ``orders.workflow.feedback`` and go back to the feedback."""
    obj = policy.get_or_404(request.user, Feedback.objects.select_related("order"), pk=pk)
    if action not in services.FOLLOWUP_ACTIONS:
        raise PermissionDenied
    if not model_admin.has_change_permission(request, obj):
        raise PermissionDenied
    service, label, is_contact = services.FOLLOWUP_ACTIONS[action]
    form_class = ContactForm if is_contact else NoteForm
    form = form_class(request.POST or None)
    change_url = reverse("admin:orders_feedback_change", args=[obj.pk])
    if request.method == "POST" and form.is_valid():
        try:
            obj = service(obj, by=request.user, **form.cleaned_data)
        except Refused as exc:
            if exc.field and exc.field in form.fields:
                form.add_error(exc.field, exc.message)
            else:
                form.add_error(None, exc.message)
        else:
            model_admin.message_user(
                request,
                _("Follow-up of order %(order)s is now “%(status)s”.")
                % {"order": obj.order.platform_order_id, "status": obj.get_followup_status_display()},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(change_url)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": label,
        "feedback": obj,
        "form": form,
        "change_url": change_url,
    }
    return TemplateResponse(
        request, "admin/orders/feedback/followup_action.html", context, status=400 if form.errors else 200
    )


def import_view(model_admin: FeedbackAdmin, request: HttpRequest) -> HttpResponse:
    """Upload a feedback CSV; all or nothing, every bad row named. Imports are Supervisors'
    (``orders.groups.IMPORT_PERMISSION``): an Operator records one rating at a time."""
    if not (model_admin.has_add_permission(request) and policy.may(request.user, IMPORT_PERMISSION)):
        raise PermissionDenied
    form = FeedbackImportForm(request.POST or None, request.FILES or None)
    result = None
    too_big = False
    if request.method == "POST" and form.is_valid():
        # The order import's limit, checked before the whole file is read into memory.
        size = form.cleaned_data["file"].size
        if size > max_upload_bytes():
            form.add_error("file", too_big_message(size))
            too_big = True
    if request.method == "POST" and form.is_valid():
        result = import_feedback(
            form.cleaned_data["file"].read(), by=request.user, dry_run=form.cleaned_data["dry_run"]
        )
        if result.ok and not result.dry_run:
            model_admin.message_user(
                request,
                _(
                    "Imported %(created)d feedback (%(opened)d follow-ups opened); "
                    "%(skipped)d were already imported."
                )
                % {
                    "created": result.created,
                    "opened": result.followups_opened,
                    "skipped": result.already_imported,
                },
                messages.SUCCESS,
            )
            return HttpResponseRedirect(reverse("admin:orders_feedback_changelist"))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("Import feedback"),
        "form": form,
        "result": result,
    }
    return TemplateResponse(
        request,
        "admin/orders/feedback/import.html",
        context,
        status=413 if too_big else 400 if result is not None and not result.ok else 200,
    )
