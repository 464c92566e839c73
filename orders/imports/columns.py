"""The per-column parsers of an import row (SPEC section 6): each cell to its stored value.

Each column has a full parser (``full_parsers``), which accepts every form the contract allows
and says why a value is refused (``BadValue``), and a *fast path* (``fast_parsers``) for the
common, plainly valid form of its value. Both give the same values. The full parsers are the
project's one set of input parsers (``shopops.inputs``: dates within the sane window — never an
overflow on the year 1 or 9999 —, amounts, quantities, emails, phones, languages, text), with
the import's own forms around them (currency signs, platform statuses, country codes).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any
from zoneinfo import ZoneInfo

import pycountry
from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops import inputs
from shopops.errors import Refused
from shopops.money import CENT

from ..models import FORWARD_PATH, Order, Sku, Status, Store, SupplierOrder


class BadValue(Exception):
    """A value that cannot be imported; the message says why."""


# SPEC section 6. English labels are accepted as well, for files exported from Shopops' admin.
STATUS_VALUES: dict[str, str] = {
    "PLACE_ORDER_SUCCESS": Status.AWAITING_PAYMENT,
    "待付款": Status.AWAITING_PAYMENT,
    "RISK_CONTROL": Status.PAID,
    "WAIT_SELLER_SEND_GOODS": Status.PAID,
    "待发货": Status.PAID,
    "SELLER_PART_SEND_GOODS": Status.SHIPPED,
    "WAIT_BUYER_ACCEPT_GOODS": Status.SHIPPED,
    "已发货": Status.SHIPPED,
    "FUND_PROCESSING": Status.COMPLETED,
    "FINISH": Status.COMPLETED,
    "交易成功": Status.COMPLETED,
    **{str(status): str(status) for status in FORWARD_PATH},
    **{str(status.label).lower(): str(status) for status in FORWARD_PATH},
}
# Plain str values, not enum members: psycopg's COPY adapts a str subclass through a slower path.
STATUS_VALUES = {key: str(value) for key, value in STATUS_VALUES.items()}
OWN_STATUS_CODES = frozenset(Status.values)

_AMOUNT = re.compile(
    r"^(?:US\s*\$|\$|¥|￥|€|£|USD|CNY|RMB)?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(?:元|USD|CNY|RMB)?$",
    re.IGNORECASE,
)
# A minus sign (ASCII hyphen, Unicode minus, full-width hyphen-minus) before the first digit.
_MINUS = re.compile(r"^(\D*?)[-−－]\s*(?=\d)")
E164 = re.compile(r"^\+[1-9]\d{6,14}$")

# How much later than now an import's time may be: the platform's clock and zone may be ahead.
FUTURE_SKEW = timedelta(days=1)


def _checked(parse: Callable[..., Any], value: str, column: str, **options: Any) -> Any:
    """``shopops.inputs`` parser ``parse`` on a cell: its refusal as the import's ``BadValue``."""
    try:
        return parse(value, column, **options)
    except Refused as refused:
        raise BadValue(refused.message) from None


@cache
def _countries() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


@cache
def _currencies() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def _max_length(model: type[models.Model], name: str) -> int:
    return model._meta.get_field(name).max_length


# Columns whose value may span lines; every other text is one line (an order id, a SKU or a
# tracking number with a line break in it is refused, whether from a file or a platform).
MULTILINE = frozenset({"notes", "product_title"})


def _text(max_length: int, *, multiline: bool = False) -> Callable[[str, str], str]:
    """A text column: one line (an id, a name), or several (``MULTILINE``); no control
    character, no bidirectional override (``shopops.inputs.text``)."""

    def parse(value: str, column: str) -> str:
        return _checked(inputs.text, value, column, max_length=max_length, multiline=multiline)

    return parse


def parse_amount(value: str, column: str) -> Decimal:
    """``12.50``, ``US $12.50``, ``$12.50``, ``¥12.50``, ``￥1,234.50`` → Decimal; ``12,5元`` is refused."""
    match = _AMOUNT.match(value)
    if match is None and _AMOUNT.match(_MINUS.sub(r"\1", value, count=1)):
        # "-5", "US $-12.50", "−5": an amount that would read if it were not negative.
        raise BadValue(
            _("%(column)s '%(value)s': an amount cannot be negative") % {"column": column, "value": value}
        )
    if match is None:
        raise BadValue(
            _("%(column)s '%(value)s' is not an amount: write it with a dot for decimals, like 12.50")
            % {"column": column, "value": value}
        )
    digits = match.group(1).replace(",", "") + (match.group(2) or "")
    return _checked(inputs.amount, digits, column, allow_zero=True)


def parse_quantity(value: str, column: str) -> int:
    return _checked(inputs.quantity, value, column)


