"""Parsers for the inputs of workflow operations: what an operator typed, checked and typed.

Each returns the clean value or raises ``Refused`` naming the input at fault (``field=``), so a
form can show the message beside it. They run before the order is locked: a wrong input is
refused without touching the database.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.translation import gettext as _

from shopops import inputs
from shopops.errors import Refused

from ..models import CloseReason

MAX_AMOUNT = inputs.MAX_AMOUNT
MAX_NOTE = 2000  # a note an operator types with an operation
# The shared parsers the operations use as they are.
quantity = inputs.quantity
text = inputs.text
choice = inputs.choice


def money(value: Any, field: str, label: str, *, allow_zero: bool = False) -> Decimal:
    """An amount of money: more than 0 (or 0 when ``allow_zero``), at most two decimals."""
    return inputs.amount(value, field, label=label, allow_zero=allow_zero)


def optional_money(value: Any, field: str, label: str, *, allow_zero: bool = False) -> Decimal | None:
    """``money``, or ``None`` when the input was left empty."""
    return None if value is None or value == "" else money(value, field, label, allow_zero=allow_zero)


def required_text(value: Any, field: str, message: str, max_length: int = 100) -> str:
    """Non-blank one-line text of at most ``max_length`` characters; ``message`` when blank."""
    return inputs.text(value, field, max_length=max_length, required=True, message=message)


def optional_text(value: Any, field: str, max_length: int) -> str:
    """One-line text of at most ``max_length`` characters, stripped; empty when left out."""
    return inputs.text(value, field, max_length=max_length)


def note(value: Any, field: str = "note", *, required: str | None = None, max_length: int = MAX_NOTE) -> str:
    """A free-text note (several lines allowed); ``required`` is the message when it must not be blank."""
    return inputs.text(
        value, field, max_length=max_length, multiline=True, required=required is not None, message=required
    )


def stock_count(value: Any, field: str = "stock_count") -> int:
    """How many units of a SKU are really in stock: a whole number, 0 or more (0 when left out)."""
    if value is None or value == "":
        return 0
    return inputs.quantity(value, field, label=_("The units really in stock"), minimum=0)


def close_reason(reason: Any, note_text: Any, field: str = "reason") -> str:
    """A close reason of ``CloseReason``; “other” needs a note saying why."""
    if reason is None or reason == "":
        raise Refused(_("Choose a close reason."), field=field)
    if not isinstance(reason, str) or reason not in CloseReason.values:
        raise Refused(
            _("“%(reason)s” is not a close reason.") % {"reason": inputs.shown(reason)}, field=field
        )
    if reason == CloseReason.OTHER and not note(note_text):
        raise Refused(_("Explain in the note why the order closes for “Other”."), field="note")
    return reason


def parse_when(value: Any, field: str) -> datetime:
    """A date and time typed as text (ISO 8601), within the sane window of past events."""
    return inputs.moment(value, field)


def past_moment(value: Any, field: str, *, default: datetime, not_before: datetime | None = None) -> datetime:
    """When something happened: not in the future, not before ``not_before``; ``default`` if empty."""
    if value is None or value == "":
        return default
    return inputs.moment(
        value,
        field,
        not_before=not_before,
        not_before_message=_("%(field)s cannot be before the order was placed.") % {"field": field},
    )


def deadline(value: Any, field: str, *, default: datetime | None) -> datetime | None:
    """A deadline: strictly in the future (at most a year ahead); ``default`` if empty."""
    if value is None or value == "":
        return default
    return inputs.moment(
        value, field, future=True, future_message=_("The respond-by deadline must be in the future.")
    )
