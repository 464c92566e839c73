"""A Supervisor's correction of the buyer's contact details on an order.

The order page shows no generic edit form: a wrong email, phone, language or name is corrected
through :func:`correct_contact`, which validates like the CSV import does (the same parsers)
and leaves one history event naming each field's old and new value.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from shopops import inputs
from shopops.errors import Refused

from .. import policy
from ..models import Order
from .core import operation
from .versions import check_order_version, version_of

# The fields a correction may change, in the order the event lists them.
CONTACT_FIELDS = ("buyer_name", "buyer_email", "buyer_phone", "buyer_language")
NAME_MAX_LENGTH = Order._meta.get_field("buyer_name").max_length
LANGUAGE_MAX_LENGTH = Order._meta.get_field("buyer_language").max_length


def contact_version(order: Order) -> str:
    """The version of the order's contact details, as the correction form shows them."""
    return version_of(order, CONTACT_FIELDS)


def _checked(field: str, value: object, order: Order) -> str:
    """``value`` as it will be stored, or ``Refused`` naming ``field``. Empty clears an email or a
    phone; a name and a language are never empty."""
    if field == "buyer_name":
        return inputs.text(
            value,
            field,
            label=_("The buyer's name"),
            max_length=NAME_MAX_LENGTH,
            required=True,
            message=_("The buyer's name cannot be empty."),
        )
    if field == "buyer_language":
        code = inputs.language(value, field, label=_("Buyer language"), max_length=LANGUAGE_MAX_LENGTH)
        if not code:
            raise Refused(_("Give the buyer's language as a code, like en, es or zh-hans."), field=field)
        return code
    if field == "buyer_email":
        return inputs.email(value, field, label=_("Buyer email"))
    # E.164, read with the buyer's country as the region, as the import reads it.
    return inputs.phone(value, field, label=_("Buyer phone"), region=order.buyer_country or None)


def correct_contact(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    buyer_email: str | None = None,
    buyer_phone: str | None = None,
    buyer_language: str | None = None,
    buyer_name: str | None = None,
    note: str = "",
    seen: str | None = None,
) -> Order:
    """Correct the buyer's contact details; ``None`` leaves a field as it is.

    ``seen``: the version of the contact details the form showed (:func:`contact_version`); when
    someone changed them since, the correction is refused (``Stale``, naming what changed and
    who changed it) rather than put back the values the form showed. ``None`` (a script) is not
    checked.

    Needs ``orders.change_order`` (Supervisors). Under the order lock, each given value is
    checked (email address, phone number in E.164 — other forms are read with the buyer's
    country —, language code, a name) and stored; one ``correct_contact`` event lists every
    changed field as ``{"old": ..., "new": ...}``, with the note. Refused, writing nothing, when
    a value is invalid or when nothing would change.
    """
    policy.require(by, "orders.change_order", _("correct an order's contact details"))
    note = inputs.text(note, "note", max_length=2000, multiline=True)
    given = {
        "buyer_name": buyer_name,
        "buyer_email": buyer_email,
        "buyer_phone": buyer_phone,
        "buyer_language": buyer_language,
    }
    with operation("correct_contact", order, by=by) as t:
        check_order_version(t.order, CONTACT_FIELDS, seen)
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
        t.event(**changes, note=note)
    return t.order
