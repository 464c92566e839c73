"""Stores: superusers add and change them (code, name, per-store settings, staff); other staff
see the stores they work for, read-only.

Every save goes through ``orders.workflow.stores``: ``save_model`` writes the code, name and
settings (``save_store``) and, for a superuser, the platform connections (``connect_store``:
write-only fields, shown as "set" or "not set", never their values), ``save_related`` who works
for the store (``set_store_staff``, which also drops the cached store ids of everyone granted or
revoked); never the admin's own save. The page also shows where the store's AliExpress pull
stands: the last good pass, the last error, the counts and problems of the last pass.
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
from django.utils import formats, timezone
from django.utils.html import format_html_join
from django.utils.translation import gettext, gettext_lazy

from shopops.errors import Refused

from .. import policy
from ..models import Order, Platform, Store, SyncState
from ..models.store import OPTIONS
from ..scoped_admin import StoreScopedAdmin
from ..workflow import stores

# Platform → its form fields (app key, app secret, access token), in that order.
CONNECTION_FIELDS = {
    Platform.ALIEXPRESS: ("ae_app_key", "ae_app_secret", "ae_session"),
    Platform.ALIBABA_1688: ("alibaba_app_key", "alibaba_app_secret", "alibaba_token"),
}


def _secret_field(label: str) -> forms.CharField:
    # Write-only: never rendered back, not even after a refused save.
    return forms.CharField(
        label=label,
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
    )


class StoreForm(forms.ModelForm):
    ae_app_key = forms.CharField(label=gettext_lazy("AliExpress app key"), required=False, max_length=64)
    ae_app_secret = _secret_field(gettext_lazy("AliExpress app secret"))
    ae_session = _secret_field(gettext_lazy("AliExpress access token (session)"))
    alibaba_app_key = forms.CharField(label=gettext_lazy("1688 app key"), required=False, max_length=64)
    alibaba_app_secret = _secret_field(gettext_lazy("1688 app secret"))
    alibaba_token = _secret_field(gettext_lazy("1688 access token"))

    class Meta:
        model = Store
        fields = ["code", "name", "staff", *stores.SETTINGS]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        status = stores.connection_status(self.instance) if self.instance.pk else {}
        for platform, (key, secret, token) in CONNECTION_FIELDS.items():
            now = status.get(platform, {})
            if key in self.fields and now.get("app_key"):
                self.fields[key].initial = now["app_key"]
            for name, what in ((secret, "app_secret"), (token, "access_token")):
                if name in self.fields:
                    self.fields[name].help_text = (
                        gettext("set — leave blank to keep it") if now.get(what) else gettext("not set")
                    )
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
        self._check_connections(data)
        return data

    def _check_connections(self, data: dict) -> None:
        """A first connection to a platform needs its three values; a later one keeps the blank ones."""
        status = stores.connection_status(self.instance) if self.instance.pk else {}
        for platform, names in CONNECTION_FIELDS.items():
            if not all(name in self.fields for name in names):
                continue
            given = [data.get(name) for name in names]
            if any(given) and not status.get(platform, {}).get("app_key"):
                for name, value in zip(names, given, strict=True):
                    if not value:
                        self.add_error(name, gettext("Needed to connect the store the first time."))

    def connections(self) -> dict[str, tuple[str, str, str]]:
        """The platforms whose fields were filled in, with (app key, app secret, access token)."""
        found = {}
        for platform, names in CONNECTION_FIELDS.items():
            if names[0] not in self.fields:
                continue
            values = tuple(self.cleaned_data.get(name) or "" for name in names)
            if any(values[1:]) or (values[0] and values[0] != self.fields[names[0]].initial):
                found[platform] = values
        return found

    def _get_validation_exclusions(self):
        # The code's format and uniqueness (regardless of case) are the workflow's to check, in
        # its words (clean()), not the model's validators' and constraint's.
        return {*super()._get_validation_exclusions(), "code"}


@admin.register(Store)
class StoreAdmin(StoreScopedAdmin):
    form = StoreForm
    list_display = ["code", "name", "order_count", "staff_names"]
    search_fields = ["code", "name"]
    filter_horizontal = ["staff"]
    fieldsets = [
        (None, {"fields": ["code", "name", "staff"]}),
        (
            gettext_lazy("Settings of this store (blank: the environment's value)"),
            {"fields": [*stores.SETTINGS, "created_at"]},
        ),
    ]

    readonly_fields = [
        "created_at",
        "sync_last_good_pass",
        "sync_last_error",
        "sync_counts",
        "sync_problems",
        "sync_1688",
    ]

    def get_fieldsets(self, request: HttpRequest, obj=None):
        fieldsets = list(self.fieldsets)
        if request.user.is_superuser:
            fieldsets.append(
                (
                    gettext_lazy("Connections to the platforms (secrets are write-only; blank keeps them)"),
                    {"fields": [name for names in CONNECTION_FIELDS.values() for name in names]},
                )
            )
        if obj is not None:
            fieldsets.append(
                (
                    gettext_lazy("AliExpress pull and 1688 refunds"),
                    {
                        "fields": [
                            "sync_last_good_pass",
                            "sync_last_error",
                            "sync_counts",
                            "sync_1688",
                            "sync_problems",
                        ]
                    },
                )
            )
        return fieldsets

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
        for platform, (key, secret, token) in form.connections().items():
            stores.connect_store(
                saved, by=request.user, platform=platform, app_key=key, app_secret=secret, access_token=token
            )

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

    # --- the AliExpress pull ---------------------------------------------------------------------

    @staticmethod
    def _sync(obj: Store):
        return SyncState.objects.filter(store=obj).first() if obj.pk else None

    @admin.display(description=gettext_lazy("last good pass"))
    def sync_last_good_pass(self, obj: Store) -> str:
        state = self._sync(obj)
        if state is None or state.last_good_pass_at is None:
            return gettext("never")
        return formats.date_format(timezone.localtime(state.last_good_pass_at), "DATETIME_FORMAT")

    @admin.display(description=gettext_lazy("last error"))
    def sync_last_error(self, obj: Store) -> str:
        state = self._sync(obj)
        if state is None or not state.last_error:
            return "—"
        when = formats.date_format(timezone.localtime(state.last_error_at), "DATETIME_FORMAT")
        return f"{when}: {state.last_error}"

    @admin.display(description=gettext_lazy("last pass"))
    def sync_counts(self, obj: Store) -> str:
        state = self._sync(obj)
        if state is None or not state.counts:
            return "—"
        c = state.counts
        return gettext(
            "%(pages)d pages, %(orders)d orders: %(new)d new, %(updated)d updated, %(unchanged)d unchanged, "
            "%(refused)d refused, %(invalid)d invalid; disputes: %(opened)d opened, %(disputes)d updated"
        ) % {
            "pages": c.get("pages", 0),
            "orders": c.get("orders", 0),
            "new": c.get("new", 0),
            "updated": c.get("updated", 0),
            "unchanged": c.get("unchanged", 0),
            "refused": c.get("refused", 0),
            "invalid": c.get("invalid", 0),
            "opened": c.get("disputes_opened", 0),
            "disputes": c.get("disputes_updated", 0),
        }

    @admin.display(description=gettext_lazy("1688 refunds"))
    def sync_1688(self, obj: Store) -> str:
        state = self._sync(obj)
        if state is None or (state.refunds_mark is None and not state.refunds_error and not state.counts):
            return "—"
        c = state.counts or {}
        said = gettext(
            "read up to %(mark)s; the last pass: requests %(filed)d filed, %(retry)d to try again, "
            "%(failed)d failed; refunds %(read)d read, %(approved)d approved, %(refused)d refused"
        ) % {
            "mark": formats.date_format(timezone.localtime(state.refunds_mark), "DATETIME_FORMAT")
            if state.refunds_mark
            else gettext("never"),
            "filed": c.get("filing_filed", 0),
            "retry": c.get("filing_retry", 0),
            "failed": c.get("filing_failed", 0),
            "read": c.get("refunds_read", 0),
            "approved": c.get("refunds_approved", 0),
            "refused": c.get("refunds_refused", 0),
        }
        if state.refunds_error:
            said += " — " + gettext("last error: %(error)s") % {"error": state.refunds_error}
        return said

    @admin.display(description=gettext_lazy("problems of the last pass"))
    def sync_problems(self, obj: Store):
        state = self._sync(obj)
        if state is None or not state.problems:
            return "—"
        return format_html_join(
            "\n", "<div>{}: {}</div>", ((p.get("order") or "?", p.get("problem", "")) for p in state.problems)
        )
