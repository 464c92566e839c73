"""The one set of input parsers: every value a person or a file gives Shopops passes here first.

The workflow API, every form, the order import and the feedback import call these. Each takes
the raw value (text from a form or a CSV cell, or whatever a script passed) and the name of the
input (``field``), and returns the clean value or raises ``Refused(message, field=field)``. They
never raise anything else, whatever the type of the value: a ``list``, ``NaN``, a lone
surrogate, a NUL byte or the year 1 is a ``Refused`` naming the field, not a 500.

Dates of past events must lie in a sane window: from ``SHOPOPS_EARLIEST_DATE`` (default
2000-01-01) to now plus a small skew (``SHOPOPS_CLOCK_SKEW_SECONDS``, default 300 s; an import
passes its own). PostgreSQL stores the year 1 as a BC timestamp and Python cannot read it back,
so one such row would break every page that lists it.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, date, datetime, timedelta, tzinfo
from decimal import Decimal, InvalidOperation
from typing import Any

import phonenumbers
from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops.errors import Refused
from shopops.money import CENT

# Money columns hold 12 digits, two of them after the point.
MAX_AMOUNT = Decimal("1e10")
# PostgreSQL's integer.
MAX_QUANTITY = 2_147_483_647
# PostgreSQL's bigint: the largest primary key.
MAX_ID = 9_223_372_036_854_775_807
MAX_EMAIL = 254
_E164 = re.compile(r"^\+[1-9]\d{6,14}$")
_LANGUAGE = re.compile(r"^[a-z]{2,3}(?:-[a-z0-9]{2,8})*$")
_DATETIME_FORMATS = ("%Y/%m/%d %H:%M:%S", "%Y/%m/%d %H:%M", "%Y/%m/%d")  # what Excel writes back
_DATE_FORMATS = ("%Y-%m-%d", "%Y/%m/%d")
# Characters no text holds, one line or several: C0 controls but tab and line breaks, DEL, the
# C1 controls, and the bidirectional embeddings, overrides and isolates (U+202A-U+202E,
# U+2066-U+2069), which make "txt.exe" read "exe.txt" or reorder an amount on screen.
_CONTROLS = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u202a-\u202e\u2066-\u2069"
_TEXT_CONTROLS = re.compile(f"[{_CONTROLS}]")
# What a one-line value (an identifier, a name, a reference) never holds either: line breaks
# (CR, LF, NEL, U+2028, U+2029, which end a mail or HTTP header) and tab.
_LINE_BREAKS = "\t\n\r\x85\u2028\u2029"
_LINE_CONTROLS = re.compile(f"[{_CONTROLS}{_LINE_BREAKS}]")
_SURROGATE = re.compile(r"[\ud800-\udfff]")
_MAX_INPUT = 1_000_000  # no parser reads further than this into a value


def _name(field: str, label: str | None) -> str:
    return str(label) if label else field


def shown(value: Any) -> str:
    """The value as a message may quote it: short, printable, never a NUL or a surrogate; a date
    and time as a person writes it (``0001-01-01 00:00``), never Python's ``datetime.datetime(1, …``."""
    if isinstance(value, datetime):
        text = value.replace(tzinfo=None).isoformat(sep=" ", timespec="minutes")
    elif isinstance(value, date):
        text = value.isoformat()
    else:
        text = value if isinstance(value, str) else repr(value)
    text = _SURROGATE.sub("\ufffd", text[:60]).replace("\x00", "\\0")
    return text + ("…" if len(text) >= 60 else "")


def _as_text(value: Any, field: str, label: str | None) -> str:
    """``value`` as text (``None`` is empty); anything else a form could not have sent is refused."""
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray):
        try:
            value = bytes(value).decode("utf-8")
        except UnicodeDecodeError:
            raise Refused(
                _("%(field)s is not valid text.") % {"field": _name(field, label)}, field=field
            ) from None
    if not isinstance(value, str):
        raise Refused(_("%(field)s must be text.") % {"field": _name(field, label)}, field=field)
    if len(value) > _MAX_INPUT:
        raise Refused(_("%(field)s is far too long.") % {"field": _name(field, label)}, field=field)
    if "\x00" in value:
        raise Refused(
            _("%(field)s contains a NUL character; remove it and try again.")
            % {"field": _name(field, label)},
            field=field,
        )
    if _SURROGATE.search(value):
        raise Refused(
            _("%(field)s contains characters that are not valid text.") % {"field": _name(field, label)},
            field=field,
        )
    return value