def _time_parser(zone: ZoneInfo) -> Callable[[str, str], datetime]:
    """ISO 8601 or what Excel on a Chinese system writes back (``YYYY/MM/DD HH:MM``); naive times
    in the platform's zone; within the sane window (``SHOPOPS_EARLIEST_DATE`` .. now + a day)."""

    def parse(value: str, column: str) -> datetime:
        return _checked(inputs.moment, value, column, zone=zone, skew=FUTURE_SKEW).astimezone(UTC)

    return parse


# Plain addresses (the vast majority) are accepted by this strict pattern in ~1 µs; anything else
# goes to Django's full validator (50 µs: 5 s per 100,000 rows if every address went there).
_PLAIN_EMAIL = re.compile(
    r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?\.)+[A-Za-z]{2,63}$"
)


def parse_email(value: str, column: str) -> str:
    if len(value) <= 254 and _PLAIN_EMAIL.match(value):
        return value
    return _checked(inputs.email, value, column)


def parse_phone(value: str, region: str | None) -> str:
    """E.164. A number already in E.164 form is kept (a full parse costs 60 µs: 6 s per 100,000
    rows); any other form is parsed with the buyer's country as the region and must be valid."""
    compact = value.replace(" ", "").replace("-", "")
    if E164.match(compact):
        return compact
    return _checked(inputs.phone, value, "buyer_phone", region=region)


def parse_country(value: str, column: str) -> str:
    code = value.upper()
    if code not in _countries():
        raise BadValue(
            _("%(column)s '%(value)s' is not an ISO 3166 two-letter country code (like ES, US, BR)")
            % {"column": column, "value": value}
        )
    return code


def parse_currency(value: str, column: str) -> str:
    code = value.upper()
    if code not in _currencies():
        raise BadValue(
            _("%(column)s '%(value)s' is not an ISO 4217 currency code (like USD, EUR, CNY)")
            % {"column": column, "value": value}
        )
    return code


def parse_language(value: str, column: str) -> str:
    return _checked(inputs.language, value, column, max_length=_max_length(Order, "buyer_language"))


def parse_status(value: str, column: str) -> str:
    status = STATUS_VALUES.get(value) or STATUS_VALUES.get(value.upper()) or STATUS_VALUES.get(value.lower())
    if status is None:
        raise BadValue(
            _(
                "%(column)s '%(value)s' is not an order status an import can set (one of: "
                "awaiting_payment, paid, shipped, completed, an AliExpress status such as "
                "WAIT_SELLER_SEND_GOODS, or 待付款 / 待发货 / 已发货 / 交易成功)"
            )
            % {"column": column, "value": value}
        )
    return status


def full_parsers(zone: ZoneInfo | None = None) -> dict[str, Callable[[str, str], Any]]:
    """The full parser of each column: ``parse(value, column)`` → value, or raises ``BadValue``.

    ``zone``: the zone of times written without one (default ``SHOPOPS_PLATFORM_TZ``, the CSV's;
    the AliExpress pull passes US Pacific).
    """
    times = _time_parser(zone or ZoneInfo(settings.SHOPOPS_PLATFORM_TZ))
    return {
        "order_id": _text(_max_length(Order, "platform_order_id")),
        "status": parse_status,
        "placed_at": times,
        "paid_at": times,
        "shipped_at": times,
        "buyer_name": _text(_max_length(Order, "buyer_name")),
        "buyer_email": parse_email,
        "buyer_phone": _text(64),  # normalised after the row, once the country is known
        "buyer_country": parse_country,
        "buyer_language": parse_language,
        "sku": _text(_max_length(Sku, "code")),
        "product_title": _text(_max_length(Order, "product_title"), multiline=True),
        "quantity": parse_quantity,
        "unit_price": parse_amount,
        "total_amount": parse_amount,
        "currency": parse_currency,
        "supplier_name": _text(_max_length(SupplierOrder, "supplier_name")),
        "supplier_contact": parse_email,
        "supplier_order_id": _text(_max_length(SupplierOrder, "supplier_order_id")),
        "supplier_amount": parse_amount,
        "tracking_number": _text(_max_length(Order, "tracking_number")),
        "carrier": _text(_max_length(Order, "carrier")),
        "notes": _text(10_000, multiline=True),
        "store": _text(_max_length(Store, "code")),  # which store: orders.imports.stores
        # Not a CSV column: the platform's own status, when the pull gives it beside ours.
        "platform_status": _text(_max_length(Order, "platform_status")),
    }


# --- the same checks, fast ------------------------------------------------------------------
#
# A 100,000-row file must parse in a few seconds, so each column also has a *fast path* for the
# common, plainly valid form of its value (a dict or set lookup, one precompiled regex, a cache of
# values already seen). Anything the fast path does not recognise goes to the full parser above,
# which accepts the unusual forms and words the error: results and messages are the same.

