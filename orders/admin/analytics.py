"""The close analytics page, ``/admin/orders/analytics/``, and the CSV export of its tables.

A page of no model: a screen of the admin site itself (``admin.site.register_screen`` below,
wired by the site's ``get_urls``). Every filter is a GET parameter, so a view can be bookmarked
or shared; ``?export=<table>`` returns that table as CSV with the same filters. Analysts and
supervisors (``orders.view_analytics``) may look; anyone else on the staff gets 403.

Every figure, chart, table and CSV counts only the orders of the user's stores
(``orders.policy``); ``?store=<id>`` narrows them to one of those stores. The response times
(answers to buyers per store and per operator, the time in each waiting state:
``orders.selectors.response``) follow the period and the store; the other filters are of closes.
Another store's id is refused like an unknown one, with the form's error and no figures.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext

from shopops import csvout
from shopops.admin_base import ShopopsAdminSite

from .. import policy
from ..models import DisputeWith, Outcome, Store
from ..selectors.analytics import CloseAnalytics, close_analytics, closed_ledgers
from ..selectors.closes import group_closes
from ..selectors.costs import CostOfCloses, CostRow, cost_of_closes
from ..selectors.ledger import CSV_COLUMNS, csv_rows
from ..selectors.recommendations import Recommendation, recommend
from ..selectors.response import ResponseRow, ResponseTimes, StateRow, response_times, waiting_times

DEFAULT_DAYS = 30
MAX_DAYS = 731  # two years of daily points is the most a chart can still show
# Dates outside these years are typing mistakes, and near the calendar's ends the period's
# bounds (the day after the end, 30 days before it) would not exist: refuse them, never a 500.
EARLIEST, LATEST = date(2000, 1, 1), date(2099, 12, 31)


# A browser's date input shows and sends ISO dates in every language: rendered in the active
# language's format (zh-hans: 2026/11/01) it stays empty, and the form sends an empty date.
ISO_DATE = "%Y-%m-%d"


def _date_field(label: str) -> forms.DateField:
    return forms.DateField(
        label=label,
        required=False,
        input_formats=[ISO_DATE],
        widget=forms.DateInput(attrs={"type": "date"}, format=ISO_DATE),
    )


class StoreChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Store) -> str:
        return f"{obj.code} · {obj.name}"


class AnalyticsFilterForm(forms.Form):
    """The view's period and filters, all optional; bad values are refused with a reason.

    The store is one of ``user``'s (``policy.stores``): any other id, whether it names another
    store or none, gets the same error, so the form says nothing of stores the user may not see.
    """

    store = StoreChoiceField(
        label=gettext_lazy("Store"),
        queryset=Store.objects.none(),
        required=False,
        empty_label=gettext_lazy("All my stores"),
        error_messages={"invalid_choice": gettext_lazy("Choose one of your stores.")},
    )
    start = _date_field(gettext_lazy("From"))
    end = _date_field(gettext_lazy("To"))
    supplier = forms.CharField(label=gettext_lazy("Supplier"), required=False, max_length=200)
    sku = forms.CharField(label=gettext_lazy("SKU"), required=False, max_length=64)
    country = forms.CharField(
        label=gettext_lazy("Country"),
        required=False,
        widget=forms.TextInput(attrs={"size": 3, "placeholder": "ES"}),
    )
    bucket = forms.ChoiceField(
        label=gettext_lazy("Over time by"),
        required=False,
        choices=[("day", gettext_lazy("Day")), ("week", gettext_lazy("Week"))],
    )

    def __init__(self, *args, user, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["store"].queryset = policy.stores(user)

    def clean_country(self) -> str:
        value = self.cleaned_data["country"].strip().upper()
        if value and not (len(value) == 2 and value.isascii() and value.isalpha()):
            raise forms.ValidationError(_("Give the country as a two-letter ISO code, for example ES."))
        return value

    def clean(self) -> dict:
        data = super().clean()
        if self.errors:
            return data
        for given in (data.get("start"), data.get("end")):
            if given is not None and not EARLIEST <= given <= LATEST:
                raise forms.ValidationError(
                    _("Choose dates between %(earliest)s and %(latest)s.")
                    % {"earliest": EARLIEST.isoformat(), "latest": LATEST.isoformat()}
                )
        today = timezone.localdate()
        end = data.get("end") or today
        start = data.get("start") or end - timedelta(days=DEFAULT_DAYS - 1)
        if start > end:
            raise forms.ValidationError(
                _("The period starts after it ends: %(start)s is later than %(end)s.")
                % {"start": start, "end": end}
            )
        if (end - start).days + 1 > MAX_DAYS:
            raise forms.ValidationError(_("Choose a period of at most %(days)d days.") % {"days": MAX_DAYS})
        data.update(
            start=start,
            end=end,
            supplier=data.get("supplier", "").strip(),
            sku=data.get("sku", "").strip(),
            bucket=data.get("bucket") or "day",
        )
        return data


def _hours(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def _amount(value: float) -> str:
    """``value`` with one decimal at most: 20 not 20.0, 2.5 as it is."""
    return f"{round(value, 1):g}"


def duration_text(median: timedelta | None, count: int) -> str:
    """A median time to close in words, in the unit its size calls for: minutes under an hour,
    hours under two days, days beyond. No closes: "—", never a median of nothing; a flow closed in
    one step (an unpaid order's close) took no time at all, and says so."""
    if not count or median is None:
        return "—"
    seconds = median.total_seconds()
    if seconds <= 0:
        return _("in one step, no wait")
    if seconds < 60:
        return _("under a minute")
    if seconds < 3600:
        minutes = round(seconds / 60)
        return ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes}
    hours = seconds / 3600
    if hours < 48:
        return ngettext("%(n)s hour", "%(n)s hours", 1 if round(hours, 1) == 1 else 2) % {"n": _amount(hours)}
    return ngettext("%(n)s day", "%(n)s days", 2) % {"n": _amount(hours / 24)}


