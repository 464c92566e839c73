"""The order CSV import and export screens (SPEC section 5), and the import history.

Screens of ``OrderAdmin`` (wired by its ``get_urls``):

- ``/admin/orders/order/import/`` (``orders.import_orders``, Supervisors): upload → preview (a dry
  run of the real import: counts, every invalid row, every refused row) → confirm. Between the
  two steps the upload lives in a private directory under ``var/imports/``, named by a random
  token that is remembered in the user's session (the file itself never is).
- ``/admin/orders/order/export/`` (``orders.export_orders``): the orders of the list as filtered,
  of the user's stores only, as CSV or XLSX (``?_format=xlsx``), escaped against formula injection.

``OrderImportAdmin`` is the import history at ``/admin/orders/orderimport/`` (read only). The
change list's buttons are in ``admin/orders/order/_import_export_buttons.html``.
"""

from __future__ import annotations

import os
import re
import secrets
import time
from pathlib import Path

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin import ModelAdmin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, gettext_noop

from shopops import inputs
from shopops.admin_base import ReadOnlyAdmin
from shopops.errors import Refused

from .. import policy
from ..imports.service import ImportResult, import_orders
from ..imports.stores import CODE_LENGTH
from ..models import OrderImport, Store
from ..resources import EXPORT_FORMATS, export_orders_response
from ..scoped_admin import StoreScopedAdmin

SESSION_KEY = "shopops_order_imports"
TOKEN_RE = re.compile(r"^[A-Za-z0-9_-]{20,64}$")
KEEP_UPLOADS_SECONDS = 24 * 60 * 60
MAX_PENDING_PER_SESSION = 5
IMPORT_TEMPLATE = "admin/orders/order/import.html"
EXPIRED = gettext_noop(
    "This preview is no longer available (it expired, or it was confirmed already — perhaps "
    "twice, in which case it was imported once). Upload the file again."
)


def import_dir() -> Path:
    """Private: never under MEDIA or STATIC, readable by the server's user only."""
    directory = Path(settings.VAR_DIR) / "imports"
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return directory


def max_upload_bytes() -> int:
    return int(settings.SHOPOPS_IMPORT_MAX_MB * 1024 * 1024)


def too_big_message(size: int) -> str:
    return _(
        "The file is %(size).1f MB; imports are limited to %(limit)s MB. Split it into smaller files "
        "and import them one after the other."
    ) % {"size": size / 1024 / 1024, "limit": f"{settings.SHOPOPS_IMPORT_MAX_MB:g}"}


def _remove_stale_uploads(directory: Path) -> None:
    # Previews that were never confirmed: they must not pile up under var/.
    limit = time.time() - KEEP_UPLOADS_SECONDS
    for leftover in [*directory.glob("*.csv"), *directory.glob("*.importing")]:
        try:
            if leftover.stat().st_mtime < limit:
                leftover.unlink()
        except FileNotFoundError:
            pass


# --- export -----------------------------------------------------------------------------------


def export_view(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponse:
    """The orders the list shows with the same filters and search, as CSV or XLSX."""
    if not policy.may(request.user, "orders.export_orders"):
        raise PermissionDenied
    params = request.GET.copy()
    file_format = (params.pop("_format", None) or ["csv"])[-1]
    if file_format not in EXPORT_FORMATS:
        messages.error(request, _("Unknown export format “%(format)s”.") % {"format": file_format})
        return HttpResponseRedirect(reverse("admin:orders_order_changelist"))
    request.GET = params  # the change list reads its filters from here
    try:
        changelist = model_admin.get_changelist_instance(request)
    except IncorrectLookupParameters:
        messages.error(request, _("The list's filters are not valid; nothing was exported."))
        return HttpResponseRedirect(reverse("admin:orders_order_changelist"))
    return export_orders_response(policy.scope(request.user, changelist.get_queryset(request)), file_format)


# --- import -----------------------------------------------------------------------------------


def _render(
    model_admin: ModelAdmin, request: HttpRequest, status: int = 200, *, store: str = "", **extra
) -> TemplateResponse:
    stores = list(policy.stores(request.user))
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Import orders"),
        "max_mb": f"{settings.SHOPOPS_IMPORT_MAX_MB:g}",
        "stores": stores,
        "store": store,  # the store chosen for the file shown
        # The chooser's choice: as before, else the only store the user works for.
        "preselected": store or (stores[0].code if len(stores) == 1 else ""),
        **extra,
    }
    return TemplateResponse(request, IMPORT_TEMPLATE, context, status=status)


def _chosen_store(request: HttpRequest) -> Store | None:
    """The store chosen on the upload form (blank: each row's ``store`` column, else the only
    store); raises ``Refused`` for a store that does not exist or the user does not work for."""
    code = inputs.text(request.POST.get("store", ""), "store", max_length=CODE_LENGTH)
    return policy.store_for(request.user, code) if code else None


