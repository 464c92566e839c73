"""Admin list filters for the work that is waiting; the admin index worklist links to them.

Each filter is a yes/no question answered by a selector, so the list, the worklist count and
the background jobs agree on what "overdue" means. Parameter names are part of the worklist's
links: keep them.
"""

from django.contrib import admin
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from . import selectors


class _SelectorFilter(admin.SimpleListFilter):
    """Shows only the rows the selector returns when the filter is set to "yes"."""

    selector = None

    def lookups(self, request, model_admin):
        return [("yes", _("Yes"))]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.filter(pk__in=type(self).selector(timezone.now()).values("pk"))
        return queryset


class SupplierRefundOverdueFilter(_SelectorFilter):
    title = _("supplier refund overdue")
    parameter_name = "overdue"
    selector = staticmethod(selectors.supplier_refunds_overdue)


class RefundNotArrivedFilter(_SelectorFilter):
    title = _("refund not arrived")
    parameter_name = "not_arrived"
    selector = staticmethod(selectors.refunds_not_arrived)


class UnpaidTimingOutSoonFilter(_SelectorFilter):
    title = _("unpaid, about to time out")
    parameter_name = "timeout_soon"
    selector = staticmethod(selectors.unpaid_timing_out_soon)


class WaitingOnBuyerFilter(_SelectorFilter):
    title = _("waiting on the buyer")
    parameter_name = "waiting_on_buyer"
    selector = staticmethod(selectors.waiting_on_buyer)
