"""CSV import of orders (SPEC section 6): one engine for the admin screen and ``import_orders``.

The rules, in the order the engine applies them:

1. **Encoding.** UTF-8, UTF-8 with a BOM and GBK/GB18030 are detected from the bytes (strict
   decoding of the whole file, never a guess that lets ``\\ufffd`` or mojibake through). Any
   other file is refused with a message telling the user how to save it.
2. **Header.** English or Chinese column names, in any order. Unknown, repeated and missing
   required columns are reported by name; nothing else is read.
3. **Rows.** Each value is parsed and normalised (platform-zone times → UTC, currency signs
   stripped, phone numbers to E.164, country / currency / email / status checked). Every bad
   value is reported with its spreadsheet row number (the header is row 1), column, value and
   why; a duplicate ``order_id`` too.
4. **All or nothing.** The whole file runs in one transaction, streamed in chunks so memory stays
   bounded; one invalid row anywhere and the transaction is rolled back — nothing is written.
   A dry run (the admin's preview) does everything and always rolls back.
5. **Writes.** New orders are inserted in bulk (PostgreSQL ``COPY``; ``bulk_create`` elsewhere)
   in the file's status, each with one ``imported`` history event; SKUs are created by code and
   supplier orders created or updated. Existing orders are compared field by field; an unchanged
   row writes nothing. A changed row is applied under a row lock in its own savepoint: its fields
   are updated and its status moves *forward only*, awaiting payment → paid → shipped →
   completed, through ``orders.workflow`` (one history event per move). A backwards move, a move
   of an order that is in a close workflow, or a move the workflow refuses is reported as
   *refused* for that row and nothing of the row is applied. Blank optional cells never erase
   what Shopops already holds.
6. **History.** An applied import is recorded (``OrderImport``: file, SHA-256, who, counts).
   The very same bytes imported again, while none of the file's orders has changed since an
   import of them that refused nothing, change nothing: that is said at once, without reading
   a row. Any other file is checked row by row — where a row's fingerprint shows it was
   applied as it is and its order untouched since, without parsing it (see ``_Fingerprint``).
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import gc
import hashlib
import io
import json
import operator
import re
from collections.abc import Callable, Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from pathlib import Path
from typing import Any, BinaryIO
from zoneinfo import ZoneInfo

import phonenumbers
import pycountry
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, models, transaction
from django.db.models import Q
from django.utils import formats, timezone
from django.utils.translation import gettext as _

from shopops.errors import Refused

from . import workflow
from .models import FORWARD_PATH, Order, OrderEvent, OrderImport, Sku, Status, SupplierOrder
from .resources import COLUMNS, DANGEROUS_PREFIXES

CHUNK_ROWS = 10_000
_COPY_BATCH = 1_000  # rows a COPY write carries: small enough for the server to work alongside
MAX_LISTED_ISSUES = 10_000  # every bad row is counted; the first 10,000 are listed (bounded memory)
SAVE_AS_HINT = (
    "Save the file as “CSV UTF-8 (Comma delimited)” in Excel (or as CSV in GBK on a Chinese system) "
    "and import it again."
)

# --- outcome --------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowIssue:
    """One problem with one row: where it is, what it says, and why it is wrong or refused."""

    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = _("row %(row)d") % {"row": self.row}
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    """What an import did (or, for a dry run or a file with errors, would do / did not do)."""

    file_name: str
    dry_run: bool = False
    file_error: str = ""
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[RowIssue] = field(default_factory=list)
    refused_count: int = 0
    errors: list[RowIssue] = field(default_factory=list)
    error_count: int = 0
    error_rows: set[int] = field(default_factory=set)
    moves: int = 0
    # The earlier import of the very same file that vouched for it: nothing was read.
    same_as: OrderImport | None = None

    @property
    def invalid(self) -> bool:
        """The file could not be imported at all: nothing was written."""
        return bool(self.file_error or self.error_count)

    @property
    def applied(self) -> bool:
        return not self.invalid and not self.dry_run

    @property
    def ok(self) -> bool:
        """Nothing invalid and nothing refused: what the command's exit status reports."""
        return not self.invalid and not self.refused_count

    @property
    def nothing_to_change(self) -> bool:
        return not self.invalid and not (self.new or self.updated)

    def add_error(self, issue: RowIssue) -> None:
        self.error_count += 1
        self.error_rows.add(issue.row)
        if len(self.errors) < MAX_LISTED_ISSUES:
            self.errors.append(issue)

    def add_refused(self, issue: RowIssue) -> None:
        self.refused_count += 1
        if len(self.refused) < MAX_LISTED_ISSUES:
            self.refused.append(issue)

    def summary(self) -> str:
        if self.file_error:
            return self.file_error
        if self.error_count:
            return _(
                "Nothing was imported: %(errors)d problem(s) in %(rows)d row(s) of %(file)s. "
                "Correct them and import the file again."
            ) % {"errors": self.error_count, "rows": len(self.error_rows), "file": self.file_name}
        counts = _("%(new)d new, %(updated)d updated, %(unchanged)d unchanged, %(refused)d refused") % {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "refused": self.refused_count,
        }
        if self.nothing_to_change and not self.refused_count:
            message = _("%(file)s changes nothing: every order is already as in the file (%(counts)s).") % {
                "file": self.file_name,
                "counts": counts,
            }
            if self.same_as is not None:
                message += " " + _(
                    "It is the same file as imported on %(when)s, and none of its orders has changed since."
                ) % {
                    "when": formats.date_format(
                        timezone.localtime(self.same_as.imported_at), "DATETIME_FORMAT"
                    )
                }
            return message
        if self.dry_run:
            return _("Preview of %(file)s: %(counts)s. Nothing has been written yet.") % {
                "file": self.file_name,
                "counts": counts,
            }
        return _("Imported %(file)s: %(counts)s.") % {"file": self.file_name, "counts": counts}


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header, size): nothing was imported."""


# --- 1. encoding ------------------------------------------------------------------------------

_DECODE_CHUNK = 1 << 20
# Characters that never appear in an order file but do in a wrongly decoded one: C0/C1 controls
# and the private-use area (where GB18030 puts byte pairs that no real GBK text uses).
_IMPLAUSIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\ufffd]")


def _decodes(raw: BinaryIO, encoding: str) -> bool:
    raw.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        while chunk := raw.read(_DECODE_CHUNK):
            if _IMPLAUSIBLE.search(decoder.decode(chunk)):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(raw: BinaryIO) -> str:
    """The encoding of an order file: ``utf-8-sig``, ``utf-8`` or ``gb18030``.

    Raises ``ImportFileError`` for anything else (UTF-16, Shift-JIS, a workbook, binary data)
    with a message telling the user how to save the file. Reads the whole file once or twice.
    """
    raw.seek(0)
    head = raw.read(4096)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (b"\x00" in head):
        what = (
            _("an Excel workbook") if head.startswith(b"PK\x03\x04") else _("not a CSV text file we can read")
        )
        raise ImportFileError(
            _("This file is %(what)s (it is UTF-16 or binary). %(hint)s")
            % {"what": what, "hint": _(SAVE_AS_HINT)}
        )
    if head.startswith(codecs.BOM_UTF8):
        if _decodes(raw, "utf-8-sig"):
            return "utf-8-sig"
    elif _decodes(raw, "utf-8"):
        return "utf-8"
    elif _decodes(raw, "gb18030"):
        return "gb18030"
    raise ImportFileError(
        _(
            "The file's encoding is not UTF-8 or GBK (Chinese): its text would be garbled, so "
            "nothing was imported. %(hint)s"
        )
        % {"hint": _(SAVE_AS_HINT)}
    )


class _CountingReader(io.RawIOBase):
    """Counts the bytes read, for the progress bar (cheap: one call per 8 KB read)."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)