# --- text --------------------------------------------------------------------------------------


def text(
    value: Any,
    field: str,
    *,
    max_length: int,
    label: str | None = None,
    required: bool = False,
    multiline: bool = False,
    message: str | None = None,
) -> str:
    """Text, stripped, of at most ``max_length`` characters; ``""`` when empty and not required.

    NUL bytes and lone surrogates are refused (PostgreSQL cannot store them), and so are control
    characters (C0 and C1) and the bidirectional overrides and isolates (U+202A-U+202E,
    U+2066-U+2069). Only a multi-line value (notes, bodies: ``multiline=True``) may hold line
    breaks and tabs; an identifier or any one-line value (``multiline=False``) may not: an order
    id "RT-1\nX" would end a mail or a download's header.
    ``message`` replaces the default "… is required." when a required value is empty.
    """
    cleaned = _as_text(value, field, label).strip()
    if not cleaned:
        if required:
            raise Refused(
                message or _("%(field)s is required.") % {"field": _name(field, label)}, field=field
            )
        return ""
    found = (_TEXT_CONTROLS if multiline else _LINE_CONTROLS).search(cleaned)
    if found is not None:
        if found.group() in _LINE_BREAKS:
            raise Refused(
                _("%(field)s must be one line, without line breaks or tabs.")
                % {"field": _name(field, label)},
                field=field,
            )
        raise Refused(
            _("%(field)s contains an invisible control character (U+%(code)04X); remove it and try again.")
            % {"field": _name(field, label), "code": ord(found.group())},
            field=field,
        )
    if len(cleaned) > max_length:
        raise Refused(
            _("%(field)s is too long (at most %(n)d characters).")
            % {"field": _name(field, label), "n": max_length},
            field=field,
        )
    return cleaned


def file_name(value: Any, *, default: str = "file", max_length: int = 255) -> str:
    """The name a person gave a file, as a label the database and a header can hold: its last
    path part, with every control, line-break, bidirectional control or surrogate character
    replaced by ``_`` (a file named oddly is still evidence: it is kept, under a clean label)."""
    raw = value if isinstance(value, str) else str(value or "")
    name = raw.replace("\\", "/").rsplit("/", 1)[-1].strip()
    name = re.sub(f"[{_CONTROLS}{_LINE_BREAKS}\ud800-\udfff]", "_", name[: max_length * 4])
    return name[:max_length] or default


# --- numbers -----------------------------------------------------------------------------------


def amount(
    value: Any,
    field: str,
    *,
    label: str | None = None,
    allow_zero: bool = False,
    allow_negative: bool = False,
) -> Decimal:
    """An amount of money: at most two decimals, under 10,000,000,000, more than 0 unless allowed.

    Takes ``Decimal``, ``int`` or text (``"12.50"``); a float is read as its shortest repr. NaN,
    infinities, exponents beyond the column and booleans are refused.
    """
    name = _name(field, label)
    if isinstance(value, bool) or not isinstance(value, Decimal | int | float | str):
        raise Refused(_("%(field)s must be an amount, like 12.50.") % {"field": name}, field=field)
    if isinstance(value, str):
        raw = _as_text(value, field, label).strip()
        if len(raw) > 40:
            raise Refused(
                _("%(field)s “%(value)s” is not an amount.") % {"field": name, "value": shown(raw)},
                field=field,
            )
    else:
        raw = repr(value) if isinstance(value, float) else value
    try:
        number = Decimal(raw)
    except (InvalidOperation, ValueError, TypeError):
        raise Refused(
            _("%(field)s “%(value)s” is not an amount.") % {"field": name, "value": shown(value)}, field=field
        ) from None
    if not number.is_finite():
        raise Refused(_("%(field)s must be a number.") % {"field": name}, field=field)
    if number.copy_abs() >= MAX_AMOUNT:
        raise Refused(
            _("%(field)s %(value)s is too large.") % {"field": name, "value": shown(value)}, field=field
        )
    if number != number.quantize(CENT):
        raise Refused(
            _("%(field)s %(value)s has more than two decimal places.")
            % {"field": name, "value": shown(value)},
            field=field,
        )
    if (number < 0 and not allow_negative) or (number == 0 and not allow_zero):
        if allow_zero:
            raise Refused(_("%(field)s cannot be negative.") % {"field": name}, field=field)
        raise Refused(_("%(field)s must be more than 0.") % {"field": name}, field=field)
    return number.quantize(CENT) + Decimal("0.00")


