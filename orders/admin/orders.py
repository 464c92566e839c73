"""The orders' admin: the list, the order page and its screens, and the history of events.

The order page is read-only: the glance, the buttons of the transitions this user may run now,
the timeline and the order's fields. Every change goes through ``orders.workflow`` from one of
the order's screens (``order_views``, ``imports``) or bulk actions (``order_actions``), all
wired here; nobody adds or deletes orders or history in the admin.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import OuterRef, QuerySet, Subquery
from django.http import HttpRequest, HttpResponseRedirect
from django.utils import formats, timezone
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from shopops.admin_base import ReadOnlyAdmin, ReadOnlyInline, screen

from .. import policy
from ..models import (
    Order,
    OrderEvent,
    Refund,
    RefundDirection,
    RefundStatus,
    Status,
    SupplierOrder,
    choice_label,
)
from ..people import person
from ..platform_words import status_words
from ..scoped_admin import StoreScopedAdmin
from ..selectors import WAITING_ON_BUYER
from ..selectors.ledger import order_ledger
from ..selectors.search import order_search
from ..workflow.assignment import ASSIGN_PERMISSION
from ..workflow.events import event_label
from ..workflow.packs import PACK_PERMISSION
from . import assignment, imports, order_actions, order_views, packs, purchase, ready_texts
from .display import status_badge
from .filters import (
    AssigneeFilter,
    ClosedDateFilter,
    MineFilter,
    OpenFilter,
    PlacedDateFilter,
    PurchaseStatusFilter,
    QueueFilter,
    SupplierFilter,
    UnpaidTimingOutSoonFilter,
    WaitingOnBuyerFilter,
    WaitingOnMeFilter,
)
from .paginator import EstimatedCountPaginator


def _when(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


class SupplierOrderInline(ReadOnlyInline):
    """The 1688 purchase orders behind the sale. Imported, and updated from the purchase block
    (``orders.admin.purchase``), not edited here."""

    model = SupplierOrder
    fields = (
        "supplier_name",
        "supplier_contact",
        "supplier_order_id",
        "status",
        "quantity",
        "amount",
        "returned_quantity",
    )


@admin.register(Order)
class OrderAdmin(StoreScopedAdmin):
    list_display = (
        "platform_order_id",
        "buyer",
        "buyer_country",
        "amount",
        "status_display",
        "close_reason",
        "age",
        "next_deadline",
        "handled_by",
    )
    list_display_links = ("platform_order_id",)
    list_filter = (
        MineFilter,
        WaitingOnMeFilter,
        AssigneeFilter,
        OpenFilter,
        "status",
        "close_reason",
        SupplierFilter,
        PurchaseStatusFilter,
        PlacedDateFilter,
        ClosedDateFilter,
        UnpaidTimingOutSoonFilter,
        WaitingOnBuyerFilter,
        QueueFilter,
    )
    search_fields = (
        "=platform_order_id",
        "buyer_name",
        "buyer_email",
        "=tracking_number",
        "=supplier_orders__supplier_order_id",
    )
    search_help_text = _(
        "Order id, 1688 order id or tracking number (exact), or part of the buyer's name or email."
    )
    list_per_page = 50
    list_max_show_all = 500
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    actions = [
        order_actions.close_unpaid,
        order_actions.send_payment_reminder,
        order_actions.export,
        packs.evidence_pack,
        assignment.assign_selected,
    ]
    inlines = [SupplierOrderInline]
    change_form_template = "admin/orders/order/change_form.html"
    change_list_template = "admin/orders/order/change_list.html"
    fieldsets = (
        (
            _("Order"),
            {
                "fields": (
                    ("platform_order_id", "status", "platform_status_words"),
                    ("sku", "product_title"),
                    ("quantity", "unit_price", "total_amount", "currency"),
                )
            },
        ),
        (
            _("Buyer"),
            {"fields": (("buyer_name", "buyer_country", "buyer_language"), ("buyer_email", "buyer_phone"))},
        ),
        (
            _("Dates and shipping"),
            {
                "fields": (
                    ("placed_at", "paid_at", "shipped_at"),
                    ("tracking_number", "carrier", "return_tracking_number"),
                    "payment_reminded_at",
                )
            },
        ),
        (
            _("Close"),
            {
                "fields": (
                    ("close_reason", "close_stage", "outcome"),
                    "close_note",
                    ("close_started_at", "closed_at", "closed_by"),
                    "platform_reference",
                )
            },
        ),
        (_("Notes"), {"fields": ("notes",)}),
    )

    # --- the order's screens -------------------------------------------------------------------

    def get_urls(self):
        return [
            screen(self, "import/", imports.import_view, "orders_order_import"),
            screen(self, "export/", imports.export_view, "orders_order_export", list_query=("_format",)),
            screen(
                self,
                "<path:object_id>/transition/<str:name>/",
                order_views.transition_view,
                "orders_order_transition",
            ),
            screen(self, "<path:object_id>/evidence/", order_views.evidence_view, "orders_order_evidence"),
            screen(self, "<path:object_id>/contact/", order_views.contact_view, "orders_order_contact"),
            screen(self, "<path:object_id>/claim/", assignment.claim_view, "orders_order_claim"),
            screen(self, "<path:object_id>/assign/", assignment.assign_view, "orders_order_assign"),
            screen(
                self,
                "<path:object_id>/purchase/<str:purchase_id>/",
                purchase.purchase_view,
                "orders_order_purchase",
            ),
            screen(
                self,
                "<path:object_id>/purchase-refund/<str:refund_id>/",
                purchase.purchase_refund_view,
                "orders_order_purchase_refund",
            ),
            screen(
                self,
                "<path:object_id>/refund-filing/<str:filing_id>/retry/",
                purchase.refund_filing_retry_view,
                "orders_order_refund_filing_retry",
            ),
            screen(
                self, "<path:object_id>/ready-text/", ready_texts.ready_text_view, "orders_order_ready_text"
            ),
            screen(
                self,
                "<path:object_id>/evidence-pack/",
                packs.evidence_pack_view,
                "orders_order_evidence_pack",
            ),
            screen(
                self,
                "evidence-packs/<str:token>/",
                packs.pack_progress_view,
                "orders_order_evidence_pack_progress",
            ),
            screen(
                self,
                "evidence-packs/<str:token>/download/",
                packs.pack_download_view,
                "orders_order_evidence_pack_download",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(order_views.order_page_context(request, obj))
            context.update(purchase.purchase_context(request, obj, context.pop("timeline_entries")))
            can_pack = policy.may(request.user, PACK_PERMISSION)
            context["evidence_pack_urls"] = packs.pack_urls(obj) if can_pack else []
            context["ledger"] = order_ledger(obj)  # the loss ledger of a closed order, else None
        return super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )

    def history_view(self, request: HttpRequest, object_id: str, extra_context: dict | None = None):
        """The order's history is its timeline (events, communications, refunds, ...), not
        Django's LogEntry table, which no change of an order ever writes: "History" opens it."""
        order = order_views.get_order(self, request, object_id)
        return HttpResponseRedirect(order_views.order_url(order) + "#timeline")

    def changelist_view(self, request: HttpRequest, extra_context: dict | None = None):
        extra_context = {
            **(extra_context or {}),
            "can_import_orders": policy.may(request.user, "orders.import_orders"),
            "can_export_orders": policy.may(request.user, "orders.export_orders"),
            "export_query": request.GET.urlencode(),
        }
        return super().changelist_view(request, extra_context=extra_context)

    # --- queryset and columns ------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        # The pending supplier refund's deadline, as a column: one subquery in the list's one
        # query, never a query per row.
        supplier_due = Refund.objects.filter(
            order=OuterRef("pk"), direction=RefundDirection.FROM_SUPPLIER, status=RefundStatus.REQUESTED
        ).order_by("respond_by")
        # The store rides along for the payment due (its timeout): joined in the page's query
        # only, never in the count's (a join there cost a one-store list 4× at 1,000,000 orders).
        return (
            super()
            .get_queryset(request)
            .select_related("store", "assignee")
            .annotate(
                supplier_respond_by=Subquery(supplier_due.values("respond_by")[:1]),
            )
        )

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """An order id, tracking number or 1688 order id typed whole, or part of the buyer's
        name or email: one indexed condition (``selectors.search``), no join, so no
        ``DISTINCT`` and the list's query count is the same with or without a search."""
        return order_search(queryset, search_term), False

    @admin.display(description=_("buyer"), ordering="buyer_name")
    def buyer(self, obj: Order) -> str:
        if obj.buyer_email:
            return format_html("{}<br><small>{}</small>", obj.buyer_name, obj.buyer_email)
        return obj.buyer_name

    @admin.display(description=_("amount"), ordering="total_amount")
    def amount(self, obj: Order) -> str:
        return f"{obj.total_amount} {obj.currency}"  # two places already; no locale lookups per row

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj: Order) -> str:
        return status_badge(obj.status, choice_label(Status, obj.status))

    @admin.display(description=_("open for / took"), ordering="placed_at")
    def age(self, obj: Order) -> str:
        """Two different things, said apart: how long an open order has waited since it was
        placed, and how long a closed one took from placing to closing."""
        if obj.closed_at is not None:
            return gettext("took %(age)s") % {"age": timesince(obj.placed_at, obj.closed_at, depth=1)}
        if obj.status == Status.COMPLETED:
            return gettext("placed %(age)s ago") % {"age": timesince(obj.placed_at, depth=1)}
        return gettext("open %(age)s") % {"age": timesince(obj.placed_at, depth=1)}

    @admin.display(description=_("next deadline"))
    def next_deadline(self, obj: Order) -> str:
        """What is due next and when: payment timeout, supplier answer, or the buyer's reply."""
        due, what = None, ""
        if obj.status == Status.AWAITING_PAYMENT:
            due = obj.placed_at + timedelta(hours=float(obj.store.option("payment_timeout_hours")))
            what = gettext("payment timeout")
        elif obj.status == Status.SUPPLIER_REFUND_PENDING and getattr(obj, "supplier_respond_by", None):
            due = obj.supplier_respond_by
            what = gettext("supplier must answer")
        elif obj.status in WAITING_ON_BUYER:
            due = obj.status_changed_at + timedelta(hours=settings.SHOPOPS_WAITING_ON_BUYER_HOURS)
            what = gettext("chase the buyer")
        if due is None:
            return "—"
        overdue = due <= timezone.now()
        return format_html(
            '<span class="deadline{}">{}<br><small>{}{}</small></span>',
            " overdue" if overdue else "",
            _when(due),
            what,
            gettext(" — overdue") if overdue else "",
        )

    @admin.display(description=_("handled by"), ordering="assignee__username")
    def handled_by(self, obj: Order) -> str:
        return person(obj.assignee) if obj.assignee_id else "—"

    def action_checkbox(self, obj: Order) -> str:
        # Django's renders a form widget through the template engine for every row; the same
        # markup from one format_html keeps a 50-row page cheap.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )

    # --- permissions: the page is read-only; nobody adds or deletes orders ---------------------

    @admin.display(description=_("platform status"))
    def platform_status_words(self, obj: Order) -> str:
        """What AliExpress's status means ("Awaiting the buyer's payment"), its code on hover."""
        if not obj.platform_status:
            return "—"
        return format_html(
            '<span title="{}">{}</span>', obj.platform_status, status_words(obj.platform_status)
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders come from the platform import

    def has_change_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        # No generic edit form: a change is a transition, or the Supervisor's explicit contact
        # correction (order_views.contact_view, orders.change_order).
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    def has_bulk_close_permission(self, request: HttpRequest) -> bool:
        return policy.may(request.user, "orders.bulk_close") and policy.may(
            request.user, "orders.close_unpaid"
        )

    def has_send_payment_reminder_permission(self, request: HttpRequest) -> bool:
        return policy.may(request.user, "orders.send_payment_reminder")

    def has_export_orders_permission(self, request: HttpRequest) -> bool:
        return policy.may(request.user, "orders.export_orders")

    def has_evidence_pack_permission(self, request: HttpRequest) -> bool:
        return policy.may(request.user, PACK_PERMISSION)

    def has_assign_order_permission(self, request: HttpRequest) -> bool:
        return policy.may(request.user, ASSIGN_PERMISSION)


@admin.register(OrderEvent)
class OrderEventAdmin(StoreScopedAdmin, ReadOnlyAdmin):
    """The history of every order: read-only, like the table itself."""

    list_display = (
        "created_at",
        "order",
        "transition_display",
        "from_status",
        "to_status",
        "actor",
        "reason",
    )
    list_select_related = ("order", "actor")
    search_fields = ("=order__platform_order_id",)
    show_full_result_count = False
    paginator = EstimatedCountPaginator
    readonly_fields = [f.name for f in OrderEvent._meta.fields]

    @admin.display(description=_("transition"), ordering="transition")
    def transition_display(self, obj: OrderEvent) -> str:
        return event_label(obj.transition)