# --- 2. header --------------------------------------------------------------------------------

_HEADER_NAMES: dict[str, str] = {}
for _column in COLUMNS:
    _HEADER_NAMES[_column.name] = _column.name
    _HEADER_NAMES[_column.chinese] = _column.name
_REQUIRED = [c.name for c in COLUMNS if c.required]


def map_header(header: list[str]) -> list[str]:
    """The contract column for each header cell (English or Chinese, any case, any order).

    Raises ``ImportFileError`` naming unknown, repeated and missing required columns.
    """
    mapped: list[str] = []
    unknown, repeated = [], []
    for cell in header:
        name = _HEADER_NAMES.get(cell.strip().lstrip("\ufeff").strip().lower()) or _HEADER_NAMES.get(
            cell.strip().lstrip("\ufeff").strip()
        )
        if name is None:
            unknown.append(cell.strip())
        elif name in mapped:
            repeated.append(cell.strip())
        mapped.append(name or "")
    missing = [name for name in _REQUIRED if name not in mapped]
    problems = []
    if unknown:
        problems.append(
            _("unknown column(s): %(columns)s") % {"columns": ", ".join(f"“{c}”" for c in unknown)}
        )
    if repeated:
        problems.append(
            _("column(s) given twice: %(columns)s") % {"columns": ", ".join(f"“{c}”" for c in repeated)}
        )
    if missing:
        problems.append(
            _("missing required column(s): %(columns)s")
            % {"columns": ", ".join(f"“{c}” ({_chinese(c)})" for c in missing)}
        )
    if problems:
        raise ImportFileError(
            _("The header row cannot be read: %(problems)s. The columns are: %(expected)s.")
            % {"problems": "; ".join(problems), "expected": ", ".join(c.name for c in COLUMNS)}
        )
    return mapped


def _chinese(name: str) -> str:
    return next(c.chinese for c in COLUMNS if c.name == name)


# --- 3. values ------------------------------------------------------------------------------


class _Bad(Exception):
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
_OWN_STATUS_CODES = frozenset(Status.values)
_FORWARD_INDEX = {str(status): index for index, status in enumerate(FORWARD_PATH)}
_MOVES = {Status.PAID: "mark_paid", Status.SHIPPED: "mark_shipped", Status.COMPLETED: "mark_completed"}

_AMOUNT = re.compile(
    r"^(?:US\s*\$|\$|¥|￥|€|£|USD|CNY|RMB)?\s*(\d{1,3}(?:,\d{3})+|\d+)(\.\d+)?\s*(?:元|USD|CNY|RMB)?$",
    re.IGNORECASE,
)
_WHOLE = re.compile(r"^\d+$")
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:[-_][a-z0-9]{2,8})*$")
_SLASH_TIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")


@cache
def _countries() -> frozenset[str]:
    return frozenset(country.alpha_2 for country in pycountry.countries)


@cache
def _currencies() -> frozenset[str]:
    return frozenset(currency.alpha_3 for currency in pycountry.currencies)


def _max_length(model: type[models.Model], name: str) -> int:
    return model._meta.get_field(name).max_length


def _text(max_length: int) -> Callable[[str, str], str]:
    def parse(value: str, column: str) -> str:
        if len(value) > max_length:
            raise _Bad(
                _("%(column)s is too long (at most %(n)d characters)") % {"column": column, "n": max_length}
            )
        return value

    return parse


def parse_amount(value: str, column: str) -> Decimal:
    """``12.50``, ``US $12.50``, ``$12.50``, ``¥12.50``, ``￥1,234.50`` → Decimal; ``12,5元`` is refused."""
    match = _AMOUNT.match(value)
    if match is None:
        raise _Bad(
            _("%(column)s '%(value)s' is not an amount: write it with a dot for decimals, like 12.50")
            % {"column": column, "value": value}
        )
    digits = match.group(1).replace(",", "") + (match.group(2) or "")
    amount = Decimal(digits)
    if amount != amount.quantize(workflow.CENT):
        raise _Bad(
            _("%(column)s '%(value)s' has more than two decimal places") % {"column": column, "value": value}
        )
    if amount >= Decimal("1e10"):
        raise _Bad(_("%(column)s '%(value)s' is too large") % {"column": column, "value": value})
    return amount.quantize(workflow.CENT)


def parse_quantity(value: str, column: str) -> int:
    if not _WHOLE.match(value):
        raise _Bad(_("%(column)s '%(value)s' is not a whole number") % {"column": column, "value": value})
    quantity = int(value)
    if quantity < 1:
        raise _Bad(_("%(column)s must be at least 1, not %(value)s") % {"column": column, "value": value})
    if quantity > 2_147_483_647:
        raise _Bad(_("%(column)s '%(value)s' is too large") % {"column": column, "value": value})
    return quantity


def _time_parser(zone: ZoneInfo) -> Callable[[str, str], datetime]:
    latest = timezone.now() + timedelta(days=1)

    def parse(value: str, column: str) -> datetime:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            moment = None
            for fmt in _SLASH_TIME_FORMATS:  # what Excel on a Chinese system writes back
                try:
                    moment = datetime.strptime(value, fmt)  # the zone is applied below
                    break
                except ValueError:
                    continue
            if moment is None:
                raise _Bad(
                    _("%(column)s '%(value)s' is not a valid date and time (use YYYY-MM-DD HH:MM[:SS])")
                    % {"column": column, "value": value}
                ) from None
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        moment = moment.astimezone(UTC)
        if moment > latest:
            raise _Bad(_("%(column)s '%(value)s' is in the future") % {"column": column, "value": value})
        return moment

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
    try:
        validate_email(value)
    except ValidationError:
        raise _Bad(
            _("%(column)s '%(value)s' is not a valid email address") % {"column": column, "value": value}
        ) from None
    if len(value) > 254:
        raise _Bad(_("%(column)s is too long (at most %(n)d characters)") % {"column": column, "n": 254})
    return value