def quantity(
    value: Any,
    field: str,
    *,
    label: str | None = None,
    minimum: int = 1,
    maximum: int = MAX_QUANTITY,
) -> int:
    """A whole number between ``minimum`` and ``maximum``: ``int``, an integral ``Decimal``, or digits."""
    name = _name(field, label)
    if isinstance(value, bool):
        number = None
    elif isinstance(value, int):
        number = value
    elif isinstance(value, Decimal) and value.is_finite() and value == value.to_integral_value():
        number = int(value) if abs(value) < Decimal(10) ** 20 else None
    elif isinstance(value, float) and math.isfinite(value) and value.is_integer():
        number = int(value)
    elif isinstance(value, str):
        raw = _as_text(value, field, label).strip()
        number = int(raw) if raw.isascii() and raw.lstrip("-").isdigit() and len(raw) <= 400 else None
    else:
        number = None
    if number is None:
        raise Refused(
            _("%(field)s “%(value)s” is not a whole number.") % {"field": name, "value": shown(value)},
            field=field,
        )
    if number < minimum:
        raise Refused(_("%(field)s must be at least %(n)d.") % {"field": name, "n": minimum}, field=field)
    if number > maximum:
        raise Refused(_("%(field)s must be at most %(n)d.") % {"field": name, "n": maximum}, field=field)
    return number


# --- dates -------------------------------------------------------------------------------------


def earliest() -> datetime:
    """The earliest moment any date may name (``SHOPOPS_EARLIEST_DATE``, midnight UTC)."""
    first = date.fromisoformat(str(getattr(settings, "SHOPOPS_EARLIEST_DATE", "2000-01-01")))
    return datetime(first.year, first.month, first.day, tzinfo=UTC)


def clock_skew() -> timedelta:
    """How far ahead of the server clock a past event may be (``SHOPOPS_CLOCK_SKEW_SECONDS``)."""
    return timedelta(seconds=float(getattr(settings, "SHOPOPS_CLOCK_SKEW_SECONDS", 300)))


def _read_datetime(raw: str) -> datetime | None:
    try:
        return datetime.fromisoformat(raw.replace(" T", "T"))
    except ValueError:
        pass
    for fmt in _DATETIME_FORMATS:
        try:
            return datetime.strptime(raw, fmt)
        except ValueError:
            continue
    return None


def _too_early(field: str, label: str | None) -> Refused:
    return Refused(
        _("%(field)s cannot be before %(start)s.")
        % {"field": _name(field, label), "start": earliest().date().isoformat()},
        field=field,
    )


def _in_future(field: str, label: str | None) -> Refused:
    return Refused(_("%(field)s cannot be in the future.") % {"field": _name(field, label)}, field=field)


