"""The evidence pack screens (docs/evidence-pack.md): one order's pack, the chooser when there are
more files than the platform takes, the progress of a pack built in the background, its
download, and the order list's action for a pack of several orders.

``/admin/orders/order/<pk>/evidence-pack/?target=aliexpress|1688`` (SPEC section 10) shows what
the pack holds, with the chooser when the operator must pick the files; its POST (the order
page's buttons, the chooser's) answers a small pack with the ZIP itself or, for a large pack,
hands it to a Celery worker (``orders.build_evidence_pack``) and sends the operator to its
progress page. Building a pack records one history event and changes no evidence; a GET builds
nothing, so a link from another site writes no history.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ModelAdmin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import QuerySet
from django.http import FileResponse, Http404, HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shopops.celery import hand_off
from shopops.errors import NotPermitted, Refused

from .. import policy
from ..models import Order
from ..packs import store
from ..packs.builder import build_pack, plan_pack
from ..packs.limits import TARGET_LABELS, limits_for
from ..workflow.packs import PACK_PERMISSION
from .actions import bounded_selection
from .order_views import _render, get_order, order_url

TASK = "orders.build_evidence_pack"


def pack_urls(order: Order) -> list[dict[str, str]]:
    """The order page's buttons: one pack per target."""
    base = reverse("admin:orders_order_evidence_pack", args=[order.pk])
    return [
        {"target": t, "label": _(label), "url": f"{base}?target={t}"} for t, label in TARGET_LABELS.items()
    ]


def _zip_response(data: bytes, filename: str) -> HttpResponse:
    # RFC 6266 / 5987, as Django's FileResponse writes it: any order id stays a file name.
    return HttpResponse(
        data,
        content_type="application/zip",
        headers={"Content-Disposition": content_disposition_header(True, filename)},
    )


def _progress_url(token: str) -> str:
    return reverse("admin:orders_order_evidence_pack_progress", args=[token])


def _start_job(
    request: HttpRequest, *, target: str, orders: list[int], chosen: list[int] | None, back: str
) -> HttpResponse:
    token = store.new_job(user_id=request.user.pk, target=target, orders=orders, chosen=chosen)
    if not hand_off(TASK, token):
        store.update_job(token, state="failed", error=_("The background workers cannot be reached."))
        messages.error(
            request,
            _("The pack is too large to build now and the background workers cannot be reached; try again."),
        )
        return HttpResponseRedirect(back)
    return HttpResponseRedirect(_progress_url(token))


def _chosen(request: HttpRequest) -> list[int] | None:
    """The attachments chosen: the chooser's ticks (``choose=1``, even none), or ``files=`` from a
    script (``None``: nobody chose yet). A GET's ``files=`` only ticks them on the page."""
    data = request.POST if request.method == "POST" else request.GET
    if "files" not in data and "choose" not in data:
        return None
    try:
        return [int(v) for v in data.getlist("files")]
    except ValueError:
        raise Refused(_("Files are chosen by their number."), field="files") from None