def parse_phone(value: str, region: str | None) -> str:
    """E.164. A number already in E.164 form is kept (a full parse costs 60 µs: 6 s per 100,000
    rows); any other form is parsed with the buyer's country as the region and must be valid."""
    compact = value.replace(" ", "").replace("-", "")
    if _E164.match(compact):
        return compact
    try:
        number = phonenumbers.parse(value, region)
    except phonenumbers.NumberParseException:
        number = None
    if number is None or not phonenumbers.is_valid_number(number):
        raise _Bad(
            _("buyer_phone '%(value)s' is not a valid phone number for %(country)s")
            % {"value": value, "country": region or _("an unknown country")}
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def parse_country(value: str, column: str) -> str:
    code = value.upper()
    if code not in _countries():
        raise _Bad(
            _("%(column)s '%(value)s' is not an ISO 3166 two-letter country code (like ES, US, BR)")
            % {"column": column, "value": value}
        )
    return code


def parse_currency(value: str, column: str) -> str:
    code = value.upper()
    if code not in _currencies():
        raise _Bad(
            _("%(column)s '%(value)s' is not an ISO 4217 currency code (like USD, EUR, CNY)")
            % {"column": column, "value": value}
        )
    return code


def parse_language(value: str, column: str) -> str:
    code = value.lower().replace("_", "-")
    if not _LANGUAGE.match(code) or len(code) > _max_length(Order, "buyer_language"):
        raise _Bad(
            _("%(column)s '%(value)s' is not a language code (like en, es, zh-hans)")
            % {"column": column, "value": value}
        )
    return code


def parse_status(value: str, column: str) -> str:
    status = STATUS_VALUES.get(value) or STATUS_VALUES.get(value.upper()) or STATUS_VALUES.get(value.lower())
    if status is None:
        raise _Bad(
            _(
                "%(column)s '%(value)s' is not an order status an import can set (one of: "
                "awaiting_payment, paid, shipped, completed, an AliExpress status such as "
                "WAIT_SELLER_SEND_GOODS, or 待付款 / 待发货 / 已发货 / 交易成功)"
            )
            % {"column": column, "value": value}
        )
    return status


@dataclass
class _Parsers:
    by_column: dict[str, Callable[[str, str], Any]]

    @classmethod
    def build(cls) -> _Parsers:
        times = _time_parser(ZoneInfo(settings.SHOPOPS_PLATFORM_TZ))
        return cls(
            {
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
                "product_title": _text(_max_length(Order, "product_title")),
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
                "notes": _text(10_000),
            }
        )


# Required columns whose cells must not be blank either.
_REQUIRED_VALUES = (
    "order_id",
    "status",
    "placed_at",
    "buyer_name",
    "buyer_country",
    "sku",
    "quantity",
    "total_amount",
)


def _clean(cell: str) -> str:
    value = cell.strip()
    # Our own export writes formula-like cells with a leading quote; read them back as they were.
    if value[:1] == "'" and value[1:2].startswith(DANGEROUS_PREFIXES):
        value = value[1:].strip()
    return value


def parse_row(
    cells: list[str], header: list[str], parsers: _Parsers, row: int, report: Callable[[RowIssue], None]
) -> dict[str, Any] | None:
    """One row's normalised values by column (blank optional cells left out), or None if invalid.

    Every problem of the row is passed to ``report``, not just the first.
    """
    if len(cells) != len(header):
        report(
            RowIssue(
                row,
                "",
                "",
                _("the row has %(cells)d cells but the header has %(columns)d columns")
                % {"cells": len(cells), "columns": len(header)},
            )
        )
        return None
    values: dict[str, Any] = {}
    ok = True
    for column, cell in zip(header, cells, strict=True):
        value = cell.strip()
        if not value:
            continue
        if value[0] == "'":
            value = _clean(value)
        try:
            values[column] = parsers.by_column[column](value, column)
        except _Bad as bad:
            report(RowIssue(row, column, value, str(bad)))
            ok = False
    for column in _REQUIRED_VALUES:
        if column not in values and not any(
            c == column and _clean(cell) for c, cell in zip(header, cells, strict=True)
        ):
            report(RowIssue(row, column, "", _("%(column)s is required") % {"column": column}))
            ok = False
    if "status" in values:
        raw_status = _clean(cells[header.index("status")])
        # Our own codes come from a Shopops export, not from the platform: nothing to record.
        if raw_status not in _OWN_STATUS_CODES:
            values["platform_status"] = raw_status
    if "buyer_phone" in values:
        try:
            values["buyer_phone"] = parse_phone(values["buyer_phone"], values.get("buyer_country"))
        except _Bad as bad:
            report(RowIssue(row, "buyer_phone", values["buyer_phone"], str(bad)))
            ok = False
    placed = values.get("placed_at")
    for column in ("paid_at", "shipped_at"):
        if placed and column in values and values[column] < placed:
            report(
                RowIssue(
                    row,
                    column,
                    _clean(cells[header.index(column)]),
                    _("%(column)s is before placed_at") % {"column": column},
                )
            )
            ok = False
    return values if ok else None


# --- 3b. the same checks, fast ------------------------------------------------------------------
#
# A 100,000-row file must parse in a few seconds, so each column also has a *fast path* for the
# common, plainly valid form of its value (a dict or set lookup, one precompiled regex, a cache of
# values already seen). Anything the fast path does not recognise goes to the full parser above,
# which accepts the unusual forms and words the error: results and messages are the same.

_MISS = object()  # "not the common form: ask the full parser"
_PLAIN_AMOUNT = re.compile(r"\d{1,10}(?:\.\d\d)?")
_CACHE_LIMIT = 50_000  # distinct values kept per column cache (bounded memory)


def _cached(fast: Callable[[str], Any]) -> Callable[[str], Any]:
    """``fast`` memoised per distinct value (files repeat prices, times, countries, statuses)."""
    cache: dict[str, Any] = {}

    def lookup(value: str) -> Any:
        found = cache.get(value, _MISS)
        if found is _MISS:
            found = fast(value)
            if found is not _MISS:
                if len(cache) >= _CACHE_LIMIT:
                    cache.clear()
                cache[value] = found
        return found

    return lookup


def _fast_parsers() -> dict[str, Callable[[str], Any] | int]:
    """The fast path of each column: the parsed value, or ``_MISS`` for the full parser.

    For a text column, its maximum length: a value within it is taken as it is.
    """
    zone = ZoneInfo(settings.SHOPOPS_PLATFORM_TZ)
    latest = timezone.now() + timedelta(days=1)
    countries, currencies = _countries(), _currencies()

    def time(value: str) -> Any:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return _MISS
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=zone)
        moment = moment.astimezone(UTC)
        return _MISS if moment > latest else moment

    def amount(value: str) -> Any:
        return Decimal(value).quantize(workflow.CENT) if _PLAIN_AMOUNT.fullmatch(value) else _MISS

    def quantity(value: str) -> Any:
        if value.isascii() and value.isdigit():
            number = int(value)
            if 1 <= number <= 2_147_483_647:
                return number
        return _MISS

    def language(value: str) -> Any:
        try:
            return parse_language(value, "")
        except _Bad:
            return _MISS

    def email(value: str) -> Any:
        return value if len(value) <= 254 and _PLAIN_EMAIL.match(value) else _MISS

    def text(max_length: int) -> int:
        return max_length  # checked inline by _RowParser: no call for the commonest cells

    times = _cached(time)
    amounts = _cached(amount)
    return {
        "order_id": text(_max_length(Order, "platform_order_id")),
        "status": lambda value: STATUS_VALUES.get(value, _MISS),
        "placed_at": times,
        "paid_at": times,
        "shipped_at": times,
        "buyer_name": text(_max_length(Order, "buyer_name")),
        "buyer_email": email,
        "buyer_phone": text(64),
        "buyer_country": lambda value: value if value in countries else _MISS,
        "buyer_language": _cached(language),
        "sku": text(_max_length(Sku, "code")),
        "product_title": text(_max_length(Order, "product_title")),
        "quantity": quantity,
        "unit_price": amounts,
        "total_amount": amounts,
        "currency": lambda value: value if value in currencies else _MISS,
        "supplier_name": text(_max_length(SupplierOrder, "supplier_name")),
        "supplier_contact": email,
        "supplier_order_id": text(_max_length(SupplierOrder, "supplier_order_id")),
        "supplier_amount": amounts,
        "tracking_number": text(_max_length(Order, "tracking_number")),
        "carrier": text(_max_length(Order, "carrier")),
        "notes": text(10_000),
    }