def moment(
    value: Any,
    field: str,
    *,
    label: str | None = None,
    zone: tzinfo | None = None,
    skew: timedelta | None = None,
    not_before: datetime | None = None,
    not_before_message: str | None = None,
    future: bool = False,
    future_message: str | None = None,
    latest: datetime | None = None,
) -> datetime:
    """A date and time, aware, within the sane window; raises ``Refused`` otherwise.

    Takes an aware or naive ``datetime`` or text (ISO 8601, or ``YYYY/MM/DD HH:MM[:SS]``); a naive
    value is read in ``zone`` (default: the current time zone). A past event (the default) must
    lie between ``SHOPOPS_EARLIEST_DATE`` and now + ``skew`` (default ``clock_skew()``) and not
    before ``not_before``. With ``future=True`` (a deadline) it must lie after now and before
    ``latest`` (default: a year ahead).
    """
    name = _name(field, label)
    if isinstance(value, str):
        raw = _as_text(value, field, label).strip()
        parsed = _read_datetime(raw) if len(raw) <= 64 else None
        if parsed is None:
            raise Refused(
                _("%(field)s “%(value)s” is not a date and time (write it like 2026-03-01 14:30).")
                % {"field": name, "value": shown(raw)},
                field=field,
            )
        value = parsed
    if not isinstance(value, datetime):
        raise Refused(
            _("%(field)s “%(value)s” is not a date and time.") % {"field": name, "value": shown(value)},
            field=field,
        )
    start = earliest()
    try:
        if timezone.is_naive(value):
            # Compare the wall time first: converting the year 1 or 9999 may overflow.
            if value < start.replace(tzinfo=None) - timedelta(days=2):
                raise _too_early(field, label)
            if value > datetime(9000, 1, 1):
                raise (
                    _in_future(field, label)
                    if not future
                    else Refused(_("%(field)s is too far ahead.") % {"field": name}, field=field)
                )
            value = timezone.make_aware(value, zone or timezone.get_current_timezone())
        moment_utc = value.astimezone(UTC)
    except (OverflowError, ValueError, TypeError):
        raise Refused(
            _("%(field)s “%(value)s” is not a date and time.") % {"field": name, "value": shown(value)},
            field=field,
        ) from None
    now = timezone.now()
    if future:
        end = latest or now + timedelta(days=366)
        if moment_utc <= now:
            raise Refused(
                future_message or _("%(field)s must be in the future.") % {"field": name}, field=field
            )
        if moment_utc > end:
            raise Refused(
                _("%(field)s must be before %(end)s.") % {"field": name, "end": end.date().isoformat()},
                field=field,
            )
        return value
    if moment_utc < start:
        raise _too_early(field, label)
    if moment_utc > now + (clock_skew() if skew is None else skew):
        raise _in_future(field, label)
    if not_before is not None and moment_utc < not_before:
        raise Refused(
            not_before_message
            or _("%(field)s cannot be before %(start)s.")
            % {"field": name, "start": timezone.localtime(not_before).strftime("%Y-%m-%d %H:%M")},
            field=field,
        )
    return value


def day(
    value: Any,
    field: str,
    *,
    label: str | None = None,
    skew: timedelta = timedelta(days=1),
    future: bool = False,
) -> date:
    """A calendar date (``date``, or text ``YYYY-MM-DD`` / ``YYYY/MM/DD``) within the sane window.

    A past date must lie between ``SHOPOPS_EARLIEST_DATE`` and today + ``skew`` (time zones);
    with ``future=True`` it may lie up to a year ahead instead.
    """
    name = _name(field, label)
    if isinstance(value, datetime):
        value = value.date()
    elif isinstance(value, str):
        raw = _as_text(value, field, label).strip()
        parsed = None
        for fmt in _DATE_FORMATS:
            try:
                parsed = datetime.strptime(raw, fmt).date() if len(raw) <= 10 else None
                break
            except ValueError:
                continue
        if parsed is None:
            raise Refused(
                _("%(field)s “%(value)s” is not a date (write it like 2026-03-01).")
                % {"field": name, "value": shown(raw)},
                field=field,
            )
        value = parsed
    if not isinstance(value, date):
        raise Refused(
            _("%(field)s “%(value)s” is not a date.") % {"field": name, "value": shown(value)}, field=field
        )
    today = timezone.localdate()
    end = today + (timedelta(days=366) if future else skew)
    if not (earliest().date() <= value <= end):
        raise Refused(
            _("%(field)s must be between %(start)s and %(end)s.")
            % {"field": name, "start": earliest().date().isoformat(), "end": end.isoformat()},
            field=field,
        )
    return value


# --- contact details ---------------------------------------------------------------------------


