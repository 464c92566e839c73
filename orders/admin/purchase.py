"""The 1688 purchase on the order page: its block (status, ids, units, refunds, its own history,
what it still waits for, its refund requests on 1688) and its screens — update the purchase,
record the supplier's answer to a purchase refund the order's own status does not wait for, try
a failed 1688 refund request again.

Nothing here changes anything: the screens call ``orders.workflow.update_purchase`` and
``record_purchase_refund_approval`` / ``_refusal``, which check the permission, the store and
the inputs; a ``Refused`` is shown on the form.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shopops.errors import NotPermitted, Refused
from shopops.money import format_money

from .. import policy, workflow
from ..models import (
    PURCHASE_MOVES,
    Order,
    PurchaseStatus,
    Refund,
    RefundDirection,
    RefundStatus,
    Status,
    SupplierOrder,
)
from ..selectors.platform_refunds import order_requests
from ..selectors.purchase import PurchaseBlock, purchase_block
from ..workflow.purchase import APPROVAL_PERMISSION, REFUSAL_PERMISSION, UPDATE_PERMISSION
from ..workflow.refund_filing import RETRY_PERMISSION
from .order_views import get_order, order_url
from .timeline import TimelineEntry, render_timeline


def _when(value) -> str:
    return formats.date_format(timezone.localtime(value), "DATETIME_FORMAT")


def waits(order: Order, block: PurchaseBlock) -> list[str]:
    """What the order still waits for on the purchase's side, one sentence each (shown even when
    the sale is closed: a 1688 refund may still be running)."""
    kinds = {"refund": _("money only"), "return_refund": _("goods sent back")}
    found = []
    for refund in block.refunds:
        if refund.status != RefundStatus.REQUESTED:
            continue
        values = {
            "amount": format_money(refund.amount, refund.currency),
            "kind": kinds.get(refund.kind, _("refund")),
            "when": _when(refund.respond_by) if refund.respond_by else "—",
        }
        if order.status == Status.CLOSED:
            text = _(
                "The sale is closed; the 1688 purchase still waits for the supplier's answer on "
                "%(amount)s (%(kind)s), due by %(when)s"
            )
        else:
            text = _(
                "The 1688 purchase waits for the supplier's answer on %(amount)s (%(kind)s), due by %(when)s"
            )
        found.append(text % values)
    return found


def purchase_context(request: HttpRequest, order: Order, entries: list[TimelineEntry]) -> dict[str, Any]:
    """The purchase block of the order page; ``entries`` is the order's timeline, whose purchase
    entries are the purchase's own history."""
    block = purchase_block(order)
    user = request.user
    can_update = policy.may(user, UPDATE_PERMISSION, order)
    can_answer = policy.may(user, APPROVAL_PERMISSION, order) or policy.may(user, REFUSAL_PERMISSION, order)
    answerable = order.status != Status.SUPPLIER_REFUND_PENDING
    can_retry = policy.may(user, RETRY_PERMISSION, order)
    on_1688 = order_requests(order)
    return {
        "platform_requests": [
            {
                "request": r,
                "retry_url": reverse("admin:orders_order_refund_filing_retry", args=[order.pk, r.row.pk])
                if can_retry and r.can_retry
                else "",
            }
            for r in on_1688
        ],
        "purchase": block,
        "purchase_waits": waits(order, block) + [r.sentence for r in on_1688 if r.row.action],
        "purchase_history": render_timeline([e for e in entries if e.side == "purchase"]),
        "purchase_rows": [
            {
                "purchase": p,
                "update_url": reverse("admin:orders_order_purchase", args=[order.pk, p.pk])
                if can_update
                else "",
            }
            for p in block.purchases
        ],
        "purchase_refund_rows": [
            {
                "refund": r,
                "answer_url": reverse("admin:orders_order_purchase_refund", args=[order.pk, r.pk])
                if can_answer and answerable and r.status == RefundStatus.REQUESTED
                else "",
            }
            for r in block.refunds
        ],
    }


def _render(model_admin: ModelAdmin, request: HttpRequest, order: Order, title: str, **extra: Any):
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": order,
        "title": title,
        "subtitle": str(order),
        "order_url": order_url(order),
        **extra,
    }
    return TemplateResponse(request, "admin/orders/order/purchase_form.html", context)


def _field_errors(form: forms.Form, exc: Refused) -> None:
    form.add_error(exc.field if exc.field in form.fields else None, exc.message)


# --- update the purchase ----------------------------------------------------------------------


class PurchaseForm(forms.Form):
    """The purchase as it stands; the workflow checks what is typed."""

    status = forms.ChoiceField(label=gettext_lazy("Status"))
    supplier_order_id = forms.CharField(label=gettext_lazy("1688 order id"), required=False, max_length=64)
    entry_ids = forms.CharField(
        label=gettext_lazy("1688 order entry ids"),
        required=False,
        max_length=2000,
        help_text=gettext_lazy("The sub-order ids 1688 shows for the goods, separated by commas."),
    )
    quantity = forms.IntegerField(label=gettext_lazy("Units bought"), required=False, min_value=1)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount (CNY)"), required=False, max_digits=12, decimal_places=2, min_value=0
    )
    return_tracking_number = forms.CharField(
        label=gettext_lazy("Return tracking number (to the supplier)"), required=False, max_length=64
    )
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )

    def __init__(self, *args: Any, purchase: SupplierOrder, **kwargs: Any):
        kwargs.setdefault(
            "initial",
            {
                "status": purchase.status,
                "supplier_order_id": purchase.supplier_order_id,
                "entry_ids": ", ".join(purchase.entry_ids or []),
                "quantity": purchase.quantity,
                "amount": purchase.amount,
                "return_tracking_number": purchase.return_tracking_number,
            },
        )
        super().__init__(*args, **kwargs)
        allowed = [purchase.status, *PURCHASE_MOVES[PurchaseStatus(purchase.status)]]
        self.fields["status"].choices = [(s, PurchaseStatus(s).label) for s in allowed]


