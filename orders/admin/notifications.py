"""The notification outbox: read-only, never deleted, failed ones can be retried.

What was sent to whom, when, and what failed and why. Nobody edits or deletes a notification
here; a ``failed`` one (retries exhausted, or refused for good) is sent again with the "Retry"
action on the list or the button on its page, which need ``orders.retry_notification`` and go
through ``orders.workflow.outbox.retry_failed``.
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.urls import reverse
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from shopops.admin_base import ReadOnlyAdmin, screen
from shopops.errors import Refused

from .. import policy
from ..models import Notification, NotificationStatus
from ..scoped_admin import StoreScopedAdmin
from ..workflow import outbox


@admin.action(description=_("Retry the selected failed notifications"), permissions=["retry"])
def retry_notifications(
    model_admin: NotificationAdmin, request: HttpRequest, queryset: QuerySet[Notification]
) -> None:
    ids = list(queryset.values_list("pk", flat=True))
    model_admin.retry(request, ids, selected=len(ids))


@admin.register(Notification)
class NotificationAdmin(StoreScopedAdmin, ReadOnlyAdmin):
    list_display = (
        "created_at",
        "template",
        "channel",
        "recipient",
        "order",
        "status",
        "attempts",
        "short_error",
        "sent_at",
    )
    list_filter = ("status", "channel", "template")
    search_fields = ("key", "recipient", "order__platform_order_id")
    list_select_related = ("order",)
    date_hierarchy = "created_at"
    ordering = ("-created_at", "-id")
    actions = [retry_notifications]
    fields = (
        "key",
        "order",
        "refund",
        "template",
        "channel",
        "recipient",
        "language",
        "status",
        "attempts",
        "last_error",
        "next_attempt_at",
        "claimed_until",
        "created_at",
        "sent_at",
        "subject",
        "body",
        "context",
    )
    readonly_fields = fields
    change_form_template = "admin/orders/notification/change_form.html"

    @admin.display(description=_("last error"))
    def short_error(self, obj: Notification) -> str:
        return Truncator(obj.last_error).chars(80)

    # --- retry -----------------------------------------------------------------------------------

    def has_retry_permission(self, request: HttpRequest) -> bool:
        return policy.may(request.user, "orders.retry_notification")

    def retry(self, request: HttpRequest, ids: list[int], *, selected: int) -> int:
        try:
            count = outbox.retry_failed(ids, by=request.user)
        except Refused as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return 0
        if count:
            self.message_user(
                request,
                ngettext(
                    "%(count)d notification will be sent again.",
                    "%(count)d notifications will be sent again.",
                    count,
                )
                % {"count": count},
                messages.SUCCESS,
            )
        skipped = selected - count
        if skipped:
            self.message_user(
                request,
                ngettext(
                    "%(count)d selected notification was not retried: only failed ones can be.",
                    "%(count)d selected notifications were not retried: only failed ones can be.",
                    skipped,
                )
                % {"count": skipped},
                messages.WARNING,
            )
        return count

    def get_urls(self):
        return [
            screen(self, "<path:object_id>/retry/", retry_view, "orders_notification_retry"),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        context["can_retry"] = (
            obj is not None and obj.status == NotificationStatus.FAILED and self.has_retry_permission(request)
        )
        return super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )


def retry_view(model_admin: NotificationAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """The "Retry" button on a failed notification's page (POST only)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    if not model_admin.has_retry_permission(request):
        raise PermissionDenied
    # The admin's own lookup: an id that is not a number is "not found", not a server error.
    notification = model_admin.get_object(request, unquote(object_id))
    if notification is None:
        raise Http404
    model_admin.retry(request, [notification.pk], selected=1)
    return HttpResponseRedirect(reverse("admin:orders_notification_change", args=[notification.pk]))