def email(value: Any, field: str, *, label: str | None = None, required: bool = False) -> str:
    """An email address (at most 254 characters); ``""`` when empty and not required."""
    address = text(value, field, label=label, max_length=MAX_EMAIL * 4, required=required)
    if not address:
        return ""
    try:
        if len(address) > MAX_EMAIL:
            raise ValidationError("too long")
        validate_email(address)
    except ValidationError:
        raise Refused(
            _("%(field)s “%(value)s” is not a valid email address.")
            % {"field": _name(field, label), "value": shown(address)},
            field=field,
        ) from None
    return address


def phone(
    value: Any, field: str, *, label: str | None = None, region: str | None = None, required: bool = False
) -> str:
    """A phone number in E.164 (``+34600111222``); other forms are read with ``region`` (ISO 3166)."""
    raw = text(value, field, label=label, max_length=64, required=required)
    if not raw:
        return ""
    compact = re.sub(r"[\s\-().]", "", raw)
    if _E164.match(compact):
        return compact
    try:
        number = phonenumbers.parse(raw, (region or "").upper() or None)
        valid = phonenumbers.is_valid_number(number)
    except phonenumbers.NumberParseException:
        valid = False
    if not valid:
        raise Refused(
            _("%(field)s “%(value)s” is not a valid phone number (write it like +34 600 111 222).")
            % {"field": _name(field, label), "value": shown(raw)},
            field=field,
        )
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def language(
    value: Any, field: str, *, label: str | None = None, required: bool = False, max_length: int = 16
) -> str:
    """A language code (``en``, ``es``, ``zh-hans``), lower case with hyphens."""
    raw = text(value, field, label=label, max_length=max_length * 4, required=required)
    if not raw:
        return ""
    code = raw.lower().replace("_", "-")
    if not _LANGUAGE.match(code) or len(code) > max_length:
        raise Refused(
            _("%(field)s “%(value)s” is not a language code (like en, es, zh-hans).")
            % {"field": _name(field, label), "value": shown(raw)},
            field=field,
        )
    return code


# A platform's numeric id: 1688's order and entry ids have up to 18 digits (beyond JavaScript's
# 2^53, so they stay text); room for 20.
_PLATFORM_ID = re.compile(r"^[0-9]{1,20}$")
MAX_PLATFORM_IDS = 50


def platform_ids(value: Any, field: str, *, label: str | None = None) -> list[str]:
    """Numeric platform ids as text, in the order given, each once: a list, or text with the ids
    separated by commas, spaces or line breaks. ``[]`` when empty."""
    items = value if isinstance(value, list | tuple) else re.split(r"[\s,;]+", _as_text(value, field, label))
    found: list[str] = []
    for item in items:
        raw = item if isinstance(item, str) else (str(item) if isinstance(item, int) and item >= 0 else None)
        if raw is None:
            raise Refused(_("%(field)s must be numbers.") % {"field": _name(field, label)}, field=field)
        raw = _as_text(raw, field, label).strip()
        if not raw:
            continue
        if not _PLATFORM_ID.match(raw):
            raise Refused(
                _("%(field)s: “%(value)s” is not an id (digits only, at most 20).")
                % {"field": _name(field, label), "value": shown(raw)},
                field=field,
            )
        if raw not in found:
            found.append(raw)
    if len(found) > MAX_PLATFORM_IDS:
        raise Refused(
            _("%(field)s: at most %(n)d ids.") % {"field": _name(field, label), "n": MAX_PLATFORM_IDS},
            field=field,
        )
    return found


def choice(value: Any, field: str, choices: Any, *, label: str | None = None) -> str:
    """One of ``choices`` (a Django ``TextChoices`` class or an iterable of values)."""
    allowed = list(getattr(choices, "values", choices))
    raw = _as_text(value, field, label).strip()
    if raw not in allowed:
        raise Refused(
            _("%(field)s “%(value)s” is not one of: %(allowed)s.")
            % {"field": _name(field, label), "value": shown(value), "allowed": ", ".join(map(str, allowed))},
            field=field,
        )
    return raw
