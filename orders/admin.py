"""Admin registrations. The order screens live here; other parts of the admin live in their own
modules, imported at the bottom so that ``admin.autodiscover`` registers them too.

The admin is configuration plus one-line delegation: every change of state goes through
``orders.workflow`` (see ``orders.admin_views``); status and every state field are read-only,
and nobody deletes orders, refunds or history from here.
"""

from __future__ import annotations

import json
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.contrib import admin, messages
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.http import HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils import formats, timezone
from django.utils.functional import cached_property
from django.utils.html import format_html
from django.utils.timesince import timesince
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from shopops.admin_base import ReadOnlyAdmin
from shopops.errors import Refused

from . import admin_views, workflow
from .admin_filters import (
    RefundNotArrivedFilter,
    SupplierRefundOverdueFilter,
    UnpaidTimingOutSoonFilter,
    WaitingOnBuyerFilter,
)
from .admin_import import OrderImportExportMixin
from .models import Order, OrderEvent, Refund, RefundDirection, RefundStatus, Status, SupplierOrder
from .selectors import WAITING_ON_BUYER

admin.site.site_header = "Shopops"
admin.site.site_title = "Shopops"
admin.site.index_title = _("Back office")

# Below this many rows an exact COUNT(*) is cheap enough; above it the estimate is good enough.
ESTIMATE_COUNT_ABOVE = 50_000


class EstimatedCountPaginator(Paginator):
    """Counts exactly, except large lists on PostgreSQL, where the planner's estimate stands in
    for a ``COUNT(*)`` that would read every matching row: ``pg_class.reltuples`` for the whole
    table, the ``EXPLAIN`` row estimate for a filtered list. Small results (a search, a worklist
    filter) are always counted exactly."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and connections[queryset.db].vendor == "postgresql":
            estimate = _estimated_rows(queryset)
            if estimate is not None and estimate > ESTIMATE_COUNT_ABOVE:
                return estimate
        return super().count


def _estimated_rows(queryset: QuerySet) -> int | None:
    connection = connections[queryset.db]
    with connection.cursor() as cursor:
        if not queryset.query.where:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
            return int(row[0]) if row and row[0] >= 0 else None
        sql, params = queryset.order_by().values("pk").query.sql_with_params()
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])


# --- list filters -----------------------------------------------------------------------------


class _InputFilter(admin.ListFilter):
    """A filter typed into a small form (a name, a date range) rather than picked from links."""

    template = "admin/orders/order/input_filter.html"
    inputs: list[tuple[str, str, str]] = []  # (parameter, label, input type)

    def __init__(self, request, params, model, model_admin):
        super().__init__(request, params, model, model_admin)
        for parameter, _label, _type in self.inputs:
            if parameter in params:
                value = params.pop(parameter)
                value = value[-1] if isinstance(value, list) else value
                # NUL is never part of a name or a date, and PostgreSQL refuses it in a parameter.
                value = value.replace("\x00", "")
                if value.strip():
                    self.used_parameters[parameter] = value.strip()

    def has_output(self) -> bool:
        return True

    def expected_parameters(self) -> list[str]:
        return [parameter for parameter, _label, _type in self.inputs]

    def choices(self, changelist):
        own = set(self.expected_parameters())
        hidden = [
            (key, value)
            for key, values in changelist.filter_params.items()
            if key not in own
            for value in values
        ]
        yield {
            "inputs": [
                {"name": p, "label": label, "type": kind, "value": self.used_parameters.get(p, "")}
                for p, label, kind in self.inputs
            ],
            "hidden": hidden,
            "clear_url": changelist.get_query_string(remove=list(own)),
            "active": bool(self.used_parameters),
        }


class SupplierFilter(_InputFilter):
    """Orders sourced from a 1688 supplier whose name contains the text typed."""

    title = _("supplier")
    inputs = [("supplier", _("Supplier name contains"), "search")]

    def queryset(self, request, queryset):
        name = self.used_parameters.get("supplier")
        if not name:
            return queryset
        # EXISTS, not a join: an order with two supplier orders must not appear twice.
        return queryset.filter(
            Exists(SupplierOrder.objects.filter(order=OuterRef("pk"), supplier_name__icontains=name))
        )


class _DateRangeFilter(_InputFilter):
    """From / to dates (inclusive, in the operator's time zone) on one timestamp field."""

    field_name = ""

    def _bound(self, request, parameter: str) -> date | None:
        value = self.used_parameters.get(parameter)
        if not value:
            return None
        try:
            return date.fromisoformat(value)
        except ValueError:
            messages.warning(
                request,
                gettext("“%(value)s” is not a date (YYYY-MM-DD); the filter “%(filter)s” ignores it.")
                % {"value": value, "filter": self.title},
            )
            return None

    def queryset(self, request, queryset):
        start = self._bound(request, self.inputs[0][0])
        end = self._bound(request, self.inputs[1][0])
        tz = timezone.get_current_timezone()
        # Timestamps compared with datetimes, not __date: the index on the column stays usable.
        # The calendar's first and last days are no bound at all: the day after the last one
        # does not exist, and the first one's midnight east of UTC falls before year 1 in UTC.
        if start and start > date.min:
            queryset = queryset.filter(**{f"{self.field_name}__gte": datetime.combine(start, time.min, tz)})
        if end and end < date.max:
            next_day = datetime.combine(end + timedelta(days=1), time.min, tz)
            queryset = queryset.filter(**{f"{self.field_name}__lt": next_day})
        return queryset


class PlacedDateFilter(_DateRangeFilter):
    title = _("placed")
    field_name = "placed_at"
    inputs = [("placed_from", _("From"), "date"), ("placed_to", _("To"), "date")]


class ClosedDateFilter(_DateRangeFilter):
    title = _("closed")
    field_name = "closed_at"
    inputs = [("closed_from", _("From"), "date"), ("closed_to", _("To"), "date")]


# --- orders -----------------------------------------------------------------------------------


def status_badge(status: str, label: Any) -> str:
    return format_html('<span class="status-badge status-{}">{}</span>', status, label)


def _when(value: datetime) -> str:
    return formats.date_format(timezone.localtime(value), "SHORT_DATETIME_FORMAT")


class SupplierOrderInline(admin.TabularInline):
    """The 1688 purchase orders behind the sale. Imported, not edited here."""

    model = SupplierOrder
    extra = 0
    can_delete = False
    fields = ("supplier_name", "supplier_contact", "supplier_order_id", "amount")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Order)
