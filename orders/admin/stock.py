"""Stock: SKUs with their stock on hand, movements and the repeated stock-outs report; adjustments.

The stock figure is never a form field (``Sku.stock_on_hand`` is ``editable=False``): it
changes through ``orders.workflow.stock.adjust_stock`` (a movement with a reason and a note),
from the SKU's "Adjust stock" screen, or through the close workflow. The form's code and title
are written by ``orders.workflow.stock.save_sku``, not by the admin's default save. Movements
are append-only: read, never changed or deleted.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import get_object_or_404
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shopops.admin_base import ReadOnlyAdmin, ReadOnlyInline, screen
from shopops.errors import Refused

from .. import policy
from ..models import MovementReason, Sku, StockMovement
from ..scoped_admin import StoreScopedAdmin, StoreScopedInline
from ..selectors.analytics import with_out_of_stock_closes
from ..workflow import stock
from .filters import RepeatedOutOfStockFilter


class StockMovementInline(StoreScopedInline, ReadOnlyInline):
    model = StockMovement
    fields = ["created_at", "delta", "stock_after", "reason", "order", "actor", "note"]
    ordering = ["-created_at", "-id"]
    show_change_link = False


class AdjustStockForm(forms.Form):
    delta = forms.IntegerField(
        label=gettext_lazy("Change"), help_text=gettext_lazy("Units to add (positive) or remove (negative).")
    )
    reason = forms.ChoiceField(
        label=gettext_lazy("Reason"),
        choices=[(r.value, r.label) for r in (MovementReason.ADJUSTMENT, MovementReason.RESTOCK)],
    )
    note = forms.CharField(label=gettext_lazy("Note"), widget=forms.Textarea(attrs={"rows": 3}))


def adjust_view(model_admin: SkuAdmin, request: HttpRequest, pk: int) -> HttpResponse:
    """GET: the adjustment form; POST: one movement through ``orders.workflow.stock.adjust_stock``."""
    if not policy.may(request.user, "orders.adjust_stock"):
        raise PermissionDenied
    sku = get_object_or_404(Sku, pk=pk)
    form = AdjustStockForm(request.POST or None)
    change_url = reverse("admin:orders_sku_change", args=[sku.pk])
    if request.method == "POST" and form.is_valid():
        try:
            stock.adjust_stock(sku, by=request.user, **form.cleaned_data)
        except Refused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            sku.refresh_from_db(fields=["stock_on_hand"])
            model_admin.message_user(
                request,
                _("Stock of %(sku)s is now %(n)d.") % {"sku": sku.code, "n": sku.stock_on_hand},
                messages.SUCCESS,
            )
            return HttpResponseRedirect(change_url)
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.opts,
        "title": _("Adjust stock of %(sku)s") % {"sku": sku.code},
        "sku": sku,
        "form": form,
        "change_url": change_url,
    }
    return TemplateResponse(
        request, "admin/orders/sku/adjust.html", context, status=400 if form.errors else 200
    )


@admin.register(Sku)
class SkuAdmin(admin.ModelAdmin):
    list_display = ["code", "title", "stock_on_hand", "out_of_stock", "oos_closes"]
    list_filter = ["out_of_stock", RepeatedOutOfStockFilter]
    search_fields = ["code", "title"]
    fields = ["code", "title", "stock_on_hand", "out_of_stock", "adjust_link"]
    readonly_fields = ["stock_on_hand", "out_of_stock", "adjust_link"]
    inlines = [StockMovementInline]

    def get_urls(self):
        return [screen(self, "<int:pk>/adjust/", adjust_view, "orders_sku_adjust"), *super().get_urls()]

    def get_queryset(self, request):
        # SKUs are shared by every store; the out-of-stock closes counted are of the user's stores.
        return with_out_of_stock_closes(super().get_queryset(request), request.user)

    def has_delete_permission(self, request, obj=None):
        # Orders and movements point at SKUs; a SKU is never removed.
        return False

    def save_model(self, request, obj: Sku, form, change: bool) -> None:
        # The code and title go through the workflow (permission, inputs); the stock never does.
        saved = stock.save_sku(obj.pk if change else None, by=request.user, code=obj.code, title=obj.title)
        # The admin goes on with the form's instance (history entry, redirect): make it the row
        # the workflow wrote.
        obj.pk, obj.code, obj.title = saved.pk, saved.code, saved.title
        obj._state.adding, obj._state.db = False, saved._state.db

    def changeform_view(self, request, object_id=None, form_url="", extra_context=None):
        try:
            return super().changeform_view(request, object_id, form_url, extra_context)
        except Refused as exc:
            self.message_user(request, exc.message, messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())

    @admin.display(description=gettext_lazy("out-of-stock closes"), ordering="oos_closes")
    def oos_closes(self, obj: Sku) -> int:
        return obj.oos_closes

    @admin.display(description=gettext_lazy("adjust stock"))
    def adjust_link(self, obj: Sku) -> str:
        if obj.pk is None:
            return "—"
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:orders_sku_adjust", args=[obj.pk]),
            _("Adjust stock…"),
        )


@admin.register(StockMovement)
class StockMovementAdmin(StoreScopedAdmin, ReadOnlyAdmin):
    list_display = ["created_at", "sku", "delta", "stock_after", "reason", "order", "actor"]
    list_filter = ["reason", "created_at"]
    search_fields = ["sku__code", "order__platform_order_id", "note"]
    list_select_related = ["sku", "order", "actor"]
    date_hierarchy = "created_at"

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.fields]
