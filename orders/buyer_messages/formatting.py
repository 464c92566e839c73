"""The order's facts as a buyer reads them: amounts and dates formatted with Babel (CLDR).

Facts are stored raw on the outbox row (``Notification.context``: an amount as ``"1234.50"`` with
its currency, a time in ISO 8601) and formatted only when the text is rendered, so the same row
reads ``1.234,50 €`` to a German buyer and ``R$ 1.234,50`` to a Brazilian one.
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from babel.dates import format_date, format_time, get_datetime_format
from babel.numbers import format_currency

from ..sms import GSM7_BASIC, GSM7_EXTENSION
from .spec import babel_locale

# Spaces CLDR puts into amounts and dates (no-break, narrow no-break) that the GSM alphabet lacks:
# one of them would send a whole Latin-script SMS as UCS-2, at 70 characters a segment.
_SMS_SPACES = str.maketrans({"\u00a0": " ", "\u202f": " ", "\u2009": " "})
# An amount in an SMS whose currency sign is not in the GSM alphabet (₩, ₪, ₹, zł, د.إ): the ISO code.
_ISO_PATTERN = "#,##0.00 ¤¤"


def gsm_spaces(text: str) -> str:
    """``text`` with CLDR's no-break and thin spaces as plain spaces (for an SMS)."""
    return text.translate(_SMS_SPACES)


# Direction marks CLDR puts around Arabic and Hebrew amounts: those texts are UCS-2 anyway.
_MARKS = str.maketrans("", "", "\u200e\u200f\u061c")


def _gsm(text: str) -> bool:
    return all(ch in GSM7_BASIC or ch in GSM7_EXTENSION for ch in text.translate(_MARKS))


def format_amount(amount: Any, currency: str, language: str, *, sms: bool = False) -> str:
    """``1234.5``, ``EUR`` → ``1.234,50 €`` (de), ``€ 1.234,50`` (pt-br), ``€1,234.50`` (en).

    ``sms``: GSM spaces, and the ISO code (``1,234.50 KRW``) when the currency's sign is not in
    the GSM alphabet: ``₩`` alone sent the English reminder as three UCS-2 segments.
    """
    try:
        value = Decimal(str(amount))
    except (InvalidOperation, ValueError):
        return f"{amount} {currency}".strip()
    if not currency:
        return str(value)
    locale = babel_locale(language)
    text = format_currency(value, currency, locale=locale)
    if sms:
        text = text.translate(_SMS_SPACES)
        if not _gsm(text):
            text = format_currency(value, currency, _ISO_PATTERN, locale=locale).translate(_SMS_SPACES)
    return text


def _when(value: Any) -> datetime | None:
    if isinstance(value, datetime):
        moment = value
    elif isinstance(value, str) and value:
        try:
            moment = datetime.fromisoformat(value)
        except ValueError:
            return None
    else:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def format_day(value: Any, language: str) -> str:
    """A date in the language's long form: ``3. Dezember 2026``, ``2026年12月3日``."""
    moment = _when(value)
    return format_date(moment.astimezone(UTC), "long", locale=babel_locale(language)) if moment else ""


def format_moment(value: Any, language: str) -> str:
    """A date and time in UTC, in the language's medium form: ``03.12.2026, 14:05 UTC``.

    The buyer's time zone is unknown; UTC said outright is better than a time that looks local.
    """
    moment = _when(value)
    if moment is None:
        return ""
    locale = babel_locale(language)
    moment = moment.astimezone(UTC)
    pattern = get_datetime_format("medium", locale=locale)
    text = pattern.replace("{1}", format_date(moment, "medium", locale=locale)).replace(
        "{0}", format_time(moment, "short", tzinfo=UTC, locale=locale)
    )
    return f"{text} UTC"


def format_facts(facts: dict[str, Any], language: str, *, sms: bool = False) -> dict[str, str]:
    """The placeholders' values for ``language`` from an order's raw facts."""
    values = {
        "order_id": str(facts.get("order_id", "")),
        "buyer_name": str(facts.get("buyer_name", "")),
        "product": str(facts.get("product", facts.get("product_title", ""))),
        "amount": format_amount(facts.get("amount", ""), str(facts.get("currency", "")), language, sms=sms),
        "refund_expected_days": str(facts.get("refund_expected_days", "")),
        "refunded_on": format_day(facts.get("refunded_at"), language),
        "pay_by": format_moment(facts.get("pay_by"), language),
        "return_address": str(facts.get("return_address", "")),
    }
    if sms:
        values = {name: value.translate(_SMS_SPACES) for name, value in values.items()}
    return values
