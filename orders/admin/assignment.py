"""Who handles an order, on its screens: take it on, take it over, assign it, assign many.

- ``<pk>/claim/`` — GET asks ("Take on order X?", or "Ana is handling this order; take it
  over?"), POST runs ``workflow.claim_order`` (``take_over`` when the page asked it);
- ``<pk>/assign/`` — a supervisor's form: give the order to someone who may handle it
  (``workflow.assign_order``);
- :func:`take_over_page` — the question the transition form asks first when a colleague is
  handling the order (``order_views.transition_view``);
- :func:`assign_selected` — the order list's bulk action "Assign selected orders to…".

Every change is one workflow call, which asks ``orders.policy`` again; the choices offered are the
people who may handle the order (the role and the store, ``policy.people_who_may``).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import ModelAdmin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from shopops.errors import NotPermitted, Refused

from .. import policy, workflow
from ..models import Order
from ..people import person
from ..workflow.assignment import ASSIGN_PERMISSION, CLAIM_PERMISSION, HandledByOther, holder_for
from .actions import bounded_selection, report_orders


class PersonChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj) -> str:
        return person(obj)


class AssignForm(forms.Form):
    """Whom to give the order(s) to: one of the people who may handle them."""

    to = PersonChoiceField(
        label=gettext_lazy("Handled by"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("Nobody"),
        help_text=gettext_lazy("Operators and supervisors who work for the order's store."),
    )

    def __init__(self, *args, people: QuerySet, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["to"].queryset = people


def assignable_people(stores) -> QuerySet:
    """Who may handle orders of ``stores`` (a store id or ids), by name."""
    return policy.people_who_may(CLAIM_PERMISSION, stores).order_by("first_name", "last_name", "username")


def _order_url(order: Order) -> str:
    return reverse("admin:orders_order_change", args=[order.pk])


def _get_order(model_admin: ModelAdmin, request: HttpRequest, object_id: str) -> Order:
    """The order of the URL, for a user who may view it (404 / 403 otherwise), as every order
    screen loads it (``order_views.get_order``)."""
    order = model_admin.get_object(request, unquote(object_id))
    if order is None:
        raise Http404(_("There is no order with id %(id)s.") % {"id": object_id})
    if not model_admin.has_view_permission(request, order):
        raise PermissionDenied
    return order


def _render(
    model_admin: ModelAdmin, request: HttpRequest, order: Order, title: str, **extra
) -> TemplateResponse:
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "original": order,
        "title": title,
        "subtitle": str(order),
        "order_url": _order_url(order),
        **extra,
    }
    return TemplateResponse(request, "admin/orders/order/assignment.html", context)


def take_over_page(
    model_admin: ModelAdmin, request: HttpRequest, order: Order, holder, *, action: str, method: str = "get"
) -> TemplateResponse:
    """The question asked before a step on a colleague's order: "Ana is handling this order;
    take it over?" — a button that goes on (``take_over=1``), and Cancel. 409: not done."""
    response = _render(
        model_admin,
        request,
        order,
        _("Take over order %(order)s?") % {"order": order},
        question=_("%(person)s is handling this order; take it over?") % {"person": person(holder)},
        action=action,
        method=method,
        take_over=True,
    )
    response.status_code = 409
    return response


def claim_view(model_admin: ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """GET: ask; POST: ``workflow.claim_order`` (with ``take_over`` when the page asked it)."""
    order = _get_order(model_admin, request, object_id)
    if not policy.may(request.user, CLAIM_PERMISSION, order):
        raise PermissionDenied
    holder = holder_for(order, request.user)
    if request.method == "POST":
        try:
            workflow.claim_order(order, by=request.user, take_over=request.POST.get("take_over") == "1")
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        except HandledByOther as exc:
            return take_over_page(
                model_admin, request, order, exc.assignee, action=request.path, method="post"
            )
        except Refused as exc:
            messages.error(request, exc.message)
        else:
            messages.success(request, _("Order %(order)s is yours now.") % {"order": order})
        return HttpResponseRedirect(_order_url(order))
    if holder is not None:
        return take_over_page(model_admin, request, order, holder, action=request.path, method="post")
    return _render(
        model_admin,
        request,
        order,
        _("Take on order %(order)s") % {"order": order},
        question=_(
            "Take on order %(order)s? It will be yours: in your “Mine”, and your colleagues see it is yours."
        )
        % {"order": order},
        action=request.path,
        method="post",
        take_over=False,
    )


def assign_view(model_admin: ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """A supervisor gives the order to someone who may handle it (``workflow.assign_order``)."""
    order = _get_order(model_admin, request, object_id)
    if not policy.may(request.user, ASSIGN_PERMISSION, order):
        raise PermissionDenied
    people = assignable_people(order.store_id)
    form = AssignForm(request.POST or None, people=people, initial={"to": order.assignee_id})
    status = 200
    if request.method == "POST" and form.is_valid():
        to = form.cleaned_data["to"]
        try:
            workflow.assign_order(order, by=request.user, to=to)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        except Refused as exc:
            form.add_error("to" if exc.field == "to" else None, exc.message)
        else:
            messages.success(
                request,
                _("Order %(order)s: handled by %(person)s now.") % {"order": order, "person": person(to)},
            )
            return HttpResponseRedirect(_order_url(order))
    if form.errors:
        status = 400
    response = _render(
        model_admin,
        request,
        order,
        _("Assign order %(order)s") % {"order": order},
        form=form,
        action=request.path,
    )
    response.status_code = status
    return response


@admin.action(description=gettext_lazy("Assign selected orders to…"), permissions=["assign_order"])
def assign_selected(
    model_admin: ModelAdmin, request: HttpRequest, queryset: QuerySet[Order]
) -> HttpResponse | None:
    """Ask whom to, then assign each order on its own (each refusal named)."""
    orders = bounded_selection(
        request, queryset, _("Select at most %(limit)d orders to assign; none was assigned.")
    )
    if orders is None:
        return None
    stores = sorted({o.store_id for o in orders})
    # Only people who may handle orders of every store selected are offered; the workflow checks
    # each order anyway.
    people = assignable_people(stores)
    for store_id in stores:
        people = people.filter(pk__in=assignable_people(store_id).values("pk"))
    form = AssignForm(request.POST if "apply" in request.POST else None, people=people)
    if "apply" in request.POST and form.is_valid():
        to = form.cleaned_data["to"]
        done, refused = workflow.assign_orders([o.pk for o in orders], by=request.user, to=to)
        report_orders(
            request,
            done,
            [(next((o for o in orders if o.pk == pk), pk), why) for pk, why in refused],
            lambda n: ngettext(
                "Assigned %(count)d order to %(person)s: %(orders)s.",
                "Assigned %(count)d orders to %(person)s: %(orders)s.",
                n,
            ).replace("%(person)s", person(to).replace("%", "%%")),
        )
        return None
    context = {
        **model_admin.admin_site.each_context(request),
        "opts": model_admin.model._meta,
        "title": _("Assign orders"),
        "form": form,
        "orders": orders,
        "action_checkbox_name": ACTION_CHECKBOX_NAME,
        "select_across": request.POST.get("select_across", "0"),
        "index": request.POST.get("index", "0"),
    }
    return TemplateResponse(request, "admin/orders/order/bulk_assign.html", context)