class _RowParser:
    """``parse_row`` for one header, with each column's fast path tried first.

    Same values, same issues, in the same order as ``parse_row``: only quicker (about a fifth
    of the time on a typical file).
    """

    def __init__(self, header: list[str], parsers: _Parsers):
        self.header = header
        self.width = len(header)
        self.index = {column: i for i, column in enumerate(header)}
        fast = _fast_parsers()
        self.plan = [(i, column, fast[column], parsers.by_column[column]) for i, column in enumerate(header)]
        self._phone_ok = _cached(lambda value: value if _E164.match(value) else _MISS)

    def __call__(
        self, cells: list[str], row: int, report: Callable[[RowIssue], None]
    ) -> dict[str, Any] | None:
        if len(cells) != self.width:
            report(
                RowIssue(
                    row,
                    "",
                    "",
                    _("the row has %(cells)d cells but the header has %(columns)d columns")
                    % {"cells": len(cells), "columns": self.width},
                )
            )
            return None
        values: dict[str, Any] = {}
        ok = True
        for i, column, fast, full in self.plan:
            value = cells[i].strip()
            if not value:
                continue
            if value[0] == "'":
                value = _clean(value)
            if fast.__class__ is int:
                if len(value) <= fast:
                    values[column] = value
                    continue
                parsed = _MISS
            else:
                parsed = fast(value)
            if parsed is _MISS:
                try:
                    parsed = full(value, column)
                except _Bad as bad:
                    report(RowIssue(row, column, value, str(bad)))
                    ok = False
                    continue
            values[column] = parsed
        for column in _REQUIRED_VALUES:
            if column not in values:
                cell = cells[self.index[column]]
                if not _clean(cell):
                    report(RowIssue(row, column, "", _("%(column)s is required") % {"column": column}))
                    ok = False
        if "status" in values:
            raw_status = _clean(cells[self.index["status"]])
            if raw_status not in _OWN_STATUS_CODES:
                values["platform_status"] = raw_status
        phone = values.get("buyer_phone")
        if phone is not None and self._phone_ok(phone) is _MISS:
            try:
                values["buyer_phone"] = parse_phone(phone, values.get("buyer_country"))
            except _Bad as bad:
                report(RowIssue(row, "buyer_phone", phone, str(bad)))
                ok = False
        placed = values.get("placed_at")
        if placed:
            for column in ("paid_at", "shipped_at"):
                moment = values.get(column)
                if moment is not None and moment < placed:
                    report(
                        RowIssue(
                            row,
                            column,
                            _clean(cells[self.index[column]]),
                            _("%(column)s is before placed_at") % {"column": column},
                        )
                    )
                    ok = False
        return values if ok else None


# --- 4./5. the engine ----------------------------------------------------------------------------

# Row column → Order field, for the fields an import sets and compares.
ORDER_FIELDS = {
    "placed_at": "placed_at",
    "paid_at": "paid_at",
    "shipped_at": "shipped_at",
    "buyer_name": "buyer_name",
    "buyer_email": "buyer_email",
    "buyer_phone": "buyer_phone",
    "buyer_country": "buyer_country",
    "buyer_language": "buyer_language",
    "product_title": "product_title",
    "quantity": "quantity",
    "unit_price": "unit_price",
    "total_amount": "total_amount",
    "currency": "currency",
    "tracking_number": "tracking_number",
    "carrier": "carrier",
    "notes": "notes",
    "platform_status": "platform_status",
}
SUPPLIER_FIELDS = {
    "supplier_name": "supplier_name",
    "supplier_contact": "supplier_contact",
    "supplier_order_id": "supplier_order_id",
    "supplier_amount": "amount",
}
_COMPARED = ("id", "platform_order_id", "status", "sku_id", *ORDER_FIELDS.values())

# --- fingerprints: recognising a row imported before, untouched since ---------------------------
#
# ``Order.import_hash`` holds "<digest of the file row last applied>:<the order's updated_at then,
# in microseconds>". A row of a later file whose cells give the same digest, for an order whose
# ``updated_at`` has not moved (nobody has changed it since: every change through the ORM or the
# workflow moves it) and whose status is still the row's, is *unchanged* by definition: it was
# checked and applied as it is. It is counted without parsing, comparing or writing anything —
# which is what makes a re-import of a 100,000-row file take seconds. Any other row takes the
# full path (parse, compare, refuse or apply), and an applied row gets its new fingerprint.

_FINGERPRINT = "_fingerprint"  # key of the row's digest in its parsed values
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_DIGEST_CHARS = 32


def _stamped(digest: str, updated_at: datetime) -> str:
    return f"{digest}:{(updated_at - _EPOCH) // _MICROSECOND}"


def _rules() -> str:
    """The version of the parsing rules and the platform time zone, as one string.

    Bump the version when a parsing rule changes what the same cells mean: every row then
    takes the full path once (and is stamped anew if it changes anything), and no earlier
    import vouches for a file any more.
    """
    return f"v2\x1e{settings.SHOPOPS_PLATFORM_TZ}\x1e"


_Entry = tuple[int, str, str, str]  # a row as probed: position in its chunk, order id, status, text


class _Fingerprint:
    """The digest of a row's cells, in the contract's column order whatever the file's order.

    An absent optional column and a blank cell mean the same (“leave it as it is”), so both
    hash as an empty string. The platform time zone is part of the digest: the same cells mean
    other instants if it changes. ``\\x1f`` cannot occur in a cell (the decoder refuses control
    characters), so the join is unambiguous. The digest is the MD5 of ``seed + text(cells)`` in
    UTF-8 — a checksum against accidental change, not a security measure — so PostgreSQL can
    compute the same one (``md5(seed || text)``) and compare a whole chunk without Python
    hashing a row.
    """

    def __init__(self, header: list[str]):
        position = {column: i for i, column in enumerate(header)}
        self.blank = len(header)  # the index of the "" appended to each row while joining
        self.pick = operator.itemgetter(*(position.get(column.name, self.blank) for column in COLUMNS))
        self.seed = _rules()
        # A file with every column in the contract's order (our export, the template): its cells
        # are already in fingerprint order.
        self.in_order = header == [column.name for column in COLUMNS]

    def text(self, cells: list[str]) -> str:
        if self.in_order:
            return "\x1f".join(cells)
        cells.append("")
        try:
            return "\x1f".join(self.pick(cells))
        finally:
            cells.pop()

    def digest(self, text: str) -> str:
        return hashlib.md5((self.seed + text).encode(), usedforsecurity=False).hexdigest()


