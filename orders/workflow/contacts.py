"""A Supervisor's correction of the buyer's contact details on an order.

The order page shows no generic edit form: a wrong email, phone, language or name is corrected
through :func:`correct_contact`, which validates like the CSV import does (the same parsers)
and leaves one history event naming each field's old and new value.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from shopops.errors import Refused, require_permission

from ..imports.columns import BadValue, parse_email, parse_language, parse_phone
from ..models import Order
from .core import operation

# The fields a correction may change, in the order the event lists them.
CONTACT_FIELDS = ("buyer_name", "buyer_email", "buyer_phone", "buyer_language")
NAME_MAX_LENGTH = Order._meta.get_field("buyer_name").max_length


def _checked(field: str, value: str, order: Order) -> str:
    """``value`` as it will be stored, or ``Refused`` naming ``field``. Empty clears an email or a
    phone; a name and a language are never empty."""
    value = value.strip()
    try:
        if field == "buyer_name":
            if not value:
                raise BadValue(_("The buyer's name cannot be empty."))
            if len(value) > NAME_MAX_LENGTH:
                raise BadValue(
                    _("The buyer's name is too long (at most %(n)d characters).") % {"n": NAME_MAX_LENGTH}
                )
            return value
        if field == "buyer_language":
            if not value:
                raise BadValue(_("Give the buyer's language as a code, like en, es or zh-hans."))
            return parse_language(value, _("Buyer language"))
        if not value:
            return ""
        if field == "buyer_email":
            return parse_email(value, _("Buyer email"))
        # E.164, read with the buyer's country as the region, as the import reads it.
        return parse_phone(value, order.buyer_country or None)
    except BadValue as exc:
        raise Refused(str(exc), field=field) from None


def correct_contact(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    buyer_email: str | None = None,
    buyer_phone: str | None = None,
    buyer_language: str | None = None,
    buyer_name: str | None = None,
    note: str = "",
) -> Order:
    """Correct the buyer's contact details; ``None`` leaves a field as it is.

    Needs ``orders.change_order`` (Supervisors). Under the order lock, each given value is
    checked (email address, phone number in E.164 — other forms are read with the buyer's
    country —, language code, a name) and stored; one ``correct_contact`` event lists every
    changed field as ``{"old": ..., "new": ...}``, with the note. Refused, writing nothing, when
    a value is invalid or when nothing would change.
    """
    require_permission(by, "orders.change_order", _("correct an order's contact details"))
    given = {
        "buyer_name": buyer_name,
        "buyer_email": buyer_email,
        "buyer_phone": buyer_phone,
        "buyer_language": buyer_language,
    }
    with operation("correct_contact", order, by=by) as t:
        changes = {}
        for field in CONTACT_FIELDS:
            if given[field] is None:
                continue
            new = _checked(field, given[field], t.order)
            old = getattr(t.order, field)
            if new != old:
                changes[field] = {"old": old, "new": new}
        if not changes:
            raise Refused(_("These are already the order's contact details: nothing was changed."))
        for field, change in changes.items():
            setattr(t.order, field, change["new"])
        t.order.save(update_fields=[*changes, "updated_at"])
        t.event(**changes, note=note.strip())
    return t.order
