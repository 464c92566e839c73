"""Parsers for the inputs of workflow operations: what an operator typed, checked and typed.

Each returns the clean value or raises ``Refused`` naming the input at fault (``field=``), so a
form can show the message beside it. They run before the order is locked: a wrong input is
refused without touching the database.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext as _

from shopops.errors import Refused
from shopops.money import CENT

from ..models import CloseReason

# Money columns hold 12 digits, two of them after the point.
MAX_AMOUNT = Decimal("1e10")


def money(value: Any, field: str, label: str, *, allow_zero: bool = False) -> Decimal:
    """An amount of money: more than 0 (or 0 when ``allow_zero``), at most two decimals."""
    if isinstance(value, float):
        value = repr(value)
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        raise Refused(
            _("%(label)s “%(value)s” is not an amount.") % {"label": label, "value": value}, field=field
        ) from None
    if not amount.is_finite():
        raise Refused(_("%(label)s must be a number.") % {"label": label}, field=field)
    if abs(amount) >= MAX_AMOUNT:
        # Beyond what the money columns hold (and what quantize can round): a typo, not a refund.
        raise Refused(_("%(label)s %(value)s is too large.") % {"label": label, "value": value}, field=field)
    if amount != amount.quantize(CENT):
        raise Refused(
            _("%(label)s %(value)s has more than two decimal places.") % {"label": label, "value": amount},
            field=field,
        )
    if amount < 0 or (amount == 0 and not allow_zero):
        raise Refused(_("%(label)s must be more than 0.") % {"label": label}, field=field)
    return amount.quantize(CENT)


def optional_money(value: Any, field: str, label: str, *, allow_zero: bool = False) -> Decimal | None:
    """``money``, or ``None`` when the input was left empty."""
    return None if value in (None, "") else money(value, field, label, allow_zero=allow_zero)


def required_text(value: Any, field: str, message: str, max_length: int = 100) -> str:
    """Non-blank text of at most ``max_length`` characters; ``message`` when blank."""
    text = str(value or "").strip()
    if not text:
        raise Refused(message, field=field)
    return optional_text(text, field, max_length)


def optional_text(value: Any, field: str, max_length: int) -> str:
    """Text of at most ``max_length`` characters, stripped; empty when left out."""
    text = str(value or "").strip()
    if len(text) > max_length:
        raise Refused(
            _("%(field)s is too long (at most %(n)d characters).") % {"field": field, "n": max_length},
            field=field,
        )
    return text


def close_reason(reason: Any, note: str, field: str = "reason") -> str:
    """A close reason of ``CloseReason``; “other” needs a note saying why."""
    if not reason:
        raise Refused(_("Choose a close reason."), field=field)
    if reason not in CloseReason.values:
        raise Refused(_("“%(reason)s” is not a close reason.") % {"reason": reason}, field=field)
    if reason == CloseReason.OTHER and not (note or "").strip():
        raise Refused(_("Explain in the note why the order closes for “Other”."), field="note")
    return reason


def parse_when(value: str, field: str) -> datetime:
    """A date and time typed as text (ISO 8601)."""
    # parse_datetime returns None for a wrong shape but raises for a right shape with an
    # impossible date ("2026-02-30 10:00"): both are the same mistake to an operator.
    try:
        parsed = parse_datetime(value.strip())
    except ValueError:
        parsed = None
    if parsed is None:
        raise Refused(_("“%(value)s” is not a date and time.") % {"value": value}, field=field)
    return parsed


def past_moment(value: Any, field: str, *, default: datetime, not_before: datetime | None = None) -> datetime:
    """When something happened: not in the future, not before ``not_before``; ``default`` if empty."""
    if value in (None, ""):
        return default
    if isinstance(value, str):
        value = parse_when(value, field)
    if not isinstance(value, datetime):
        raise Refused(_("“%(value)s” is not a date and time.") % {"value": value}, field=field)
    if timezone.is_naive(value):
        value = timezone.make_aware(value)
    if value > timezone.now() + timedelta(minutes=5):
        raise Refused(_("%(field)s cannot be in the future.") % {"field": field}, field=field)
    if not_before is not None and value < not_before:
        raise Refused(_("%(field)s cannot be before the order was placed.") % {"field": field}, field=field)
    return value


def deadline(value: Any, field: str, *, default: datetime) -> datetime:
    """A deadline: strictly in the future; ``default`` if empty."""
    if value in (None, ""):
        return default
    moment = parse_when(value, field) if isinstance(value, str) else value
    if not isinstance(moment, datetime):
        raise Refused(_("“%(v)s” is not a date and time.") % {"v": value}, field=field)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    if moment <= timezone.now():
        raise Refused(_("The respond-by deadline must be in the future."), field=field)
    return moment