def _cost_rows(rows: list[CostRow], with_key: bool = True) -> list[tuple]:
    """A cost table's rows; ``with_key`` keeps the group's key before its label (a SKU's code)."""
    return [((r.key,) if with_key else ()) + (r.label, r.cost, r.closes, r.incomplete) for r in rows]


def _cost_tables(costs: CostOfCloses, bucket: str) -> dict:
    cost = _("Cost (%(currency)s)") % {"currency": costs.currency}
    tail = [cost, _("Closes"), _("Incomplete ledgers")]
    return {
        "costs": (
            _("Cost of closes by reason"),
            [_("Reason"), *tail],
            _cost_rows(costs.by_reason, with_key=False),
        ),
        "cost_over_time": (
            _("Cost of closes over time"),
            [_("Week starting") if bucket == "week" else _("Day"), cost],
            [(day.isoformat(), value) for day, value in costs.over_time],
        ),
        "cost_suppliers": (
            _("Cost of closes per supplier"),
            [_("Supplier"), *tail],
            _cost_rows(costs.by_supplier, with_key=False),
        ),
        "cost_skus": (_("Cost of closes per SKU"), [_("SKU"), _("Title"), *tail], _cost_rows(costs.by_sku)),
        "cost_countries": (
            _("Cost of closes per country"),
            [_("Country"), *tail],
            _cost_rows(costs.by_country, with_key=False),
        ),
    }


def _dispute_rows(data: CloseAnalytics) -> list[tuple]:
    """Whose dispute, its outcome, how many, and the currency it was decided in."""
    who = dict(DisputeWith.choices)
    outcomes = dict(Outcome.choices)
    return [
        (
            str(who.get(counterparty, _("(not recorded)"))),
            str(outcomes.get(outcome, outcome)),
            n,
            "CNY" if counterparty == DisputeWith.SUPPLIER else _("the sale's currency"),
        )
        for counterparty, outcome, n in data.disputes
    ]


