"""Finance's list of refunds: what was refunded, what came back, what has not arrived yet.

Read-only; the one change made here is the bulk action "Mark received", through the workflow.
"""

from __future__ import annotations

from datetime import datetime

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import formats, timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from shopops.admin_base import ReadOnlyAdmin
from shopops.errors import Refused

from .. import policy, workflow
from ..models import Refund, RefundStatus, choice_label
from ..naming import listed, refund_named, sentence_start
from ..scoped_admin import StoreScopedAdmin
from .actions import bounded_selection
from .display import order_link, status_badge
from .filters import RefundNotArrivedFilter, SupplierRefundOverdueFilter


def _short(value: datetime | None) -> str:
    if value is None:
        return "—"
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


@admin.action(description=_("Mark received (money arrived)"), permissions=["mark_refund_received"])
def mark_received(model_admin: RefundAdmin, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
    """Each selected refund through ``workflow.mark_refund_received``, reported per refund."""
    refunds = bounded_selection(
        request,
        queryset.select_related("order"),
        gettext("Select at most %(limit)d refunds to mark received; none was marked."),
    )
    if refunds is None:
        return
    done, refused = [], []
    for refund in refunds:
        try:
            workflow.mark_refund_received(refund.pk, by=request.user)
            done.append(refund)
        except Refused as exc:
            refused.append((refund, exc.message))
    if done:
        messages.success(
            request,
            gettext("Marked received: %(refunds)s.") % {"refunds": listed(refund_named(r) for r in done)},
        )
    for refund, why in refused:
        messages.error(
            request,
            gettext("%(refund)s was refused: %(why)s")
            % {"refund": sentence_start(refund_named(refund)), "why": why},
        )


@admin.register(Refund)
class RefundAdmin(StoreScopedAdmin, ReadOnlyAdmin):
    # Fits a 1366 px screen: the amount opens the refund (our row id means nothing to anyone),
    # dates are short and may wrap; the reason, references and who asked are on the refund page.
    list_display = (
        "amount_display",
        "order_link",
        "direction",
        "status_display",
        "requested",
        "succeeded",
        "received",
        "respond_by_display",
        "chased",
    )
    list_display_links = ("amount_display",)
    list_filter = ("direction", "status", RefundNotArrivedFilter, SupplierRefundOverdueFilter)
    list_select_related = ("order",)
    search_fields = ("=order__platform_order_id", "=reference")
    search_help_text = _("Order id or platform reference (exact).")
    show_full_result_count = False
    actions = [mark_received]
    # The idempotency key is the workflow's guard against a double refund, not something a
    # person reads: the detail page shows the order, amounts, dates and references instead.
    fields = [f.name for f in Refund._meta.fields if f.name not in ("id", "idempotency_key")]
    readonly_fields = fields

    @admin.display(description=_("order"), ordering="order__platform_order_id")
    def order_link(self, obj: Refund) -> str:
        return order_link(obj)

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj: Refund) -> str:
        return status_badge(f"refund-{obj.status}", choice_label(RefundStatus, obj.status))

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj: Refund) -> str:
        return f"{formats.number_format(obj.amount, 2)} {obj.currency}"

    @admin.display(description=_("requested"), ordering="requested_at")
    def requested(self, obj: Refund) -> str:
        return _short(obj.requested_at)

    @admin.display(description=_("succeeded"), ordering="succeeded_at")
    def succeeded(self, obj: Refund) -> str:
        return _short(obj.succeeded_at)

    @admin.display(description=_("received"), ordering="received_at")
    def received(self, obj: Refund) -> str:
        return _short(obj.received_at)

    @admin.display(description=_("respond by"), ordering="respond_by")
    def respond_by_display(self, obj: Refund) -> str:
        return _short(obj.respond_by)

    @admin.display(description=_("chased"), ordering="chase_count")
    def chased(self, obj: Refund) -> int:
        return obj.chase_count

    def has_mark_refund_received_permission(self, request: HttpRequest) -> bool:
        # Finance for any refund, Supervisors for buyers' refunds: the workflow refuses, per
        # refund, one the user may not mark (policy.may_mark_received).
        return policy.may_any(request.user, policy.RECEIVED_PERMISSIONS)