def _purchase_of(order: Order, purchase_id: str) -> SupplierOrder:
    try:
        return SupplierOrder.objects.get(order=order, pk=int(purchase_id))
    except (SupplierOrder.DoesNotExist, ValueError, OverflowError):
        raise Http404(_("This order has no such purchase.")) from None


def purchase_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str, purchase_id: str
) -> HttpResponse:
    """GET: the purchase in a form; POST: ``workflow.update_purchase``."""
    order = get_order(model_admin, request, object_id)
    if not policy.may(request.user, UPDATE_PERMISSION, order):
        raise PermissionDenied
    purchase = _purchase_of(order, purchase_id)
    form = PurchaseForm(request.POST or None, purchase=purchase)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            workflow.update_purchase(
                purchase,
                by=request.user,
                status=data["status"],
                supplier_order_id=data["supplier_order_id"],
                entry_ids=data["entry_ids"],
                quantity=data["quantity"],
                amount=data["amount"],
                return_tracking_number=data["return_tracking_number"],
                note=data["note"],
            )
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        except Refused as exc:
            _field_errors(form, exc)
        else:
            messages.success(request, _("Order %(order)s: the 1688 purchase is updated.") % {"order": order})
            return HttpResponseRedirect(order_url(order) + "#purchase")
    return _render(
        model_admin, request, order, _("Update the 1688 purchase"), form=form, form_id="purchase-form"
    )


# --- the supplier's answer to a purchase refund ------------------------------------------------

ANSWERS = [
    ("approved", gettext_lazy("The supplier approved")),
    ("refused", gettext_lazy("The supplier refused")),
]


class PurchaseRefundAnswerForm(forms.Form):
    answer = forms.ChoiceField(label=gettext_lazy("Answer"), choices=ANSWERS)
    amount = forms.DecimalField(
        label=gettext_lazy("Amount approved (CNY)"),
        required=False,
        max_digits=12,
        decimal_places=2,
        min_value=0,
        help_text=gettext_lazy("Leave empty: all that was asked."),
    )
    reference = forms.CharField(label=gettext_lazy("1688 refund reference"), required=False, max_length=100)
    note = forms.CharField(
        label=gettext_lazy("Note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


def purchase_refund_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str, refund_id: str
) -> HttpResponse:
    """GET: the answer form for a requested supplier refund; POST: the workflow's approval or refusal."""
    order = get_order(model_admin, request, object_id)
    try:
        refund = Refund.objects.get(order=order, pk=int(refund_id), direction=RefundDirection.FROM_SUPPLIER)
    except (Refund.DoesNotExist, ValueError, OverflowError):
        raise Http404(_("This order has no such supplier refund.")) from None
    if not (
        policy.may(request.user, APPROVAL_PERMISSION, order)
        or policy.may(request.user, REFUSAL_PERMISSION, order)
    ):
        raise PermissionDenied
    form = PurchaseRefundAnswerForm(request.POST or None, initial={"reference": refund.reference})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            if data["answer"] == "approved":
                workflow.record_purchase_refund_approval(
                    refund,
                    by=request.user,
                    amount=data["amount"],
                    reference=data["reference"],
                    note=data["note"],
                )
            else:
                workflow.record_purchase_refund_refusal(
                    refund, by=request.user, reference=data["reference"], note=data["note"]
                )
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        except Refused as exc:
            _field_errors(form, exc)
        else:
            messages.success(
                request, _("Order %(order)s: the supplier's answer is recorded.") % {"order": order}
            )
            return HttpResponseRedirect(order_url(order) + "#purchase")
    return _render(
        model_admin,
        request,
        order,
        _("Record the supplier's answer"),
        form=form,
        form_id="purchase-refund-form",
        refund=refund,
    )


# --- a failed 1688 refund request, tried again ---------------------------------------------------


def refund_filing_retry_view(
    model_admin: ModelAdmin, request: HttpRequest, object_id: str, filing_id: str
) -> HttpResponse:
    """POST: ``workflow.retry_filing`` — the request is due again now (its sender looks first
    whether an earlier try reached 1688)."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    order = get_order(model_admin, request, object_id)
    if not policy.may(request.user, RETRY_PERMISSION, order):
        raise PermissionDenied
    try:
        pk = int(filing_id)
    except (ValueError, OverflowError):
        raise Http404(_("This order has no such 1688 refund request.")) from None
    if not order.platform_refunds.filter(pk=pk).exists():
        raise Http404(_("This order has no such 1688 refund request."))
    try:
        workflow.retry_filing(pk, by=request.user)
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    except Refused as exc:
        messages.error(request, exc.message)
    else:
        messages.success(
            request,
            _("Order %(order)s: the 1688 refund request will be sent again shortly.") % {"order": order},
        )
    return HttpResponseRedirect(order_url(order) + "#purchase")