def _tables(data: CloseAnalytics, recommendations: list[Recommendation], costs: CostOfCloses) -> dict:
    """Each exportable table: (title, header, rows). The page and the CSV show the same rows, for
    people: close reasons, stages and flows by their names, never their codes (the loss ledger's
    CSV keeps the columns of SPEC §10, codes included: ``?export=ledger``)."""
    return {
        **_cost_tables(costs, data.bucket),
        "reasons": (
            _("Closes by reason"),
            [_("Reason"), _("Closes"), _("Share %")],
            [(r.label, r.count, r.share) for r in data.by_reason],
        ),
        "stages": (
            _("Closes by stage reached"),
            [_("Stage"), _("Closes"), _("Share %")],
            [(r.label, r.count, r.share) for r in data.by_stage],
        ),
        "over_time": (
            _("Closes over time"),
            [_("Week starting") if data.bucket == "week" else _("Day"), _("Closes")],
            [(day.isoformat(), n) for day, n in data.over_time],
        ),
        "suppliers": (
            _("Top suppliers by closes"),
            [_("Supplier"), _("Closes"), _("Share %")],
            [(r.label, r.count, r.share) for r in data.by_supplier],
        ),
        "skus": (
            _("Top SKUs by closes"),
            [_("SKU"), _("Title"), _("Closes"), _("Share %")],
            [(r.key, r.label, r.count, r.share) for r in data.by_sku],
        ),
        "medians": (
            _("Median time to close, per flow"),
            [_("Flow"), _("Closes"), _("Median time to close")],
            [(m.label, m.count, duration_text(m.median, m.count)) for m in data.medians],
        ),
        "out_of_stock": (
            _("SKUs with repeated out-of-stock closes"),
            [_("SKU"), _("Out-of-stock closes")],
            data.repeated("out_of_stock", 2),
        ),
        "disputes": (
            _("Disputes by counterparty and outcome"),
            [_("Dispute with"), _("Outcome"), _("Closes"), _("Decided in")],
            _dispute_rows(data),
        ),
        "recommendations": (
            _("Recommended actions"),
            [_("Action"), _("Why")],
            [(r.action, r.why) for r in recommendations],
        ),
    }


def _response_tables(responses: ResponseTimes, states: list[StateRow]) -> dict:
    """Buyer answers per store and per operator, and the time in each waiting state: the period
    and the store filter apply (the supplier, SKU and country filters are of closes only)."""
    over = _("Overdue (over %(hours)s h)") % {"hours": f"{responses.overdue_hours:g}"}
    tail = [_("Buyers answered"), _("Median answer (hours)"), over, _("Still waiting")]

    def rows(found: list[ResponseRow]) -> list[tuple]:
        return [(r.label, r.answered, _hours(r.median_hours), r.overdue, r.waiting) for r in found]

    return {
        "responses_stores": (
            _("Answers to buyers, per store"),
            [_("Store"), *tail],
            rows(responses.by_store),
        ),
        "responses_operators": (
            _("Answers to buyers, per operator"),
            [_("Operator"), *tail],
            rows(responses.by_operator),
        ),
        "waiting_states": (
            _("Time in each waiting state"),
            [
                _("State"),
                _("Store"),
                _("Waits ended"),
                _("Median wait (hours)"),
                _("Waiting now"),
                _("Longest wait now (hours)"),
            ],
            [
                (r.label, r.store, r.ended, _hours(r.median_hours), r.waiting_now, _hours(r.oldest_hours))
                for r in states
            ],
        ),
    }


def _period(start: date, end: date) -> tuple[datetime, datetime]:
    """The period's bounds as instants: from ``start``'s midnight to the midnight after ``end``."""
    tz = timezone.get_current_timezone()
    return datetime.combine(start, time.min, tz), datetime.combine(end + timedelta(days=1), time.min, tz)


