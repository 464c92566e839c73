"""The order list's bulk actions: close unpaid orders, send payment reminders, export.

Django admin actions, listed in ``OrderAdmin.actions``; each declares the permission it needs
(``OrderAdmin.has_<name>_permission``). Each order runs in its own transaction (the
workflow's), and the operator is told per order what was done and what was refused.
"""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin import ModelAdmin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from shopops.errors import Refused

from .. import policy, workflow
from ..forms import BulkCloseForm
from ..models import Order, Status
from ..resources import export_orders_response
from ..transitions import OUT_OF_STOCK_HELP
from .actions import bounded_selection, report_orders


@admin.action(description=gettext_lazy("Close selected unpaid orders…"), permissions=["bulk_close"])
def close_unpaid(
    model_admin: ModelAdmin, request: HttpRequest, queryset: QuerySet[Order]
) -> HttpResponse | None:
    """Ask for the reason, then close each order on its own."""
    orders = bounded_selection(
        request, queryset, _("Select at most %(limit)d orders for a bulk close; nothing was closed.")
    )
    if orders is None:
        return None
    form = BulkCloseForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        done: list[Order] = []
        refused: list[tuple[Order, str]] = []
        for order in orders:
            try:
                done.append(
                    workflow.close_unpaid(
                        order.pk,
                        by=request.user,
                        reason=form.cleaned_data["reason"],
                        note=form.cleaned_data["note"],
                    )
                )
            except Refused as exc:
                refused.append((order, exc.message))
        report_orders(
            request,
            done,
            refused,
            lambda n: ngettext(
                "Closed %(count)d order: %(orders)s.", "Closed %(count)d orders: %(orders)s.", n
            ),
        )
        return None
    form.fields["reason"].help_text = _(OUT_OF_STOCK_HELP)
    unpaid_count = sum(1 for o in orders if o.status == Status.AWAITING_PAYMENT)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Close unpaid orders"),
        "form": form,
        "orders": orders,
        "unpaid_count": unpaid_count,
        "other_count": len(orders) - unpaid_count,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
        "index": request.POST.get("index", "0"),
    }
    return TemplateResponse(request, "admin/orders/order/bulk_close.html", context)


@admin.action(description=gettext_lazy("Send a payment reminder"), permissions=["send_payment_reminder"])
def send_payment_reminder(model_admin: ModelAdmin, request: HttpRequest, queryset: QuerySet[Order]) -> None:
    """One reminder per unpaid order, reported per order."""
    orders = bounded_selection(
        request,
        queryset,
        _("Select at most %(limit)d orders for a payment reminder; no reminder was sent."),
    )
    if orders is None:
        return
    done: list[Order] = []
    refused: list[tuple[Order, str]] = []
    for order in orders:
        # The workflow sends one reminder per order and ignores a second request: say so here.
        if order.payment_reminded_at is not None:
            refused.append((order, _("a payment reminder was already sent.")))
            continue
        try:
            done.append(workflow.send_payment_reminder(order.pk, by=request.user))
        except Refused as exc:
            refused.append((order, exc.message))
    report_orders(
        request,
        done,
        refused,
        lambda n: ngettext(
            "Payment reminder sent for %(count)d order: %(orders)s.",
            "Payment reminders sent for %(count)d orders: %(orders)s.",
            n,
        ),
    )


@admin.action(description=gettext_lazy("Export selected orders (CSV)"), permissions=["export_orders"])
def export(model_admin: ModelAdmin, request: HttpRequest, queryset: QuerySet[Order]) -> HttpResponse:
    """The selected orders of the user's stores (``policy.scope``), in the CSV contract's columns."""
    return export_orders_response(policy.scope(request.user, queryset))
