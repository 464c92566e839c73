"""Evidence in the admin: read-only lists, and attachment downloads for staff who may view them.

Evidence is recorded from the order page (``orders.admin.order_views.evidence_view``) through
``evidence.services``; here nobody adds, changes or deletes it. Files are private under
MEDIA_ROOT: the only way to them is ``download_view``, behind the admin login and the view
permission.
"""

from __future__ import annotations

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _

from orders import policy
from orders.scoped_admin import StoreScopedAdmin
from shopops.admin_base import ReadOnlyAdmin, screen

from .models import Attachment, Communication


def _order_link(obj) -> str:
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.order_id]), obj.order
    )


@admin.register(Communication)
class CommunicationAdmin(StoreScopedAdmin, ReadOnlyAdmin):
    list_display = (
        "occurred_at",
        "order_link",
        "counterparty",
        "channel",
        "direction",
        "kind",
        "summary",
        "recorded_by",
    )
    list_filter = ("counterparty", "kind", "channel", "direction")
    list_select_related = ("order", "recorded_by")
    search_fields = ("=order__platform_order_id", "summary")
    show_full_result_count = False
    readonly_fields = [f.name for f in Communication._meta.fields]

    @admin.display(description=_("order"), ordering="order__platform_order_id")
    def order_link(self, obj: Communication) -> str:
        return _order_link(obj)


@admin.register(Attachment)
class AttachmentAdmin(StoreScopedAdmin, ReadOnlyAdmin):
    list_display = (
        "uploaded_at",
        "order_link",
        "download",
        "content_type",
        "image_check",
        "size",
        "uploaded_by",
    )
    list_filter = ("content_type",)
    list_select_related = ("order", "uploaded_by")
    search_fields = ("=order__platform_order_id", "original_name", "=sha256")
    show_full_result_count = False
    # The stored path is an internal detail; the download link is how a file is reached.
    readonly_fields = [f.name for f in Attachment._meta.fields if f.name != "file"] + ["download"]
    exclude = ("file",)

    @admin.display(description=_("order"), ordering="order__platform_order_id")
    def order_link(self, obj: Attachment) -> str:
        return _order_link(obj)

    @admin.display(description=_("file"))
    def download(self, obj: Attachment) -> str:
        url = reverse("admin:evidence_attachment_download", args=[obj.pk])
        return format_html('<a href="{}">{}</a>', url, obj.download_name)

    def get_urls(self):
        return [
            screen(self, "<int:pk>/download/", download_view, "evidence_attachment_download"),
            *super().get_urls(),
        ]


def download_view(model_admin: AttachmentAdmin, request: HttpRequest, pk: int) -> FileResponse:
    """The file, to logged-in staff with ``evidence.view_attachment``; always as a download,
    under a name with the detected type's extension (``Attachment.download_name``: never an
    executable or markup extension) and that type, so a browser never renders it in our origin."""
    if not model_admin.has_view_permission(request):
        raise PermissionDenied
    attachment = policy.get_or_404(request.user, Attachment, pk=pk)
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise Http404(_("The file of this attachment is missing from storage.")) from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=attachment.download_name,
        content_type=attachment.content_type,
    )
    response["Cache-Control"] = "private, no-store"
    response["Content-Security-Policy"] = "sandbox"
    return response
