"""Stores: superusers add and change them (code, name, per-store settings, staff); other staff
see the stores they work for, read-only.

Every save goes through ``orders.workflow.stores``: ``save_model`` writes the code, name and
settings (``save_store``), ``save_related`` who works for the store (``set_store_staff``, which
also drops the cached store ids of everyone granted or revoked); never the admin's own save.
The form asks the workflow's ``check_store`` first, so a refusal shows on its field. Stores are
never deleted here: their orders point at them.
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.db.models import Count, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.http import HttpRequest, HttpResponseRedirect
from django.utils.translation import gettext, gettext_lazy

from shopops.errors import Refused

from .. import policy
from ..models import Order, Store
from ..models.store import OPTIONS
from ..scoped_admin import StoreScopedAdmin
from ..workflow import stores


class StoreForm(forms.ModelForm):
    class Meta:
        model = Store
        fields = ["code", "name", "staff", *stores.SETTINGS]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # Say what blank means today: the environment's value.
        for field, setting in OPTIONS.items():
            if field in self.fields:
                now = getattr(settings, setting)
                shown = f"“{now}”" if now not in ("", None) else gettext("blank")
                self.fields[field].help_text = gettext("Blank: %(setting)s, now %(value)s.") % {
                    "setting": setting,
                    "value": shown,
                }
        if "staff" in self.fields:
            # Superusers work for every store: they are not granted one.
            self.fields["staff"].queryset = (
                get_user_model().objects.filter(is_staff=True, is_superuser=False).order_by("username")
            )

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        try:
            cleaned = stores.check_store(
                self.instance.pk,
                code=data.get("code"),
                name=data.get("name"),
                **{field: data.get(field) for field in stores.SETTINGS},
            )
        except Refused as exc:
            self.add_error(exc.field if exc.field in self.fields else None, exc.message)
        else:
            data.update(cleaned)
        return data

    def _get_validation_exclusions(self):
        # The code's format and uniqueness (regardless of case) are the workflow's to check, in
        # its words (clean()), not the model's validators' and constraint's.
        return {*super()._get_validation_exclusions(), "code"}


@admin.register(Store)
class StoreAdmin(StoreScopedAdmin):
    form = StoreForm
    list_display = ["code", "name", "order_count", "staff_names"]
    search_fields = ["code", "name"]
    readonly_fields = ["created_at"]
    filter_horizontal = ["staff"]
    fieldsets = [
        (None, {"fields": ["code", "name", "staff"]}),
        (
            gettext_lazy("Settings of this store (blank: the environment's value)"),
            {"fields": [*stores.SETTINGS, "created_at"]},
        ),
    ]

    def get_queryset(self, request: HttpRequest) -> QuerySet[Store]:
        counts = Order.objects.filter(store=OuterRef("pk")).order_by().values("store")
        return (
            super()
            .get_queryset(request)
            .annotate(order_count=Coalesce(Subquery(counts.annotate(n=Count("pk")).values("n")), 0))
            .prefetch_related("staff")
        )

    def get_list_filter(self, request: HttpRequest):
        return list(self.list_filter)  # no "store" filter on the list of stores

    # --- who may do what: superusers change; staff look at the stores they work for ----------

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return obj is None or policy.works_for(user, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- saving: the workflow, never the admin's default save ----------------------------------

    def save_model(self, request: HttpRequest, obj: Store, form, change: bool) -> None:
        data = form.cleaned_data
        saved = stores.save_store(
            obj.pk if change else None,
            by=request.user,
            code=data["code"],
            name=data["name"],
            **{field: data[field] for field in stores.SETTINGS},
        )
        # The admin goes on with the form's instance (history entry, redirect): make it the row
        # the workflow wrote.
        for field in ["pk", "code", "name", *stores.SETTINGS, "created_at"]:
            setattr(obj, field, getattr(saved, field))
        obj._state.adding, obj._state.db = False, saved._state.db

    def save_related(self, request: HttpRequest, form, formsets, change: bool) -> None:
        # The page has no inlines: its one relation, the staff, is the workflow's to set.
        stores.set_store_staff(form.instance, form.cleaned_data["staff"], by=request.user)

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Refused as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    # --- columns -------------------------------------------------------------------------------

    @admin.display(description=gettext_lazy("orders"), ordering="order_count")
    def order_count(self, obj: Store) -> int:
        return obj.order_count

    @admin.display(description=gettext_lazy("staff"))
    def staff_names(self, obj: Store) -> str:
        return ", ".join(sorted(user.get_username() for user in obj.staff.all())) or "—"