_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})
_COPY_NULL = "\\N"


def _copy_needs_escaping(text: str) -> bool:
    return "\\" in text or "\t" in text or "\n" in text or "\r" in text


def _copy_str(value: str) -> str:
    # Tabs, newlines and backslashes are the only characters COPY text needs escaped; they are
    # rare, so check (fast, in C) before translating.
    if "\\" in value or not value.isprintable():
        return value.translate(_COPY_ESCAPES)
    return value


def _copy_text(value: Any) -> str:
    """``value`` as a field of PostgreSQL's COPY text format (tab-separated, ``\\N`` for NULL)."""
    if isinstance(value, str):
        return _copy_str(value)
    if value is None:
        return _COPY_NULL
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # int, Decimal, date


def _copy_moment(value: datetime | None, _seen: dict[datetime, str] = {}) -> str:  # noqa: B006
    # Rows share their timestamps (the import's own "now" three times a row, repeated times):
    # remember the text of the ones seen, bounded.
    if value is None:
        return _COPY_NULL
    text = _seen.get(value)
    if text is None:
        if len(_seen) >= _CACHE_LIMIT:
            _seen.clear()
        text = _seen[value] = value.isoformat()
    return text


def _copy_formatter(field: models.Field) -> Callable[[Any], str]:
    """The cheapest correct COPY text formatter for the values of ``field``."""
    if isinstance(field, models.JSONField):
        encode = (field.encoder or json.JSONEncoder)(ensure_ascii=False).encode  # one encoder, reused
        return lambda value: _copy_str(encode(value))
    if isinstance(field, models.DateTimeField):
        return _copy_moment
    if isinstance(field, models.CharField | models.TextField) and not field.null:
        return _copy_str
    if isinstance(field, models.DecimalField | models.IntegerField | models.ForeignKey):
        return _copy_number
    return _copy_text


def _copy_number(value: Any) -> str:
    return _COPY_NULL if value is None else str(value)


def _insert(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    now: datetime,
    *,
    returning: bool = True,
    plain: bool = False,
) -> list[int]:
    """Insert ``rows`` (attname → value) and return their primary keys, in order (or nothing,
    without ``returning``: the table then numbers them itself).

    ``plain``: no text value contains a character COPY escapes (the caller has checked the
    file's cells they come from), so text is written as it is.

    On PostgreSQL: ids are drawn from the table's sequence in one query and the rows streamed
    with one ``COPY`` in text format, formatted here (a third of the cost of psycopg's
    ``write_row`` for these rows) — the physical floor, ten times faster than ``INSERT``. Fields
    the rows leave out get their model default, so a field added to the model later still
    imports. Elsewhere: ``bulk_create``.
    """
    if not rows:
        return []
    if connection.vendor != "postgresql":
        objects = [model(**row) for row in rows]
        model.objects.bulk_create(objects, batch_size=500)
        return [obj.pk for obj in objects]
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    # Each line starts as the defaults' text (after the id); only the values a row gives are
    # formatted.
    template = [""] if returning else []
    slots: dict[str, tuple[int, Callable[[Any], str]]] = {}
    for position, f in enumerate(fields, start=len(template)):
        default = (
            now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        )
        formatter = _copy_formatter(f)
        template.append(formatter(default))
        slots[f.attname] = (position, formatter)
    table, pk = model._meta.db_table, model._meta.pk.column
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in [*([pk] if returning else []), *(f.column for f in fields)])
    ids: list[int] = []
    with connection.cursor() as cursor:
        if returning:
            cursor.execute(
                # The sequence looked up once, not once a row; the ids come back as one array.
                "SELECT array_agg(nextval(s.seq)) "
                "FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) s, generate_series(1, %s)",
                [table, pk, len(rows)],
            )
            (ids,) = cursor.fetchone()
        # Written a batch at a time: PostgreSQL stores and indexes each batch on the other core
        # while this one formats the next.
        with cursor.copy(f"COPY {quote(table)} ({columns}) FROM STDIN") as copy:
            lines = []
            for index, row in enumerate(rows):
                parts = template.copy()
                if returning:
                    parts[0] = str(ids[index])
                for name, value in row.items():
                    position, formatter = slots[name]
                    parts[position] = value if value.__class__ is str and plain else formatter(value)
                lines.append("\t".join(parts))
                if len(lines) == _COPY_BATCH:
                    lines.append("")
                    copy.write("\n".join(lines))
                    lines = []
            if lines:
                lines.append("")
                copy.write("\n".join(lines))
    return ids


# --- the import history: recognising a file imported before, untouched since -----------------
#
# Every import that is not a dry run and has no invalid row is recorded (``OrderImport``) with
# the SHA-256 of its bytes. When it refused nothing, every order of the file is, right after
# it, as the file says; importing the very same bytes again under the same rules would then
# find every row unchanged — for as long as none of those orders changes. So the record also
# keeps the file's orders (primary keys, as runs ``[first, last]``) and a checksum of their
# ``updated_at`` (which every change of an order moves, the import's own included). A later
# import of the same bytes whose orders give the same checksum is counted as unchanged without
# reading a row; any other is checked row by row.

_MAX_RUNS = 1_000  # a file whose orders are scattered wider is checked row by row when imported again


@contextlib.contextmanager
def _index_lookups(cursor) -> Iterator[None]:
    """Plan the next statements as nested loops of index lookups (PostgreSQL).

    A temporary table has no statistics, and the orders' are stale right after a big import
    (they may say 17,000 rows where there are 200,000): the planner then reads and hashes all
    the orders (0.3 s a chunk) instead of probing the index once per row. The penalties that
    forbid those plans make any plan look costly enough to be compiled by the JIT — 0.2 s a
    statement for nothing — so the JIT is off too.
    """
    switches = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin", "jit")
    for name in switches:
        cursor.execute(f"SET LOCAL {name} = off")
    yield
    # Not after an error: the transaction is then aborted (and its rollback, to the savepoint
    # or whole, undoes the SET LOCAL anyway).
    for name in switches:
        cursor.execute(f"RESET {name}")


def _runs(pks: Iterable[int]) -> list[list[int]]:
    """Primary keys as runs of consecutive values, ``[first, last]``, ascending."""
    runs: list[list[int]] = []
    for pk in sorted(set(pks)):
        if runs and pk == runs[-1][1] + 1:
            runs[-1][1] = pk
        else:
            runs.append([pk, pk])
    return runs


