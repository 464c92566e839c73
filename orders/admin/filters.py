"""The list filters of the admin: typed-in filters (a name, a date range) and the worklist's.

The worklist filters are yes/no questions answered by a selector, so the list, the worklist
count on the admin index and the background jobs agree on what "overdue" means. Parameter names
are part of the worklist's links: keep them.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from django.contrib import admin, messages
from django.db.models import Exists, OuterRef
from django.utils import timezone
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _

from .. import policy, selectors
from ..models import PurchaseStatus, SupplierOrder
from ..people import person
from ..selectors import queues
from ..selectors.team import team_people

# --- typed-in filters -------------------------------------------------------------------------


class InputFilter(admin.ListFilter):
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


class SupplierFilter(InputFilter):
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


class PurchaseStatusFilter(admin.SimpleListFilter):
    """Orders whose 1688 purchase is in a given state (placed, shipped by the supplier, …)."""

    title = _("1688 purchase")
    parameter_name = "purchase"

    def lookups(self, request, model_admin):
        return PurchaseStatus.choices

    def queryset(self, request, queryset):
        value = self.value()
        if value not in PurchaseStatus.values:
            return queryset
        # EXISTS, not a join: an order with two purchases must not appear twice.
        return queryset.filter(Exists(SupplierOrder.objects.filter(order=OuterRef("pk"), status=value)))


class DateRangeFilter(InputFilter):
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


class PlacedDateFilter(DateRangeFilter):
    title = _("placed")
    field_name = "placed_at"
    inputs = [("placed_from", _("From"), "date"), ("placed_to", _("To"), "date")]


class ClosedDateFilter(DateRangeFilter):
    title = _("closed")
    field_name = "closed_at"
    inputs = [("closed_from", _("From"), "date"), ("closed_to", _("To"), "date")]


# --- the worklist's filters: each one a selector ---------------------------------------------
# Each selector takes the user and reads only their stores (``orders.policy``), so neither the
# rows nor the counts a filter shows (the admin's facets) can name another store's, whatever
# queryset the list hands it.


class SelectorFilter(admin.SimpleListFilter):
    """Shows only the rows the selector returns when the filter is set to its one value."""

    value_label = _("Yes")
    selected = "yes"

    def lookups(self, request, model_admin):
        return [(self.selected, self.value_label)]

    def select(self, request, queryset):
        """The selector's rows for ``request.user``, as a subquery (``pk IN``) of the list's queryset."""
        raise NotImplementedError

    def queryset(self, request, queryset):
        if self.value() == self.selected:
            return self.select(request, queryset)
        return queryset


class SupplierRefundOverdueFilter(SelectorFilter):
    title = _("supplier refund overdue")
    parameter_name = "overdue"

    def select(self, request, queryset):
        found = selectors.supplier_refunds_overdue(timezone.now(), request.user)
        return queryset.filter(pk__in=found.values("pk"))


class RefundNotArrivedFilter(SelectorFilter):
    title = _("refund not arrived")
    parameter_name = "not_arrived"

    def select(self, request, queryset):
        found = selectors.refunds_not_arrived(timezone.now(), request.user)
        return queryset.filter(pk__in=found.values("pk"))


class UnpaidTimingOutSoonFilter(SelectorFilter):
    title = _("unpaid, about to time out")
    parameter_name = "timeout_soon"

    def select(self, request, queryset):
        found = selectors.unpaid_timing_out_soon(timezone.now(), request.user)
        return queryset.filter(pk__in=found.values("pk"))


class WaitingOnBuyerFilter(SelectorFilter):
    title = _("waiting on the buyer")
    parameter_name = "waiting_on_buyer"

    def select(self, request, queryset):
        found = selectors.waiting_on_buyer(timezone.now(), request.user)
        return queryset.filter(pk__in=found.values("pk"))


class OpenFollowupFilter(SelectorFilter):
    """The feedback queue: follow-ups not finished yet, oldest first."""

    title = _("follow-up open")
    parameter_name = "followup"
    selected = "open"
    value_label = _("Open (new or buyer contacted)")

    def select(self, request, queryset):
        found = selectors.open_negative_feedback(request.user)
        return queryset.filter(pk__in=found.values("pk")).order_by("followup_opened_at", "id")


class QueueFilter(admin.SimpleListFilter):
    """The supervisor's queues of the admin index (``selectors.queues.QUEUES``), one value each:
    offered, as on the index, only the queues the user can work (``policy.may_any``); none, no
    filter. A queue's link still lists its orders for whoever may view them."""

    title = _("supervisor's queue")
    parameter_name = "queue"

    def lookups(self, request, model_admin):
        return [
            (queue.key, queue.label)
            for queue in queues.QUEUES
            if policy.may_any(request.user, queue.permissions)
        ]

    def queryset(self, request, queryset):
        queue = queues.QUEUES_BY_KEY.get(self.value() or "")
        if queue is None:
            return queryset
        # The queue's own conditions added to the list's, not "pk IN (the queue)": a second scan
        # of the orders that PostgreSQL may plan as a loop over both when its statistics are
        # stale (a restored database: a count of the demo's 10,000 orders ran over 30 minutes).
        return queryset & queue.select(timezone.now(), request.user)