def import_view(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponse:
    """GET: the upload form. POST with a file: the preview. POST with a token: the import."""
    if not policy.may(request.user, "orders.import_orders"):
        raise PermissionDenied
    if request.method != "POST":
        return _render(model_admin, request)
    # The size is checked before the body's form data is read into a file we would parse.
    length = int(request.META.get("CONTENT_LENGTH") or 0)
    if length > max_upload_bytes() + 64 * 1024:
        return _render(model_admin, request, status=413, upload_error=too_big_message(length))
    if "token" in request.POST:
        return _confirm(model_admin, request)
    return _preview(model_admin, request)


def _pending(request: HttpRequest) -> dict[str, dict[str, str]]:
    """The previews waiting for their confirm: token → the file's name and the chosen store."""
    return {
        token: entry if isinstance(entry, dict) else {"name": entry, "store": ""}
        for token, entry in request.session.get(SESSION_KEY, {}).items()
    }


def _preview(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponse:
    upload = request.FILES.get("file")
    if upload is None:
        return _render(model_admin, request, status=400, upload_error=_("Choose a CSV file to import."))
    if upload.size > max_upload_bytes():
        return _render(model_admin, request, status=413, upload_error=too_big_message(upload.size))
    try:
        store = _chosen_store(request)
    except Refused as refused:
        return _render(model_admin, request, status=400, upload_error=refused.message)
    code = store.code if store is not None else ""
    directory = import_dir()
    _remove_stale_uploads(directory)
    token = secrets.token_urlsafe(24)
    stored = directory / f"{token}.csv"
    descriptor = os.open(stored, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    name = Path(upload.name or "orders.csv").name
    started = time.monotonic()
    try:
        result = import_orders(stored, by=request.user, store=store, dry_run=True, file_name=name)
    except BaseException:
        stored.unlink(missing_ok=True)  # never left behind
        raise
    seconds = time.monotonic() - started
    can_confirm = not result.invalid and bool(result.new or result.updated)
    if can_confirm:
        pending = _pending(request)
        for old_token in list(pending)[: max(0, len(pending) - MAX_PENDING_PER_SESSION + 1)]:
            (directory / f"{old_token}.csv").unlink(missing_ok=True)
            pending.pop(old_token)
        pending[token] = {"name": name, "store": code}
        request.session[SESSION_KEY] = pending
    else:
        stored.unlink(missing_ok=True)
    return _render(
        model_admin,
        request,
        result=result,
        token=token if can_confirm else "",
        preview=True,
        seconds=seconds,
        store=code,
    )


def _confirm(model_admin: ModelAdmin, request: HttpRequest) -> HttpResponse:
    token = request.POST.get("token", "")
    pending = _pending(request)
    directory = import_dir()
    stored = directory / f"{token}.csv"
    if not TOKEN_RE.match(token) or token not in pending:
        return _render(model_admin, request, status=400, upload_error=_(EXPIRED))
    # The token is consumed once: claiming the file is one atomic rename, so of two confirms
    # posted at once exactly one imports, and the other is told so.
    claimed = directory / f"{token}.importing"
    try:
        os.rename(stored, claimed)
    except FileNotFoundError:
        return _render(model_admin, request, status=409 if claimed.exists() else 400, upload_error=_(EXPIRED))
    entry = pending.pop(token)
    name, code = entry["name"], entry["store"]
    request.session[SESSION_KEY] = pending
    started = time.monotonic()
    try:
        # The store chosen for the preview, checked again: the user may have lost it since.
        result: ImportResult = import_orders(claimed, by=request.user, store=code or None, file_name=name)
    except BaseException:
        os.replace(claimed, stored)  # not imported: the preview stays, it can be confirmed again
        raise
    seconds = time.monotonic() - started
    if result.failed:
        # Nothing was written: keep the upload and its token so the same file can be retried.
        os.replace(claimed, stored)
        pending[token] = entry
        request.session[SESSION_KEY] = pending
        messages.error(request, result.summary())
        return _render(
            model_admin,
            request,
            status=503,
            result=result,
            token=token,
            preview=True,
            seconds=seconds,
            store=code,
        )
    claimed.unlink(missing_ok=True)
    if result.applied:
        messages.success(request, result.summary())
    else:
        messages.error(request, result.summary())
    return _render(model_admin, request, result=result, done=True, seconds=seconds, store=code)


# --- the import history -----------------------------------------------------------------------


@admin.register(OrderImport)
class OrderImportAdmin(StoreScopedAdmin, ReadOnlyAdmin):
    """The import history (Supervisors): read only, never deleted — what was imported, by whom."""

    counts = ("rows", "new", "updated", "unchanged", "refused", "moves")
    list_display = ("imported_at", "file_name", "store", "imported_by", *counts, "vouches")
    list_filter = ("imported_by",)
    search_fields = ("file_name", "=sha256")
    date_hierarchy = "imported_at"
    list_select_related = ("imported_by", "store")
    fields = ("file_name", "sha256", "store", "imported_by", "imported_at", *counts)
    readonly_fields = fields

    @admin.display(description=gettext_lazy("re-import recognised at once"), boolean=True)
    def vouches(self, obj: OrderImport) -> bool:
        # Whether a later import of the same bytes is recognised at once (nothing refused).
        return bool(obj.checksum)