def _checksum(runs: list[list[int]]) -> str:
    """``count:sum`` over the orders in ``runs`` of a 64-bit hash of (id, ``updated_at``).

    Only ever compared with a checksum the same database computed: a database upgrade that
    changes its hash functions makes earlier imports vouch for nothing (each row is then
    checked), never for something changed.
    """
    if not runs:
        return ""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor, _index_lookups(cursor):
            cursor.execute(
                "SELECT count(*), "
                "coalesce(sum(timestamp_hash_extended(o.updated_at AT TIME ZONE 'UTC', o.id)), 0) "
                "FROM unnest(%s::bigint[], %s::bigint[]) AS r(first, last) "
                "JOIN orders_order o ON o.id BETWEEN r.first AND r.last",
                [[first for first, _last in runs], [last for _first, last in runs]],
            )
            count, total = cursor.fetchone()
    else:
        count = total = 0
        for start in range(0, len(runs), 100):  # SQLite limits how deep an expression nests
            within = Q()
            for first, last in runs[start : start + 100]:
                within |= Q(pk__range=(first, last))
            for pk, updated in Order.objects.filter(within).values_list("pk", "updated_at"):
                count += 1
                moment = f"{pk}:{(updated - _EPOCH) // _MICROSECOND}".encode()
                total += int.from_bytes(hashlib.blake2b(moment, digest_size=8).digest(), "big", signed=True)
    return f"{count}:{total}"


def _same_file(sha256: str) -> OrderImport | None:
    """The last import that vouches for these bytes, if none of its orders has changed since."""
    previous = (
        OrderImport.objects.filter(sha256=sha256, rules=_rules()).exclude(checksum="").order_by("-id").first()
    )
    if previous is not None and _checksum(previous.order_ranges) == previous.checksum:
        return previous
    return None


def _record(result: ImportResult, engine: _Engine | None, sha256: str, by: AbstractBaseUser | None) -> None:
    runs: list[list[int]] = []
    checksum = ""
    if engine is not None and not result.refused_count:
        pks = set(engine.order_pks)  # one a row, new, updated or unchanged: else vouch for nothing
        runs = _runs(pks) if len(pks) == result.rows else []
        checksum = _checksum(runs) if len(runs) <= _MAX_RUNS else ""
        if not checksum.startswith(f"{len(pks)}:"):
            runs, checksum = [], ""
    OrderImport.objects.create(
        file_name=result.file_name[:255],
        sha256=sha256,
        rules=_rules(),
        imported_by=by,
        rows=result.rows,
        new=result.new,
        updated=result.updated,
        unchanged=result.unchanged,
        refused=result.refused_count,
        moves=result.moves,
        order_ranges=runs if checksum else [],
        checksum=checksum,
    )


def _sha256(raw: BinaryIO) -> str:
    raw.seek(0)
    digest = hashlib.sha256()
    while block := raw.read(1 << 20):
        digest.update(block)
    raw.seek(0)
    return digest.hexdigest()