MISS = object()  # "not the common form: ask the full parser"
_PLAIN_AMOUNT = re.compile(r"\d{1,10}(?:\.\d\d)?")
_CACHE_LIMIT = 50_000  # distinct values kept per column cache (bounded memory)


class Fast:
    """A column's fast path: ``known`` values (the valid ones of a closed set, or those already
    parsed: files repeat prices, times, countries, statuses) looked up first, then ``parse``
    (``None``: nothing else is common), whose results are remembered when ``remember`` (at most
    ``_CACHE_LIMIT`` of them). Looked up inline by ``rows.RowParser``: no call for a known value.
    """

    __slots__ = ("known", "parse", "remember")

    def __init__(
        self,
        parse: Callable[[str], Any] | None,
        *,
        known: dict[str, Any] | None = None,
        remember: bool = True,
    ):
        self.parse = parse
        self.known: dict[str, Any] = {} if known is None else known
        self.remember = remember and parse is not None

    def __call__(self, value: str) -> Any:
        """The parsed value, or ``MISS`` for the full parser."""
        found = self.known.get(value, MISS)
        return self.new(value) if found is MISS else found

    def new(self, value: str) -> Any:
        """:meth:`__call__` for a value not in ``known``."""
        if self.parse is None:
            return MISS
        found = self.parse(value)
        if found is not MISS and self.remember:
            known = self.known
            if len(known) >= _CACHE_LIMIT:
                known.clear()
            known[value] = found
        return found


def fast_parsers(zone: ZoneInfo | None = None) -> dict[str, Fast | int]:
    """The fast path of each column (:class:`Fast`).

    For a text column, its maximum length: a value within it that is all printable characters
    (``str.isprintable``: no control, format or line-break character) is taken as it is.
    """
    zone = zone or ZoneInfo(settings.SHOPOPS_PLATFORM_TZ)
    earliest, latest = inputs.earliest(), timezone.now() + FUTURE_SKEW

    def time(value: str) -> Any:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return MISS
        if not 1 < moment.year < 9999:
            return MISS  # the full parser refuses it: converting the year 1 or 9999 may overflow
        if moment.tzinfo is None:
            # What ``moment.replace(tzinfo=zone).astimezone(UTC)`` gives (the zone's offset at
            # that wall time, fold 0), at a third of its cost: keyword arguments are slow.
            moment -= zone.utcoffset(moment)
            moment = datetime.combine(moment.date(), moment.time(), UTC)
        else:
            moment = moment.astimezone(UTC)
        return moment if earliest <= moment <= latest else MISS

    def amount(value: str) -> Any:
        return Decimal(value).quantize(CENT) if _PLAIN_AMOUNT.fullmatch(value) else MISS

    def quantity(value: str) -> Any:
        if value.isascii() and value.isdigit():
            number = int(value)
            if 1 <= number <= 2_147_483_647:
                return number
        return MISS

    def language(value: str) -> Any:
        try:
            return parse_language(value, "")
        except BadValue:
            return MISS

    def email(value: str) -> Any:
        return value if len(value) <= 254 and _PLAIN_EMAIL.match(value) else MISS

    def text(max_length: int) -> int:
        return max_length  # checked inline by rows.RowParser: no call for the commonest cells

    def closed(valid: Iterable[str]) -> Fast:
        return Fast(None, known={value: value for value in valid})

    times = Fast(time)
    amounts = Fast(amount)
    emails = Fast(email, remember=False)  # nearly every one different
    return {
        "order_id": text(_max_length(Order, "platform_order_id")),
        "status": Fast(None, known=STATUS_VALUES),
        "placed_at": times,
        "paid_at": times,
        "shipped_at": times,
        "buyer_name": text(_max_length(Order, "buyer_name")),
        "buyer_email": emails,
        "buyer_phone": text(64),
        "buyer_country": closed(_countries()),
        "buyer_language": Fast(language),
        "sku": text(_max_length(Sku, "code")),
        "product_title": text(_max_length(Order, "product_title")),
        "quantity": Fast(quantity),
        "unit_price": amounts,
        "total_amount": amounts,
        "currency": closed(_currencies()),
        "supplier_name": text(_max_length(SupplierOrder, "supplier_name")),
        "supplier_contact": emails,
        "supplier_order_id": text(_max_length(SupplierOrder, "supplier_order_id")),
        "supplier_amount": amounts,
        "tracking_number": text(_max_length(Order, "tracking_number")),
        "carrier": text(_max_length(Order, "carrier")),
        "notes": text(10_000),
        "store": text(_max_length(Store, "code")),
        "platform_status": text(_max_length(Order, "platform_status")),
    }
