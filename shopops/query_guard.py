"""No query string reaches the database unchecked: one middleware for the whole admin.

PostgreSQL refuses a NUL byte in a text parameter, Python's ``datetime`` stops at the year 9999
and a 64-bit column at 2**63: a filter link edited by hand (``?close_reason=%00``,
``?created_at__year=99999999999999999999``) used to end in a 500 deep inside a list's query.
:class:`AdminQueryGuard` checks every parameter of every admin page before the view runs and
answers **400 with a readable message** naming the parameter when one cannot be right:

- any parameter (name or value, every page) holding a NUL byte, or absurdly long;
- on a model's list (and on a screen that reads the list's query, like the order export), **any
  parameter the list does not offer**: deny by default. A list accepts only what its own links and
  forms produce — the parameters of its list filters (``expected_parameters()`` of each filter:
  ``status__exact``, ``assignee__id__exact``, ``created_at__gte`` ..., a custom filter's own name
  such as ``followup`` or ``placed_from``), the ``store`` filter, its date hierarchy's ``__year`` /
  ``__month`` / ``__day``, and search, ordering, paging, facets and popups. Any other lookup or field
  path (``buyer_name__regex``, ``order__buyer_email__startswith``) would reach the database as a
  condition nobody offered — a regular expression PostgreSQL cannot compile was a 500;
- on a model's list, each accepted lookup parameter (``field``, ``field__exact``, ``fk__id__exact``,
  ``field__in``, ``field__isnull``, ``date__year`` / ``__month`` / ``__day``, ``__gte`` / ``__lt``
  on a date ...) checked against the model field it names: a choice must be one of the field's
  choices, a number must be a number the column holds, a date a date within years 1000 to 9000,
  a year / month / day a calendar one. A custom filter's own parameter (a ``SimpleListFilter``'s
  ``parameter_name``: ``followup``, ``placed_from``) is left to that filter, which checks its own
  values — also when a field has the same name: the order list's *handled by* filter reads
  ``assignee`` (``me``, ``nobody`` or a person's id), which is not a value of the ``assignee`` column.

A new list is covered without any code: the guard reads the list's admin from the admin site's
registry, and a new filter brings its own parameters. ``tests/test_admin_crawl.py`` crawls every
page with hostile values, and every lookup Django knows on every field path a list accepts.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal, InvalidOperation

from django.contrib import admin
from django.contrib.admin import FieldListFilter, ListFilter, SimpleListFilter
from django.contrib.admin.options import IS_FACETS_VAR, IS_POPUP_VAR, TO_FIELD_VAR
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.admin.views.main import ALL_VAR, ERROR_FLAG, ORDER_VAR, PAGE_VAR, SEARCH_VAR
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.db.models.constants import LOOKUP_SEP
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _

MAX_PARAMETER = 2000  # characters of one parameter's value: a search term, a list of ids
_CONTROL = {
    SEARCH_VAR,
    ORDER_VAR,
    PAGE_VAR,
    ALL_VAR,
    ERROR_FLAG,
    IS_POPUP_VAR,
    TO_FIELD_VAR,
    IS_FACETS_VAR,
    "_changelist_filters",
}
# The Store filter of a store-scoped list (``orders.admin.scoped.StoreFilter``): offered to users
# of several stores, accepted from anyone (it shows nothing outside the user's stores).
STORE_PARAMETER = "store"
_DATE_PARTS = {
    "year": (1000, 9000),
    "month": (1, 12),
    "day": (1, 31),
    "week_day": (1, 7),
    "iso_year": (1000, 9000),
}
_COMPARISONS = {"exact", "iexact", "gt", "gte", "lt", "lte", "in", "range"}
_INTEGER_LIMITS = {
    models.SmallIntegerField: (-32768, 32767),
    models.PositiveSmallIntegerField: (0, 32767),
    models.IntegerField: (-2147483648, 2147483647),
    models.PositiveIntegerField: (0, 2147483647),
    models.BigIntegerField: (-(2**63), 2**63 - 1),
    models.PositiveBigIntegerField: (0, 2**63 - 1),
    models.AutoField: (-2147483648, 2147483647),
    models.SmallAutoField: (-32768, 32767),
    models.BigAutoField: (-(2**63), 2**63 - 1),
}


class BadQuery(Exception):
    """A parameter that cannot be right; the message names it."""


def _integer_limits(field: models.Field) -> tuple[int, int]:
    for cls in type(field).__mro__:
        if cls in _INTEGER_LIMITS:
            return _INTEGER_LIMITS[cls]
    return -(2**63), 2**63 - 1


def _check_integer(name: str, value: str, low: int, high: int) -> None:
    text = value.strip()
    if not (text.lstrip("-").isdigit() and text.isascii() and len(text) <= 20 and low <= int(text) <= high):
        raise BadQuery(
            _("The filter “%(name)s” needs a whole number from %(low)d to %(high)d, not “%(value)s”.")
            % {"name": name, "low": low, "high": high, "value": value[:50]}
        )


def _check_value(name: str, field: models.Field, lookup: str, value: str) -> None:
    """Refuse ``value`` for ``field__lookup`` when the field could never hold it."""
    if lookup == "isnull":
        if value.lower() not in ("true", "false", "1", "0", ""):
            raise BadQuery(_("The filter “%(name)s” needs true or false.") % {"name": name})
        return
    if lookup in _DATE_PARTS:
        low, high = _DATE_PARTS[lookup]
        _check_integer(name, value, low, high)
        return
    if lookup not in _COMPARISONS:
        return
    values = value.split(",") if lookup in ("in", "range") else [value]
    for one in values:
        _check_one(name, field, one)


def _check_one(name: str, field: models.Field, value: str) -> None:
    if field.choices and not isinstance(field, models.BooleanField):
        allowed = {str(key) for key, _label in field.flatchoices}
        if value not in allowed:
            raise BadQuery(
                _("The filter “%(name)s” has no choice “%(value)s”.") % {"name": name, "value": value[:50]}
            )
        return
    if isinstance(field, models.ForeignKey):
        field = field.target_field
    if isinstance(field, models.BooleanField):
        if value.lower() not in ("true", "false", "1", "0", "none", ""):
            raise BadQuery(_("The filter “%(name)s” needs true or false.") % {"name": name})
    elif isinstance(field, models.IntegerField | models.AutoField):
        low, high = _integer_limits(field)
        _check_integer(name, value, low, high)
    elif isinstance(field, models.DecimalField):
        try:
            number = Decimal(value)
        except InvalidOperation:
            number = None
        if number is None or not number.is_finite() or number.adjusted() >= (field.max_digits or 30):
            raise BadQuery(
                _("The filter “%(name)s” needs a number, not “%(value)s”.")
                % {"name": name, "value": value[:50]}
            )
    elif isinstance(field, models.DateField):  # DateTimeField too
        _check_date(name, value)
    elif isinstance(field, models.UUIDField):
        try:
            uuid.UUID(value)
        except ValueError:
            raise BadQuery(_("The filter “%(name)s” needs an identifier.") % {"name": name}) from None


def _check_date(name: str, value: str) -> None:
    text = value.strip()
    try:
        moment = dt.datetime.fromisoformat(text)
    except ValueError:
        moment = None
    if moment is None or not 1000 <= moment.year <= 9000:
        raise BadQuery(
            _(
                "The filter “%(name)s” needs a date between the years 1000 and 9000, like 2026-03-01, "
                "not “%(value)s”."
            )
            % {"name": name, "value": value[:50]}
        )


def _field_and_lookup(model: type[models.Model], name: str) -> tuple[models.Field, str] | None:
    """The model field a lookup parameter names, and its lookup (``exact`` when none), or None."""
    parts = name.split(LOOKUP_SEP)
    opts = model._meta
    field: models.Field | None = None
    for index, part in enumerate(parts):
        try:
            field = opts.get_field(part)
        except FieldDoesNotExist:
            if field is None:
                return None
            rest = parts[index:]
            # ``fk__id__exact`` reads as the target field; ``date__year`` as a date part.
            return (field, rest[-1]) if len(rest) <= 2 else None
        if field.is_relation and index < len(parts) - 1 and field.related_model is not None:
            opts = field.related_model._meta
    if field is None or (field.is_relation and not field.many_to_one):
        return None
    return field, "exact"


_FILTER_PARAMETERS: dict[tuple[int, object], frozenset[str]] = {}


def _filter_parameters(
    model_admin: admin.ModelAdmin, list_filter: object, request: HttpRequest
) -> frozenset[str]:
    """The parameters one entry of ``list_filter`` reads, as the change list builds it.

    A filter's parameter names do not depend on the data, so each is worked out once per process
    (a related field's filter reads its choices when it is built).
    """
    key = (id(model_admin), list_filter)
    if key not in _FILTER_PARAMETERS:
        model = model_admin.model
        if isinstance(list_filter, type) and issubclass(list_filter, SimpleListFilter):
            names = [list_filter.parameter_name]
        elif isinstance(list_filter, type) and issubclass(list_filter, ListFilter):
            names = list_filter(request, {}, model, model_admin).expected_parameters()
        else:
            if isinstance(list_filter, tuple | list):
                field_path, filter_class = list_filter
            else:
                field_path, filter_class = list_filter, FieldListFilter.create
            field = field_path
            if not isinstance(field_path, models.Field):
                field = get_fields_from_path(model, field_path)[-1]
            else:
                field_path = field.name
            spec = filter_class(field, request, {}, model, model_admin, field_path=field_path)
            names = spec.expected_parameters()
        _FILTER_PARAMETERS[key] = frozenset(name for name in names if name)
    return _FILTER_PARAMETERS[key]


def own_parameters(model_admin: admin.ModelAdmin, request: HttpRequest) -> frozenset[str]:
    """The parameters of ``model_admin``'s list that its custom filters (``SimpleListFilter``) read
    and check themselves: never checked as the model field of the same name, if there is one."""
    return frozenset(
        list_filter.parameter_name
        for list_filter in model_admin.get_list_filter(request)
        if isinstance(list_filter, type) and issubclass(list_filter, SimpleListFilter)
    )


def list_parameters(model_admin: admin.ModelAdmin, request: HttpRequest) -> frozenset[str]:
    """Every parameter the list of ``model_admin`` accepts (see the module docstring)."""
    names = set(_CONTROL) | {STORE_PARAMETER}
    for list_filter in model_admin.get_list_filter(request):
        names |= _filter_parameters(model_admin, list_filter, request)
    if model_admin.date_hierarchy:
        names |= {f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")}
    return frozenset(names)


def check_parameters(
    request: HttpRequest,
    model: type[models.Model] | None,
    accepted: frozenset[str] | None = None,
    own: frozenset[str] = frozenset(),
) -> None:
    """Raise ``BadQuery`` for the first parameter of ``request`` that cannot be right.

    ``accepted``: on a list, the parameters it accepts (``list_parameters``); any other is refused.
    ``own``: the parameters its custom filters check themselves (``own_parameters``).
    """
    for name, values in request.GET.lists():
        if "\x00" in name or any("\x00" in value for value in values):
            raise BadQuery(
                _("The parameter “%(name)s” contains a NUL character, which no value may hold.")
                % {"name": name.replace("\x00", "\\0")[:50]}
            )
        if len(name) > 200 or any(len(value) > MAX_PARAMETER for value in values):
            raise BadQuery(_("The parameter “%(name)s” is too long.") % {"name": name[:50]})
        # ``status=paid`` is ``status__exact=paid``, which the filter's links write.
        if accepted is not None and name not in accepted and f"{name}{LOOKUP_SEP}exact" not in accepted:
            raise BadQuery(
                _("“%(name)s” is not a filter of this list: use the filters, search and ordering it offers.")
                % {"name": name[:50]}
            )
        if model is None or name in _CONTROL or name in own:
            continue
        found = _field_and_lookup(model, name)
        if found is None:
            continue
        field, lookup = found
        for value in values:
            _check_value(name, field, lookup, value)


def _changelist_admins() -> dict[str, admin.ModelAdmin]:
    return {
        f"{model._meta.app_label}_{model._meta.model_name}_changelist": model_admin
        for model, model_admin in admin.site._registry.items()
    }


def _list_of(request: HttpRequest, view_func) -> tuple[admin.ModelAdmin, frozenset[str]] | None:
    """The admin whose list query this page reads, and the page's own extra parameters, or None.

    A list; or a screen wired with ``screen(..., list_query=...)`` (the order export).
    """
    model_admin = _changelist_admins().get(request.resolver_match.url_name or "")
    if model_admin is not None:
        return model_admin, frozenset()
    declared = getattr(view_func, "shopops_list_query", None)
    if declared is not None and isinstance(declared[0], admin.ModelAdmin):
        return declared[0], frozenset(declared[1])
    return None


class AdminQueryGuard:
    """Middleware: a 400 with the reason for a parameter no admin page could use (module docstring)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(self, request: HttpRequest, view_func, view_args, view_kwargs) -> HttpResponse | None:
        match = request.resolver_match
        if match is None or match.namespace != admin.site.name:
            return None
        found = _list_of(request, view_func)
        try:
            if found is None:
                check_parameters(request, None)
            else:
                model_admin, own = found
                accepted = list_parameters(model_admin, request) | own
                check_parameters(request, model_admin.model, accepted, own_parameters(model_admin, request))
        except BadQuery as bad:
            context = {
                **admin.site.each_context(request),
                "title": _("This address cannot be right"),
                "reason": str(bad),
            }
            return TemplateResponse(request, "admin/bad_query.html", context, status=400)
        return None