class WaitingOnMeFilter(admin.SimpleListFilter):
    """Orders of the user's stores whose next step is their job (``selectors.queues.waiting_on``)."""

    title = _("next step")
    parameter_name = "waiting_on"

    def lookups(self, request, model_admin):
        return [("me", _("Waiting on me"))]

    def queryset(self, request, queryset):
        if self.value() != "me":
            return queryset
        return queryset.filter(queues.waiting_on_condition(request.user))


class MineFilter(admin.SimpleListFilter):
    """ "Mine": the open orders I am handling, and the ones whose next step is mine
    (``selectors.queues.mine``). The index's "Mine" links here."""

    title = _("mine")
    parameter_name = "mine"

    def lookups(self, request, model_admin):
        return [("yes", _("Mine"))]

    def queryset(self, request, queryset):
        if self.value() != "yes":
            return queryset
        return queryset.filter(queues.mine_condition(request.user))


class AssigneeFilter(admin.SimpleListFilter):
    """Who is handling the order: me, nobody, or one of the people of my stores (the team page's
    links). Another value — a person of no store of mine, or none — lists nothing."""

    title = _("handled by")
    parameter_name = "assignee"

    def lookups(self, request, model_admin):
        people = team_people(request.user)
        return [
            ("me", _("Me")),
            ("nobody", _("Nobody")),
            *((str(someone.pk), person(someone)) for someone in people if someone.pk != request.user.pk),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == "me":
            return queryset.filter(assignee_id=request.user.pk)
        if value == "nobody":
            return queryset.filter(assignee__isnull=True)
        if not value.isdigit() or len(value) > 18:
            return queryset.none()
        return queryset.filter(assignee_id=int(value))


class OpenFilter(admin.SimpleListFilter):
    """Open orders, as the team page counts them (its links carry this filter, so a count and the
    rows behind it agree): ``yes`` — not closed or completed (a person's open orders); ``pool`` —
    open and waiting on us, unpaid and shipped orders aside (they wait on the buyer or the carrier:
    the *Nobody* row's). Another value lists nothing."""

    title = _("still open")
    parameter_name = "open"

    def lookups(self, request, model_admin):
        return [
            ("yes", _("Open: not closed or completed")),
            ("pool", _("Open and waiting on us: not unpaid, not shipped")),
        ]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        if value == "yes":
            return queryset.exclude(status__in=queues.FINISHED)
        if value == "pool":
            return queryset.exclude(status__in=(*queues.FINISHED, *queues.NOT_POOLED))
        return queryset.none()


# The SKU list's report of repeated stock-outs: at least this many out-of-stock closes.
REPEATED_OUT_OF_STOCK = 2


class RepeatedOutOfStockFilter(SelectorFilter):
    """SKUs closed for ``out_of_stock`` at least twice in the user's stores
    (``selectors.skus_with_repeated_out_of_stock``)."""

    title = _("repeated out-of-stock closes")
    parameter_name = "repeated_oos"

    def lookups(self, request, model_admin):
        return [(self.selected, gettext("%(n)d or more") % {"n": REPEATED_OUT_OF_STOCK})]

    def select(self, request, queryset):
        repeated = selectors.skus_with_repeated_out_of_stock(request.user, REPEATED_OUT_OF_STOCK)
        return queryset.filter(pk__in=repeated.values("pk")).order_by("-oos_closes", "code")