def _csv_response(
    name: str, header: list[str], rows: Iterable[Iterable[object]], params: dict
) -> HttpResponse:
    """Table ``name`` as a CSV file named after the view (its store, its period)."""
    store = f"{params['store'].code}-" if params["store"] else ""
    filename = f"close-analytics-{name}-{store}{params['start'].isoformat()}-{params['end'].isoformat()}.csv"
    # A BOM so that Excel on a Chinese system opens the UTF-8 labels correctly; numbers stay
    # numbers, text that a spreadsheet would run is quoted (shopops.csvout, as in order exports).
    # Written to memory first: the ledger of a quarter is tens of thousands of rows, one
    # write to the response each would cost more than the rows themselves.
    text = io.StringIO()
    writer = csvout.writer(text, bom=True)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(text.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response


def _chart_data(data: CloseAnalytics, costs: CostOfCloses) -> dict:
    return {
        "costs": {
            "labels": [r.label for r in costs.by_reason],
            "values": [float(r.cost) for r in costs.by_reason],
            "name": _("Cost (%(currency)s)") % {"currency": costs.currency},
        },
        "cost_over_time": {
            "labels": [d.isoformat() for d, _v in costs.over_time],
            "values": [float(v) for _d, v in costs.over_time],
        },
        "reasons": {"labels": [r.label for r in data.by_reason], "counts": [r.count for r in data.by_reason]},
        "stages": {"labels": [r.label for r in data.by_stage], "counts": [r.count for r in data.by_stage]},
        "over_time": {
            "labels": [d.isoformat() for d, _n in data.over_time],
            "counts": [n for _d, n in data.over_time],
        },
        "suppliers": {
            "labels": [r.label for r in data.by_supplier],
            "counts": [r.count for r in data.by_supplier],
        },
        "skus": {"labels": [r.key for r in data.by_sku], "counts": [r.count for r in data.by_sku]},
        "closes_label": _("Closes"),
    }


def analytics_view(site: ShopopsAdminSite, request: HttpRequest) -> HttpResponse:
    """Close analytics for the period and filters in the query string (default: last 30 days)."""
    if not policy.may(request.user, "orders.view_analytics"):
        raise PermissionDenied(_("Close analytics are for analysts and supervisors."))
    user = request.user
    form = AnalyticsFilterForm(request.GET or None, user=user)
    export = request.GET.get("export", "")
    context = {
        **site.each_context(request),
        "title": _("Close analytics"),
        "form": form,
        "data": None,
    }
    if request.GET and not form.is_valid():
        if export:
            errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
            return HttpResponseBadRequest(
                _("Nothing exported: %(errors)s") % {"errors": errors},
                content_type="text/plain; charset=utf-8",
            )
        return TemplateResponse(request, "admin/orders/analytics.html", context, status=400)
    if not request.GET:
        form = AnalyticsFilterForm({}, user=user)
        form.is_valid()
    params = form.cleaned_data
    # Show the period actually used (the defaults filled in), not the blanks that were sent.
    context["form"] = AnalyticsFilterForm(initial=params, user=user)
    # The user's stores, or the one of theirs the form accepted: the same for every figure.
    view = {
        "user": user,
        "store": params["store"],
        "supplier": params["supplier"] or None,
        "sku": params["sku"] or None,
        "country": params["country"] or None,
    }
    # The closes' kept ledger (orders.workflow.ledger): read, never converted here.
    entries = closed_ledgers(params["start"], params["end"], **view)
    if export == "ledger":
        # The loss ledger itself, one row per close: the columns of ``manage.py loss_ledger``.
        return _csv_response("ledger", CSV_COLUMNS, csv_rows(entries), params)
    # One set of grouped reads for the counts and the costs (orders.selectors.closes).
    groups = group_closes(entries)
    data = close_analytics(params["start"], params["end"], bucket=params["bucket"], groups=groups, **view)
    costs = cost_of_closes(entries, params["start"], params["end"], bucket=params["bucket"], groups=groups)
    now = timezone.now()
    recommendations = recommend(data, user=user, now=now, costs=costs)
    start_at, end_at = _period(params["start"], params["end"])
    responses = response_times(user, start_at, end_at, now=now, store=params["store"])
    states = waiting_times(user, start_at, end_at, now=now, store=params["store"])
    tables = {**_tables(data, recommendations, costs), **_response_tables(responses, states)}
    if export:
        if export not in tables:
            return HttpResponseBadRequest(
                _("Unknown table “%(name)s”; choose one of: %(names)s.")
                % {"name": export, "names": ", ".join(tables)},
                content_type="text/plain; charset=utf-8",
            )
        _title, header, rows = tables[export]
        return _csv_response(export, header, rows, params)

    query = request.GET.copy()
    query.pop("export", None)
    context.update(
        data=data,
        recommendations=recommendations,
        tables={name: {"title": t, "header": h, "rows": r} for name, (t, h, r) in tables.items()},
        chart_data=_chart_data(data, costs),
        costs=costs,
        responses=responses,
        query=query.urlencode(),
        start=params["start"],
        end=params["end"],
    )
    return TemplateResponse(request, "admin/orders/analytics.html", context)


admin.site.register_screen("orders/analytics/", analytics_view, "orders_analytics")
