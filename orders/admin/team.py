"""The supervisor's team page, ``/admin/orders/team/``, and each person's "My notifications".

Pages of no model: screens of the admin site itself (``admin.site.register_screen`` below).

- **Team** (``orders.assign_order``: Supervisors): each person of the supervisor's stores with
  their open orders (a link to them in the order list), the oldest wait among them, the steps
  they took this week and how fast they answered buyers; the orders nobody handles; buyer
  answers per store and the time orders wait in each state; and a bulk reassignment ("move the
  open orders of … to …", through ``workflow.assign_orders``). ``?store=<id>`` narrows it to one
  of the supervisor's stores; another store's id is refused like an unknown one.
- **My notifications** (every staff member): how they are told of work handed to them — an email
  each time, or one a day — and in which language (``workflow.team.set_preference``).
"""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.http import urlencode
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext, pgettext_lazy

from shopops.admin_base import ShopopsAdminSite
from shopops.errors import NotPermitted, Refused

from .. import policy, workflow
from ..models import HandoffDelivery, Order, StaffPreference, Store
from ..people import person
from ..selectors.response import hours, waiting_times
from ..selectors.team import open_orders_of, team_people, team_view
from ..workflow import team as team_flow
from ..workflow.assignment import ASSIGN_PERMISSION
from .actions import BULK_ACTION_LIMIT, report_refused
from .assignment import PersonChoiceField


class StoreChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Store) -> str:
        return f"{obj.code} · {obj.name}"


class TeamFilterForm(forms.Form):
    store = StoreChoiceField(
        label=gettext_lazy("Store"),
        queryset=Store.objects.none(),
        required=False,
        empty_label=gettext_lazy("All my stores"),
        error_messages={"invalid_choice": gettext_lazy("Choose one of your stores.")},
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = policy.stores(user)


class ReassignForm(forms.Form):
    """Move every open order one person handles (in the page's stores) to another, or to nobody."""

    source = PersonChoiceField(label=gettext_lazy("Move the open orders of"), queryset=None)
    target = PersonChoiceField(
        label=pgettext_lazy("move the open orders of someone", "to"),
        queryset=None,
        required=False,
        empty_label=gettext_lazy("Nobody"),
    )

    def __init__(self, *args, holders, people, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = holders
        self.fields["target"].queryset = people


def _list_url(**query: str) -> str:
    return f"{reverse('admin:orders_order_changelist')}?{urlencode(query)}"


def team_page(site: ShopopsAdminSite, request: HttpRequest) -> HttpResponse:
    """GET: the team of the supervisor's stores; POST: a bulk reassignment, then the page again."""
    user = request.user
    if not policy.may(user, ASSIGN_PERMISSION):
        raise PermissionDenied(_("The team page is for supervisors."))
    query = request.GET.copy()
    filters = TeamFilterForm(query or None, user=user)
    context = {**site.each_context(request), "title": _("Team"), "filters": filters, "view": None}
    if query and not filters.is_valid():
        return TemplateResponse(request, "admin/orders/team.html", context, status=400)
    store = filters.cleaned_data.get("store") if query else None
    now = timezone.now()
    view = team_view(user, now=now, store=store)
    holders_ids = [m.user.pk for m in view.members if m.open_orders]
    people = team_people(user, store)
    holders = people.model.objects.filter(pk__in=holders_ids).order_by("username")
    reassign = ReassignForm(request.POST or None, holders=holders, people=people)
    if request.method == "POST" and reassign.is_valid():
        source, target = reassign.cleaned_data["source"], reassign.cleaned_data["target"]
        orders = list(
            open_orders_of(user, source.pk, store).values_list("pk", flat=True)[: BULK_ACTION_LIMIT + 1]
        )
        if len(orders) > BULK_ACTION_LIMIT:
            messages.error(
                request,
                _(
                    "%(person)s has more than %(limit)d open orders: move them from the order list, "
                    "a page at a time."
                )
                % {"person": person(source), "limit": BULK_ACTION_LIMIT},
            )
            return HttpResponseRedirect(request.get_full_path())
        try:
            done, refused = workflow.assign_orders(orders, by=user, to=target)
        except NotPermitted as exc:
            raise PermissionDenied(exc.message) from exc
        if done:
            messages.success(
                request,
                ngettext(
                    "Moved %(count)d order from %(source)s to %(target)s.",
                    "Moved %(count)d orders from %(source)s to %(target)s.",
                    len(done),
                )
                % {"count": len(done), "source": person(source), "target": person(target)},
            )
        named = Order.objects.in_bulk([pk for pk, _why in refused])
        for pk, why in refused:
            report_refused(request, named[pk], why)
        return HttpResponseRedirect(request.get_full_path())
    responses = view.responses
    overdue = responses.overdue_hours
    # The links list the rows counted: open orders (the pool's, for Nobody), of the page's stores.
    narrowed = {"store": str(store.pk)} if store is not None else {}
    rows = [
        {
            "member": m,
            "orders_url": _list_url(assignee=str(m.user.pk), open="yes", **narrowed),
            "oldest_hours": hours(m.oldest_wait(now)),
            "answered": m.responses.answered if m.responses else 0,
            "median_hours": m.responses.median_hours if m.responses else None,
            "overdue": m.responses.overdue if m.responses else 0,
            "waiting": m.responses.waiting if m.responses else 0,
        }
        for m in view.members
    ]
    context.update(
        view=view,
        rows=rows,
        nobody_url=_list_url(assignee="nobody", open="pool", **narrowed),
        nobody_hours=hours(now - view.unassigned_since) if view.unassigned_since else None,
        unanswered=responses.operator(None),
        by_store=responses.by_store,
        states=waiting_times(user, view.week_start, now, now=now, store=store),
        overdue_hours=f"{overdue:g}",
        reassign=reassign,
        store=store,
    )
    return TemplateResponse(
        request, "admin/orders/team.html", context, status=400 if reassign.errors else 200
    )


class PreferenceForm(forms.Form):
    handoffs = forms.ChoiceField(
        label=gettext_lazy("Work handed to me, by email"),
        choices=HandoffDelivery.choices,
        widget=forms.RadioSelect,
        help_text=gettext_lazy(
            "The team chat hears of every hand-off as it happens, whichever you choose here."
        ),
    )
    language = forms.ChoiceField(label=gettext_lazy("Language of the emails"), required=False)

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["language"].choices = [("", _("The back office's default")), *settings.LANGUAGES]


def notifications_page(site: ShopopsAdminSite, request: HttpRequest) -> HttpResponse:
    """Every staff member's own choice: an email for each hand-off, or one a day."""
    user = request.user
    current = StaffPreference.objects.filter(user=user).first()
    initial = {
        "handoffs": current.handoffs if current else HandoffDelivery.EACH,
        "language": current.language if current else "",
    }
    form = PreferenceForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        try:
            team_flow.set_preference(by=user, **form.cleaned_data)
        except Refused as exc:
            form.add_error(exc.field if exc.field in form.fields else None, exc.message)
        else:
            messages.success(request, _("Your choice is saved."))
            return HttpResponseRedirect(request.path)
    context = {
        **site.each_context(request),
        "title": _("My notifications"),
        "form": form,
        "email": user.email,
    }
    return TemplateResponse(
        request, "admin/orders/notifications.html", context, status=400 if form.errors else 200
    )


admin.site.register_screen("orders/team/", team_page, "orders_team")
admin.site.register_screen("orders/team/notifications/", notifications_page, "orders_team_notifications")