class _Engine:
    def __init__(self, result: ImportResult, by: AbstractBaseUser | None):
        self.result = result
        self.by = by
        self.now = timezone.now()
        self.sku_ids: dict[str, int] = {}
        self.probe_table = False  # the temporary table of ``_probe_postgresql`` exists
        self.order_pks: list[int] = []  # the orders of the file's rows, as far as applied
        self.plain = False  # no cell of the current chunk contains a character COPY escapes

    # --- SKUs -------------------------------------------------------------------------------

    def _skus(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        titles: dict[str, str] = {}
        for _row, values in rows:
            if values["sku"] not in self.sku_ids:
                titles.setdefault(values["sku"], values.get("product_title", ""))
        if not titles:
            return
        found = Sku.objects.filter(code__in=list(titles)).values_list("code", "id", "title")
        blank_titles = []
        for code, pk, title in found:
            self.sku_ids[code] = pk
            if not title and titles[code]:
                blank_titles.append((pk, titles[code]))
        for pk, title in blank_titles:
            Sku.objects.filter(pk=pk).update(title=title)
        missing = [
            Sku(code=code, title=title, created_at=self.now)
            for code, title in titles.items()
            if code not in self.sku_ids
        ]
        if missing:
            Sku.objects.bulk_create(missing, batch_size=1000)
            for sku in missing:
                self.sku_ids[sku.code] = sku.pk

    # --- one chunk --------------------------------------------------------------------------

    def probe(self, entries: Iterable[_Entry], fingerprint: _Fingerprint) -> tuple[set[int], set[str]]:
        """Which ``entries`` — (position, order id, status, fingerprint text) — are unchanged,
        and which of their order ids Shopops already holds.

        A row is unchanged when its order exists, still has the row's status, and its
        fingerprint is this row's digest stamped with the order's current ``updated_at``.
        """
        if connection.vendor == "postgresql":
            return self._probe_postgresql(entries, fingerprint.seed)
        entries = list(entries)
        found = Order.objects.filter(platform_order_id__in=[order_id for _pos, order_id, _s, _t in entries])
        stored = {
            pid: (stamped, status, updated, pk)
            for pid, stamped, status, updated, pk in found.values_list(
                "platform_order_id", "import_hash", "status", "updated_at", "id"
            )
        }
        unchanged = set()
        for position, order_id, status, text in entries:
            record = stored.get(order_id)
            if (
                record is not None
                and record[1] == status
                and record[0] == _stamped(fingerprint.digest(text), record[2])
            ):
                unchanged.add(position)
                self.order_pks.append(record[3])
        return unchanged, set(stored)

    def _probe_postgresql(self, entries: Iterable[_Entry], seed: str) -> tuple[set[int], set[str]]:
        # The chunk's ids, statuses and fingerprint texts stream to a temporary table in one COPY
        # (PostgreSQL stores each batch on the other core while this one formats the next), and
        # PostgreSQL hashes and compares them in one join: a re-import hashes nothing in Python.
        kept: list[_Entry] = []
        with connection.cursor() as cursor:
            if not self.probe_table:
                cursor.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS shopops_import_probe "
                    "(pos integer, order_id text, status text, cells text) ON COMMIT DROP"
                )
                self.probe_table = True
            cursor.execute("TRUNCATE shopops_import_probe")
            self.plain = True
            with cursor.copy("COPY shopops_import_probe FROM STDIN") as copy:
                batch = []
                for entry in entries:
                    _position, order_id, status, text = entry
                    if _copy_needs_escaping(text):  # the id is one of the cells: escaped too
                        order_id, text = _copy_str(order_id), _copy_str(text)
                        self.plain = False
                    batch.append(f"{len(kept)}\t{order_id}\t{status}\t{text}\n")
                    kept.append(entry)
                    if len(batch) == _COPY_BATCH:
                        copy.write("".join(batch))
                        batch = []
                copy.write("".join(batch))
            with _index_lookups(cursor):
                cursor.execute(
                    "SELECT p.pos, o.id, o.status = p.status AND o.import_hash = md5(%s || p.cells) "
                    "|| ':' || ((EXTRACT(EPOCH FROM o.updated_at) * 1000000)::bigint)::text "
                    "FROM shopops_import_probe p "
                    "LEFT JOIN orders_order o ON o.platform_order_id = p.order_id",
                    [seed],
                )
                found = cursor.fetchall()
        unchanged, known = set(), set()
        for index, pk, same in found:
            if pk is not None:
                position, order_id, _status, _text = kept[index]
                known.add(order_id)
                if same:
                    unchanged.add(position)
                    self.order_pks.append(pk)
        return unchanged, known

    def apply(self, rows: list[tuple[int, dict[str, Any]]], known: Collection[str]) -> None:
        """Write one chunk of valid rows; ``known`` are the ids among them already in Shopops."""
        self._skus(rows)
        ids = [values["order_id"] for _row, values in rows if values["order_id"] in known]
        existing = (
            {
                record["platform_order_id"]: record
                for record in Order.objects.filter(platform_order_id__in=ids).values(*_COMPARED)
            }
            if ids
            else {}
        )
        new_rows = [(row, values) for row, values in rows if values["order_id"] not in existing]
        old_rows = [(row, values) for row, values in rows if values["order_id"] in existing]
        self._create(new_rows)
        if old_rows:
            suppliers = self._supplier_orders([existing[v["order_id"]]["id"] for _r, v in old_rows])
            for row, values in old_rows:
                record = existing[values["order_id"]]
                self.order_pks.append(record["id"])
                self._update(row, values, record, suppliers.get(record["id"], []))

    def _order_row(self, values: dict[str, Any]) -> dict[str, Any]:
        order = {field: values[column] for column, field in ORDER_FIELDS.items() if column in values}
        order.update(
            platform_order_id=values["order_id"],
            status=values["status"],
            sku_id=self.sku_ids[values["sku"]],
            status_changed_at=self.now,
            created_at=self.now,
            updated_at=self.now,
            import_hash=_stamped(values[_FINGERPRINT], self.now),
        )
        return order

    def _create(self, rows: list[tuple[int, dict[str, Any]]]) -> None:
        if not rows:
            return
        order_ids = _insert(
            Order, [self._order_row(values) for _row, values in rows], self.now, plain=self.plain
        )
        self.order_pks.extend(order_ids)
        events, supplier_orders = [], []
        actor_id = self.by.pk if self.by is not None else None
        for (row, values), order_id in zip(rows, order_ids, strict=True):
            events.append(
                {
                    "order_id": order_id,
                    "transition": "imported",
                    "from_status": "",
                    "to_status": values["status"],
                    "actor_id": actor_id,
                    "created_at": self.now,
                    "data": {
                        "file": self.result.file_name,
                        "row": row,
                        "platform_status": values.get("platform_status", ""),
                    },
                }
            )
            supplier = {
                field: values[column] for column, field in SUPPLIER_FIELDS.items() if column in values
            }
            if supplier:
                supplier_orders.append({"order_id": order_id, "created_at": self.now, **supplier})
        _insert(OrderEvent, events, self.now, returning=False, plain=self.plain)
        _insert(SupplierOrder, supplier_orders, self.now, returning=False, plain=self.plain)
        self.result.new += len(rows)

    @staticmethod
    def _supplier_orders(order_pks: list[int]) -> dict[int, list[dict[str, Any]]]:
        found: dict[int, list[dict[str, Any]]] = {}
        records = SupplierOrder.objects.filter(order_id__in=order_pks).order_by("id")
        for record in records.values("id", "order_id", *SUPPLIER_FIELDS.values()):
            found.setdefault(record["order_id"], []).append(record)
        return found

    # --- existing orders -------------------------------------------------------------------

    def _plan(
        self, row: int, values: dict[str, Any], record: dict[str, Any], supplier_orders: list[dict[str, Any]]
    ) -> tuple[dict[str, Any], list[str], tuple[int | None, dict[str, Any]]]:
        """What the row changes: order fields, forward moves, supplier order (id or None, fields).

        Raises ``Refused`` when the row may not be applied.
        """
        order_changes = {
            field: values[column]
            for column, field in ORDER_FIELDS.items()
            if column in values and values[column] != record[field]
        }
        sku_id = self.sku_ids[values["sku"]]
        if sku_id != record["sku_id"]:
            order_changes["sku_id"] = sku_id
        current, target = record["status"], values["status"]
        moves: list[str] = []
        if current != target:
            if current not in _FORWARD_INDEX:
                raise Refused(
                    _(
                        "order %(order)s is “%(current)s”, in a close workflow: an import does not move it "
                        "to “%(target)s”. Row not applied."
                    )
                    % {
                        "order": values["order_id"],
                        "current": workflow.status_label(current),
                        "target": workflow.status_label(target),
                    }
                )
            if _FORWARD_INDEX[target] < _FORWARD_INDEX[current]:
                raise Refused(
                    _(
                        "order %(order)s is already “%(current)s”: an import never moves an order back to "
                        "“%(target)s”. Row not applied."
                    )
                    % {
                        "order": values["order_id"],
                        "current": workflow.status_label(current),
                        "target": workflow.status_label(target),
                    }
                )
            moves = [
                _MOVES[s] for s in FORWARD_PATH[_FORWARD_INDEX[current] + 1 : _FORWARD_INDEX[target] + 1]
            ]
        supplier = {field: values[column] for column, field in SUPPLIER_FIELDS.items() if column in values}
        supplier_change: tuple[int | None, dict[str, Any]] = (None, {})
        if supplier:
            target_so = None
            wanted_id = supplier.get("supplier_order_id")
            if wanted_id:
                target_so = next((so for so in supplier_orders if so["supplier_order_id"] == wanted_id), None)
            if target_so is None and len(supplier_orders) == 1:
                only = supplier_orders[0]
                if not wanted_id or not only["supplier_order_id"]:
                    target_so = only
            if target_so is None and len(supplier_orders) > 1 and not wanted_id:
                raise Refused(
                    _(
                        "order %(order)s has %(n)d supplier orders: give the 1688 order id "
                        "(supplier_order_id) to say which one the row updates. Row not applied."
                    )
                    % {"order": values["order_id"], "n": len(supplier_orders)}
                )
            if target_so is None:
                supplier_change = (None, supplier)
            else:
                changed = {k: v for k, v in supplier.items() if target_so[k] != v}
                if changed:
                    supplier_change = (target_so["id"], changed)
        return order_changes, moves, supplier_change

    def _update(
        self, row: int, values: dict[str, Any], record: dict[str, Any], supplier_orders: list[dict[str, Any]]
    ) -> None:
        try:
            order_changes, moves, (so_id, so_changes) = self._plan(row, values, record, supplier_orders)
        except Refused as refused:
            self.result.add_refused(
                RowIssue(row, "status", values.get("platform_status") or values["status"], refused.message)
            )
            return
        if not (order_changes or moves or so_changes):
            self.result.unchanged += 1  # the common case on a re-import: no write, no lock
            return
        try:
            # A savepoint per changed row: a refusal undoes this row only.
            with transaction.atomic():
                self._apply_row(values, record, order_changes, moves, so_id, so_changes)
        except Refused as refused:
            self.result.add_refused(
                RowIssue(
                    row,
                    refused.field or "status",
                    values.get("platform_status") or values["status"],
                    refused.message,
                )
            )
            return
        self.result.updated += 1
        self.result.moves += len(moves)

    def _apply_row(
        self,
        values: dict[str, Any],
        record: dict[str, Any],
        order_changes: dict[str, Any],
        moves: list[str],
        so_id: int | None,
        so_changes: dict[str, Any],
    ) -> None:
        # Lock, and re-check against what is there now: someone may have moved the order since
        # the chunk was read.
        locked = Order.objects.select_for_update().filter(pk=record["id"]).values(*_COMPARED).get()
        if locked["status"] != record["status"]:
            order_changes, moves, _supplier = self._plan(0, values, locked, [])
        if order_changes:
            Order.objects.filter(pk=record["id"]).update(**order_changes, updated_at=timezone.now())
        for move in moves:
            if move == "mark_paid":
                workflow.mark_paid(record["id"], by=self.by, paid_at=values.get("paid_at"))
            elif move == "mark_shipped":
                workflow.mark_shipped(
                    record["id"],
                    by=self.by,
                    tracking_number=values.get("tracking_number") or locked["tracking_number"],
                    carrier=values.get("carrier") or locked["carrier"],
                    shipped_at=values.get("shipped_at"),
                )
            else:
                workflow.mark_completed(record["id"], by=self.by)
        if so_changes:
            if so_id is None:
                SupplierOrder.objects.create(order_id=record["id"], **so_changes)
            else:
                SupplierOrder.objects.filter(pk=so_id).update(**so_changes)
        # Last, so the fingerprint is stamped with the order's final ``updated_at``.
        now = timezone.now()
        Order.objects.filter(pk=record["id"]).update(
            import_hash=_stamped(values[_FINGERPRINT], now), updated_at=now
        )


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is read.

    An import allocates millions of short-lived, acyclic objects (cells, rows, values), which
    keep triggering collections that walk every object the process holds — a third of a
    re-import's time. Reference counting still frees all of them; the collector runs again after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _chunks(reader: Iterator[list[str]], size: int) -> Iterator[list[tuple[int, list[str]]]]:
    chunk: list[tuple[int, list[str]]] = []
    for row, cells in enumerate(reader, start=2):  # the header is row 1, as in a spreadsheet
        if not (cells and cells[0].strip()) and not "".join(cells).strip():
            continue  # Excel leaves empty lines (",,,,") at the end of a sheet
        chunk.append((row, cells))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def import_orders(
    source: Path | str | BinaryIO,
    *,
    by: AbstractBaseUser | None = None,
    dry_run: bool = False,
    file_name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import an order file (SPEC section 6) all or nothing; see the module docstring for the rules.

    ``by`` is the importing user (their permissions apply to the status moves) or ``None`` for
    the system. ``dry_run`` does everything and rolls back: the preview. ``progress(done,
    total)`` is called with bytes read after each chunk. Writes orders, SKUs, supplier orders
    and history events in one transaction, or nothing when the file has any invalid row.
    """
    if isinstance(source, str | Path):
        with open(source, "rb") as raw:
            return import_orders(
                raw, by=by, dry_run=dry_run, file_name=file_name or Path(source).name, progress=progress
            )
    result = ImportResult(file_name=file_name or getattr(source, "name", "") or "orders.csv", dry_run=dry_run)
    source.seek(0, io.SEEK_END)
    total_bytes = source.tell()
    sha256 = _sha256(source)
    with transaction.atomic():
        previous = _same_file(sha256)
        if previous is not None:
            result.rows = result.unchanged = previous.rows
            result.same_as = previous
            if not dry_run:
                _record(result, None, sha256, by)
            return result
    try:
        encoding = detect_encoding(source)
        source.seek(0)
        counter = _CountingReader(source)
        text = io.TextIOWrapper(io.BufferedReader(counter, 1 << 16), encoding=encoding, newline="")
        reader = csv.reader(text)
        try:
            header_cells = next(reader)
        except StopIteration:
            raise ImportFileError(_("The file is empty: it has no header row and no orders.")) from None
        except csv.Error as error:
            raise ImportFileError(_("The file is not a CSV file: %(error)s") % {"error": error}) from None
        header = map_header(header_cells)
        parse = _RowParser(header, _Parsers.build())
        fingerprint = _Fingerprint(header)
        width, id_index, status_index = len(header), header.index("order_id"), header.index("status")
        engine = _Engine(result, by)
        seen: dict[str, int] = {}
        with transaction.atomic(), _no_cyclic_gc():
            try:
                for chunk in _chunks(reader, CHUNK_ROWS):
                    result.rows += len(chunk)
                    # First the id, status and fingerprint of each well-formed row, and which of
                    # them Shopops holds unchanged (one round trip), to skip those without parsing.
                    ids: list[str] = [""] * len(chunk)
                    texts: list[str] = [""] * len(chunk)  # each row's fingerprint text, once

                    def entries(chunk=chunk, ids=ids, texts=texts) -> Iterator[_Entry]:
                        for position, (_row, cells) in enumerate(chunk):
                            if len(cells) == width:
                                order_id = ids[position] = _clean(cells[id_index])
                                if order_id:
                                    status = STATUS_VALUES.get(_clean(cells[status_index]), "")
                                    text = texts[position] = fingerprint.text(cells)
                                    yield position, order_id, status, text

                    unchanged, known = engine.probe(entries(), fingerprint)
                    parsed: list[tuple[int, dict[str, Any]]] = []
                    for position, (row, cells) in enumerate(chunk):
                        if position in unchanged:
                            values = None  # imported before as it is, untouched since: unchanged
                            order_id = ids[position]
                        else:
                            values = parse(cells, row, result.add_error)
                            if values is None:
                                continue
                            values[_FINGERPRINT] = fingerprint.digest(texts[position])
                            order_id = values["order_id"]
                        first = seen.get(order_id)
                        if first is not None:
                            result.add_error(
                                RowIssue(
                                    row,
                                    "order_id",
                                    order_id,
                                    _(
                                        "order_id '%(id)s' appears more than once in the file "
                                        "(first on row %(first)d)"
                                    )
                                    % {"id": order_id, "first": first},
                                )
                            )
                            continue
                        seen[order_id] = row
                        if values is None:
                            result.unchanged += 1
                        else:
                            parsed.append((row, values))
                    if not result.error_count:
                        engine.apply(parsed, known)  # after an error, rows are only checked, never written
                    if progress is not None:
                        progress(counter.bytes_read, total_bytes)
            except csv.Error as error:
                result.add_error(
                    RowIssue(
                        result.rows + 2,
                        "",
                        "",
                        _("the file is not valid CSV here: %(error)s") % {"error": error},
                    )
                )
            if result.error_count or dry_run:
                transaction.set_rollback(True)
            elif result.rows:
                _record(result, engine, sha256, by)
        if not result.rows and not result.error_count:
            raise ImportFileError(_("The file has a header row but no orders."))
    except ImportFileError as error:
        result.file_error = str(error)
    if result.invalid:
        result.new = result.updated = result.unchanged = result.moves = 0
        result.refused, result.refused_count = [], 0
    return result