class OrderAdmin(OrderImportExportMixin, admin.ModelAdmin):
    list_display = (
        "platform_order_id",
        "buyer",
        "buyer_country",
        "amount",
        "status_display",
        "close_reason",
        "age",
        "next_deadline",
    )
    list_display_links = ("platform_order_id",)
    list_filter = (
        "status",
        "close_reason",
        SupplierFilter,
        PlacedDateFilter,
        ClosedDateFilter,
        UnpaidTimingOutSoonFilter,
        WaitingOnBuyerFilter,
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
    actions = ["close_unpaid", "send_payment_reminder", "export"]
    inlines = [SupplierOrderInline]
    change_form_template = "admin/orders/order/change_form.html"
    change_list_template = "admin/orders/order/change_list.html"
    fieldsets = (
        (
            _("Order"),
            {
                "fields": (
                    ("platform_order_id", "status", "platform_status"),
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
    # The only fields a Supervisor may correct by hand: contact details and notes. Everything
    # that belongs to the workflow (status, amounts, dates, the close) changes only through it.
    EDITABLE = ("buyer_email", "buyer_phone", "buyer_language", "carrier", "notes")

    # --- queryset and columns ------------------------------------------------------------------

    def get_queryset(self, request: HttpRequest) -> QuerySet[Order]:
        # The pending supplier refund's deadline, as a column: one subquery in the list's one
        # query, never a query per row.
        supplier_due = Refund.objects.filter(
            order=OuterRef("pk"), direction=RefundDirection.FROM_SUPPLIER, status=RefundStatus.REQUESTED
        ).order_by("respond_by")
        return (
            super()
            .get_queryset(request)
            .annotate(supplier_respond_by=Subquery(supplier_due.values("respond_by")[:1]))
        )

    def get_search_results(self, request: HttpRequest, queryset: QuerySet, search_term: str):
        """An order id, tracking number or 1688 order id typed whole is found through its index,
        whatever the list size (at most three indexed lookups, tried in that order).

        Anything else searches the buyer's name and email (contains), and the order id, 1688
        order id and tracking number (exact): a scan of the table, acceptable for a name.
        """
        term = search_term.strip()
        if term and " " not in term:
            exact = (
                Q(platform_order_id=term),
                Q(tracking_number=term),
                # EXISTS, not a join: no duplicate rows, no DISTINCT over the list.
                Q(Exists(SupplierOrder.objects.filter(order=OuterRef("pk"), supplier_order_id=term))),
            )
            for condition in exact:
                matches = queryset.filter(condition)
                if matches.exists():
                    return matches, False
        return super().get_search_results(request, queryset, search_term)

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
        return status_badge(obj.status, obj.get_status_display())

    @admin.display(description=_("age"), ordering="placed_at")
    def age(self, obj: Order) -> str:
        return timesince(obj.placed_at, obj.closed_at or timezone.now(), depth=1)

    @admin.display(description=_("next deadline"))
    def next_deadline(self, obj: Order) -> str:
        """What is due next and when: payment timeout, supplier answer, or the buyer's reply."""
        due, what = None, ""
        if obj.status == Status.AWAITING_PAYMENT:
            due = obj.placed_at + timedelta(hours=settings.SHOPOPS_PAYMENT_TIMEOUT_HOURS)
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

    def action_checkbox(self, obj: Order) -> str:
        # Django's renders a form widget through the template engine for every row; the same
        # markup from one format_html keeps a 50-row page cheap.
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            ACTION_CHECKBOX_NAME,
            obj.pk,
            format_html(gettext("Select this object for an action - {}"), str(obj)),
        )

    # --- permissions: nobody adds or deletes orders here; the state is the workflow's ----------

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # orders come from the platform import

    def has_delete_permission(self, request: HttpRequest, obj: Order | None = None) -> bool:
        return False

    def get_readonly_fields(self, request: HttpRequest, obj: Order | None = None):
        names = [f.name for f in Order._meta.fields if f.name not in ("id",)]
        if self.has_change_permission(request, obj):
            return [n for n in names if n not in self.EDITABLE]
        return names

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions

    # --- bulk actions ----------------------------------------------------------------------------

    @admin.action(description=_("Close selected unpaid orders…"), permissions=["bulk_close"])
    def close_unpaid(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse | None:
        return admin_views.bulk_close(self, request, queryset)

    def has_bulk_close_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.bulk_close") and request.user.has_perm("orders.close_unpaid")

    @admin.action(description=_("Send a payment reminder"), permissions=["send_payment_reminder"])
    def send_payment_reminder(self, request: HttpRequest, queryset: QuerySet[Order]) -> None:
        admin_views.bulk_payment_reminder(request, queryset)

    def has_send_payment_reminder_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.send_payment_reminder")

    @admin.action(description=_("Export selected orders (CSV)"), permissions=["export_orders"])
    def export(self, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse:
        from .resources import export_orders_response

        return export_orders_response(queryset)

    def has_export_orders_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.export_orders")

    # --- the order page and its sub-pages ------------------------------------------------------

    def get_urls(self):
        wrap = self.admin_site.admin_view
        own = [
            path(
                "<path:object_id>/transition/<str:name>/",
                wrap(
                    lambda request, object_id, name: admin_views.transition_view(
                        self, request, object_id, name
                    )
                ),
                name="orders_order_transition",
            ),
            path(
                "<path:object_id>/evidence/",
                wrap(lambda request, object_id: admin_views.evidence_view(self, request, object_id)),
                name="orders_order_evidence",
            ),
        ]
        return own + super().get_urls()

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context.update(admin_views.order_page_context(request, obj))
        return super().render_change_form(
            request, context, add=add, change=change, form_url=form_url, obj=obj
        )


# --- refunds ----------------------------------------------------------------------------------


@admin.register(Refund)
class RefundAdmin(ReadOnlyAdmin):
    """Finance's list: what was refunded, what came back, what has not arrived yet."""

    list_display = (
        "id",
        "order_link",
        "direction",
        "status_display",
        "amount_display",
        "requested_at",
        "succeeded_at",
        "received_at",
        "respond_by",
        "chase_count",
    )
    list_display_links = ("id",)
    list_filter = ("direction", "status", RefundNotArrivedFilter, SupplierRefundOverdueFilter)
    list_select_related = ("order",)
    search_fields = ("=order__platform_order_id", "=reference")
    search_help_text = _("Order id or platform reference (exact).")
    show_full_result_count = False
    actions = ["mark_received"]
    readonly_fields = [f.name for f in Refund._meta.fields]

    @admin.display(description=_("order"), ordering="order__platform_order_id")
    def order_link(self, obj: Refund) -> str:
        return format_html(
            '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.order_id]), obj.order
        )

    @admin.display(description=_("status"), ordering="status")
    def status_display(self, obj: Refund) -> str:
        return status_badge(f"refund-{obj.status}", obj.get_status_display())

    @admin.display(description=_("amount"), ordering="amount")
    def amount_display(self, obj: Refund) -> str:
        return f"{formats.number_format(obj.amount, 2)} {obj.currency}"

    @admin.action(description=_("Mark received (money arrived)"), permissions=["mark_refund_received"])
    def mark_received(self, request: HttpRequest, queryset: QuerySet[Refund]) -> None:
        refunds = admin_views.bounded_selection(
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
                gettext("Marked received: %(refunds)s.")
                % {"refunds": ", ".join(f"#{r.pk} ({r.order})" for r in done)},
            )
        for refund, why in refused:
            messages.error(
                request,
                gettext("Refund #%(pk)s (%(order)s) was refused: %(why)s")
                % {"pk": refund.pk, "order": refund.order, "why": why},
            )

    def has_mark_refund_received_permission(self, request: HttpRequest) -> bool:
        return request.user.has_perm("orders.mark_refund_received")


# --- history ----------------------------------------------------------------------------------


@admin.register(OrderEvent)
class OrderEventAdmin(ReadOnlyAdmin):
    """The history of every transition: read-only, like the table itself."""

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
        return admin_views.transition_label(obj.transition)


from . import admin_feedback, admin_notifications, admin_stock  # noqa: E402, F401