def evidence_pack_view(model_admin: ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """GET ``?target=``: the page of what the pack holds, where the operator chooses the files
    when there are more than the platform takes; POST: the pack built (the ZIP, or a background
    build). Never built on a GET: building writes history, and a link from another site must not."""
    order = get_order(model_admin, request, object_id)
    if not policy.may(request.user, PACK_PERMISSION):
        raise PermissionDenied
    posted = request.method == "POST"
    target = (request.POST if posted and "target" in request.POST else request.GET).get("target", "")
    try:
        limits = limits_for(target)
    except Refused as exc:
        return HttpResponse(exc.message, status=400, content_type="text/plain; charset=utf-8")
    error = ""
    plan = None
    chosen: list[int] | None = None
    try:
        chosen = _chosen(request)
        plan = plan_pack(order, target, chosen)
    except Refused as exc:
        error = exc.message
    if posted and plan is not None and not plan.needs_choice:
        if not plan.inline:
            return _start_job(
                request,
                target=target,
                orders=[order.pk],
                chosen=[a.pk for a in plan.selected],
                back=order_url(order),
            )
        try:
            # The pack's event is written with the response it records: a response that cannot
            # be made leaves no event behind.
            with transaction.atomic():
                data = build_pack(plan, by=request.user)
                return _zip_response(data, f"evidence-{order.platform_order_id}-{target}.zip")
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        except Refused as exc:
            messages.error(request, exc.message)
            return HttpResponseRedirect(order_url(order))
    if plan is None:
        try:
            plan = plan_pack(order, target, None)
        except Refused as exc:  # the pack cannot be made at all (a font missing, a summary too long)
            messages.error(request, exc.message)
            return HttpResponseRedirect(order_url(order))
    if chosen is not None:
        ticked = set(chosen)
    else:
        ticked = set() if plan.needs_choice else {a.pk for a in plan.selected}
    response = _render(
        model_admin,
        request,
        "admin/orders/order/evidence_pack_choose.html",
        order,
        _("Evidence pack: %(target)s") % {"target": limits.label},
        plan=plan,
        limits=limits,
        target=target,
        chosen=ticked,
        error=error,
    )
    if error:
        response.status_code = 400
    return response


def _own_job(request: HttpRequest, token: str) -> dict:
    job = store.read_job(token)
    if job is None:
        raise Http404(_("There is no such evidence pack; packs are kept for a limited time."))
    if job["user_id"] != request.user.pk and not request.user.is_superuser:
        # Someone else's pack: said as if there were none (its orders may be of other stores).
        raise Http404(_("There is no such evidence pack; packs are kept for a limited time."))
    return job


def pack_progress_view(model_admin: ModelAdmin, request: HttpRequest, token: str) -> HttpResponse:
    """The progress of a pack built in the background: a page that polls, or JSON (``?format=json``)."""
    job = _own_job(request, token)
    download = reverse("admin:orders_order_evidence_pack_download", args=[token])
    state = {
        "state": job["state"],
        "done": job.get("done", 0),
        "total": job.get("total", 0),
        "error": job.get("error", ""),
        "download": download if job["state"] == "done" else "",
    }
    if request.GET.get("format") == "json":
        return JsonResponse(state)
    target_label = TARGET_LABELS[job["target"]]
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Evidence pack: %(target)s") % {"target": _(target_label)},
        "job": state,
        "order_count": len(job["orders"]),
        "poll_url": _progress_url(token) + "?format=json",
    }
    return TemplateResponse(request, "admin/orders/order/evidence_pack_progress.html", context)


def pack_download_view(model_admin: ModelAdmin, request: HttpRequest, token: str) -> HttpResponse:
    job = _own_job(request, token)
    path = store.zip_path(token)
    if job["state"] != "done" or not path.is_file():
        raise Http404(_("This evidence pack is not ready."))
    name = f"evidence-{job['target']}-{token[:8]}.zip"
    return FileResponse(path.open("rb"), as_attachment=True, filename=name, content_type="application/zip")


# --- the order list's action ------------------------------------------------------------------


class PackTargetForm(forms.Form):
    target = forms.ChoiceField(
        label=gettext_lazy("For"),
        choices=[(t, gettext_lazy(label)) for t, label in TARGET_LABELS.items()],
        widget=forms.RadioSelect,
    )


@admin.action(
    description=gettext_lazy("Evidence pack of the selected orders…"), permissions=["evidence_pack"]
)
def evidence_pack(
    model_admin: ModelAdmin, request: HttpRequest, queryset: QuerySet[Order]
) -> HttpResponse | None:
    """One ZIP, a folder per order, built in the background; over a target's count, each order
    takes its first files in timeline order (the manifest names the rest)."""
    orders = bounded_selection(
        request, queryset, _("Select at most %(limit)d orders for an evidence pack; nothing was built.")
    )
    if orders is None:
        return None
    form = PackTargetForm(request.POST if "apply" in request.POST else None)
    if "apply" in request.POST and form.is_valid():
        return _start_job(
            request,
            target=form.cleaned_data["target"],
            orders=[o.pk for o in orders],
            chosen=None,
            back=request.get_full_path(),
        )
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Evidence pack of several orders"),
        "form": form,
        "orders": orders,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
        "index": request.POST.get("index", "0"),
    }
    return TemplateResponse(request, "admin/orders/order/evidence_pack_bulk.html", context)
