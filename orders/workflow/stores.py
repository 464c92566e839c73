"""Stores change only here: a new store, its code, name and settings, who works for it, and its
connections to the platforms (``connect_store``: app keys, and app secrets and access tokens
stored encrypted by ``shopops.secrets``, never returned or logged).

``manage.py store`` and the Store admin page call these; so does ``seed_demo``. Each takes the
acting user as ``by=`` (``None``: the system, a command run by the machine's operator), asks the
access policy (``orders.add_store`` to add, ``orders.change_store`` and the store's own to change
or grant: only superusers hold them), parses its inputs with ``shopops.inputs`` and writes in one
transaction. A grant or revoke drops the user's cached store ids (``policy.forget``), so a user
object held in this process answers from the new grants at once.

Superusers work for every store (``orders.policy``): a grant to one would change nothing, so it
is refused with that reason. Granting a store the user already works for, or revoking one they
do not, changes nothing and is not an error (the functions return what they changed).
"""

from __future__ import annotations

import logging
import re
import zoneinfo
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.exceptions import ImproperlyConfigured
from django.db import transaction
from django.utils import timezone
from django.utils.text import capfirst
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shopops import inputs, secrets
from shopops.errors import Refused

from .. import policy
from ..models import Platform, Store, StoreConnection
from ..models.store import CODE_PATTERN

logger = logging.getLogger(__name__)

_CODE = re.compile(CODE_PATTERN)
_CURRENCY = re.compile(r"^[A-Z]{3}$")
# The per-store settings a store may be given (orders.models.store.OPTIONS), and ``currency``.
SETTINGS = (
    "time_zone",
    "currency",
    "return_address",
    "payment_reminder_hours",
    "payment_timeout_hours",
    "supplier_respond_days",
    "message_sender",
)
# Hours and days: from 0 to a year (a deadline further away is refused everywhere else too).
_MAXIMUM = {
    "payment_reminder_hours": 24 * 366,
    "payment_timeout_hours": 24 * 366,
    "supplier_respond_days": 366,
}


def _label(field: str) -> str:
    return capfirst(str(Store._meta.get_field(field).verbose_name))


def _max_length(field: str) -> int:
    return Store._meta.get_field(field).max_length


def clean_code(value: Any) -> str:
    """A store code as typed (its case kept): 1–32 letters, digits, “-” or “_”."""
    code = inputs.text(value, "code", max_length=200, label=_("Store code"), required=True)
    if not _CODE.match(code):
        raise Refused(
            _(
                "“%(code)s” is not a valid store code: 1–32 letters, digits, “-” or “_”, "
                "starting with a letter or digit."
            )
            % {"code": inputs.shown(code)},
            field="code",
        )
    return code


def _number(value: Any, field: str) -> float | None:
    """Hours or days, from 0 to a year; ``None`` when blank (the environment's value)."""
    if value is None or isinstance(value, bool):
        number = None if value is None else Decimal("NaN")
    elif isinstance(value, int | float | Decimal):
        number = Decimal(repr(value) if isinstance(value, float) else value)
    else:
        raw = inputs.text(value, field, max_length=40, label=_label(field))
        if not raw:
            return None
        try:
            number = Decimal(raw)
        except InvalidOperation:
            number = Decimal("NaN")
    if number is None:
        return None
    if not number.is_finite() or not Decimal(0) <= number <= _MAXIMUM[field]:
        raise Refused(
            _("%(field)s must be a number from 0 to %(n)d; “%(value)s” is not.")
            % {"field": _label(field), "n": _MAXIMUM[field], "value": inputs.shown(value)},
            field=field,
        )
    return float(number)


def clean_settings(**values: Any) -> dict[str, Any]:
    """The per-store settings among ``values`` (names of :data:`SETTINGS`), parsed; blank is
    the environment's value. Unknown names are refused (a typo must not pass silently)."""
    unknown = sorted(set(values) - set(SETTINGS))
    if unknown:
        raise Refused(_("Unknown store setting: %(names)s.") % {"names": ", ".join(unknown)})
    cleaned: dict[str, Any] = {}
    for field, value in values.items():
        if field in _MAXIMUM:
            cleaned[field] = _number(value, field)
        elif field == "return_address":
            cleaned[field] = inputs.text(value, field, max_length=2000, label=_label(field), multiline=True)
        elif field == "currency":
            currency = inputs.text(value, field, max_length=3, label=_label(field), required=True).upper()
            if not _CURRENCY.match(currency):
                raise Refused(
                    _("“%(value)s” is not a three-letter currency code.") % {"value": currency}, field=field
                )
            cleaned[field] = currency
        else:
            cleaned[field] = inputs.text(value, field, max_length=_max_length(field), label=_label(field))
    zone = cleaned.get("time_zone")
    if zone and zone not in zoneinfo.available_timezones():
        raise Refused(
            _("“%(value)s” is not a time zone (like Asia/Shanghai or Europe/Berlin).")
            % {"value": inputs.shown(zone)},
            field="time_zone",
        )
    return cleaned


def _check_payment_hours(store: Store) -> None:
    reminder = float(store.option("payment_reminder_hours"))
    timeout = float(store.option("payment_timeout_hours"))
    if reminder >= timeout:
        raise Refused(
            _(
                "The payment reminder (after %(reminder)g hours) must come before the payment timeout "
                "(after %(timeout)g hours): no buyer would ever be reminded."
            )
            % {"reminder": reminder, "timeout": timeout},
            field="payment_reminder_hours",
        )


def _check_code_free(code: str, store: Store | None) -> None:
    taken = Store.objects.filter(code__iexact=code).exclude(pk=store.pk if store else None).first()
    if taken is not None:
        raise Refused(
            _("A store with code “%(code)s” already exists (codes are unique regardless of case).")
            % {"code": taken.code},
            field="code",
        )


def check_store(store: Store | int | None, *, code: Any, name: Any, **settings: Any) -> dict[str, Any]:
    """The cleaned code, name and ``settings`` of a store to add (``store`` ``None``) or change,
    or ``Refused`` naming the input at fault; writes nothing (the admin's form asks it first)."""
    code = clean_code(code)
    name = inputs.text(name, "name", max_length=_max_length("name"), label=_("Store name"), required=True)
    values = clean_settings(**settings)
    current = None if store is None else _get(store)
    _check_code_free(code, current)
    merged = Store(**{f: getattr(current, f) for f in SETTINGS} if current else {})
    for field, value in values.items():
        setattr(merged, field, value)
    _check_payment_hours(merged)
    return {"code": code, "name": name, **values}


@transaction.atomic
def save_store(
    store: Store | int | None,
    *,
    by: AbstractBaseUser | None,
    code: Any,
    name: Any,
    staff: Iterable[AbstractBaseUser] | None = None,
    **settings: Any,
) -> Store:
    """Add a store (``store`` is ``None``) or change one: code, name, per-store ``settings``
    (:data:`SETTINGS`; those not given are left as they are) and, when ``staff`` is given,
    exactly who works for it (:func:`set_store_staff`).

    Needs ``orders.add_store`` to add, ``orders.change_store`` and the store's own to change.
    Refused when the code is invalid or another store has it (in any case), the name is
    missing, a setting is invalid, or the payment reminder would not come before the timeout.
    """
    adding = store is None
    if adding:
        policy.require(by, "orders.add_store", _("add stores"))
        locked = Store()
    else:
        policy.require(by, "orders.change_store", _("change stores"))
        locked = _get(store, lock=True)
        policy.require(by, "orders.change_store", _("change stores"), obj=locked)
    for field, value in check_store(locked.pk, code=code, name=name, **settings).items():
        setattr(locked, field, value)
    locked.save()
    logger.info("Store %s %s by %s", locked.code, "added" if adding else "changed", _actor(by))
    if staff is not None:
        set_store_staff(locked, staff, by=by)
    return locked


def add_store(code: Any, *, by: AbstractBaseUser | None, name: Any, **settings: Any) -> Store:
    """A new store (``manage.py store add``): :func:`save_store` with no store."""
    return save_store(None, by=by, code=code, name=name, **settings)


def _get(store: Store | int, *, lock: bool = False) -> Store:
    pk = store.pk if isinstance(store, Store) else store
    rows = Store.objects.select_for_update() if lock else Store.objects.all()
    try:
        return rows.get(pk=pk)
    except (Store.DoesNotExist, ValueError, TypeError):
        raise policy.not_found(Store, pk) from None


def _actor(by: AbstractBaseUser | None) -> str:
    return by.get_username() if by is not None else "the system"


def _refuse_superuser(user: AbstractBaseUser) -> None:
    if user.is_superuser:
        raise Refused(
            _("%(user)s is a superuser: superusers work for every store, nothing to grant or revoke.")
            % {"user": user.get_username()},
            field="user",
        )


def _forget(users: list[AbstractBaseUser], by: AbstractBaseUser | None) -> None:
    """Drop the cached store ids of ``users``, and of ``by`` when it is one of them."""
    changed = {user.pk for user in users}
    for user in users:
        policy.forget(user)
    if by is not None and by.pk in changed:
        policy.forget(by)


@transaction.atomic
def set_store_staff(store: Store, users: Iterable[AbstractBaseUser], *, by: AbstractBaseUser | None) -> None:
    """Exactly ``users`` work for ``store`` (the admin's staff field): the others are revoked.
    Needs ``orders.change_store`` and the store's own; refused when a superuser is among them."""
    policy.require(by, "orders.change_store", _("change stores"), obj=store)
    users = list(users)
    for user in users:
        _refuse_superuser(user)
    wanted = {user.pk: user for user in users}
    current = set(store.staff.values_list("pk", flat=True))
    added = [wanted[pk] for pk in wanted if pk not in current]
    removed = [pk for pk in current if pk not in wanted]
    if added:
        store.staff.add(*added)
    if removed:
        store.staff.remove(*removed)
    gone = list(get_user_model().objects.filter(pk__in=removed))
    _forget([*added, *gone], by)
    for user in added:
        logger.info("Store %s granted to %s by %s", store.code, user.get_username(), _actor(by))
    for user in gone:
        logger.info("Store %s revoked from %s by %s", store.code, user.get_username(), _actor(by))


def _stores_to_change(stores: Iterable[Store], *, by: AbstractBaseUser | None, doing: str) -> list[Store]:
    found = list(dict.fromkeys(stores))
    for store in found:
        policy.require(by, "orders.change_store", doing, obj=store)
    return found


@transaction.atomic
def grant_stores(
    user: AbstractBaseUser, stores: Iterable[Store], *, by: AbstractBaseUser | None
) -> list[Store]:
    """``user`` works for ``stores`` as well (``manage.py store grant``); returns the stores
    newly granted (those already granted change nothing). Refused for a superuser."""
    stores = _stores_to_change(stores, by=by, doing=_("grant stores"))
    _refuse_superuser(user)
    held = set(user.stores.values_list("pk", flat=True))
    added = [store for store in stores if store.pk not in held]
    if added:
        user.stores.add(*added)
        _forget([user], by)
        logger.info(
            "Stores %s granted to %s by %s",
            ", ".join(s.code for s in added),
            user.get_username(),
            _actor(by),
        )
    return added


@transaction.atomic
def revoke_stores(
    user: AbstractBaseUser, stores: Iterable[Store], *, by: AbstractBaseUser | None
) -> list[Store]:
    """``user`` no longer works for ``stores`` (``manage.py store revoke``); returns the stores
    revoked (those not granted change nothing). Refused for a superuser."""
    stores = _stores_to_change(stores, by=by, doing=_("revoke stores"))
    _refuse_superuser(user)
    held = set(user.stores.values_list("pk", flat=True))
    removed = [store for store in stores if store.pk in held]
    if removed:
        user.stores.remove(*removed)
        _forget([user], by)
        logger.info(
            "Stores %s revoked from %s by %s",
            ", ".join(s.code for s in removed),
            user.get_username(),
            _actor(by),
        )
    return removed


# --- connections to the platforms (SPEC section 11, docs/platforms.md) -------------------------

# What each credential is called where a person sees it, and its longest value.
CREDENTIALS = {
    "app_key": (gettext_lazy("App key"), 64),
    "app_secret": (gettext_lazy("App secret"), 256),
    "access_token": (gettext_lazy("Access token"), 1024),
}


def _credential(value: Any, name: str, platform: str) -> str:
    label, longest = CREDENTIALS[name]
    what = f"{Platform(platform).label} {str(label).lower()}"
    return inputs.text(value, name, max_length=longest, label=what)


@transaction.atomic
def connect_store(
    store: Store | int,
    *,
    by: AbstractBaseUser | None,
    platform: str,
    app_key: Any = None,
    app_secret: Any = None,
    access_token: Any = None,
) -> StoreConnection:
    """Connect ``store`` to ``platform`` (``aliexpress`` or ``1688``) with its app key, app secret
    and access token (``manage.py store connect``, the Store admin page).

    A first connection needs all three; a later one changes those given and keeps the others
    (blank: keep). The secret and the token are stored encrypted (``shopops.secrets``) and are
    never returned, logged or recorded in a history. Needs ``orders.change_store`` and the store's
    own (superusers). Refused, naming the input, for a missing, multi-line or overlong value, or
    when ``SHOPOPS_SECRETS_KEY`` is not set.
    """
    policy.require(by, "orders.change_store", _("change stores"))
    locked = _get(store, lock=True)
    policy.require(by, "orders.change_store", _("change stores"), obj=locked)
    platform = inputs.choice(platform, "platform", Platform, label=_("Platform"))
    given = {
        "app_key": _credential(app_key, "app_key", platform),
        "app_secret": _credential(app_secret, "app_secret", platform),
        "access_token": _credential(access_token, "access_token", platform),
    }
    current = StoreConnection.objects.select_for_update().filter(store=locked, platform=platform).first()
    for name, value in given.items():
        if not value and current is None:
            raise Refused(
                _("%(what)s is required to connect the store.")
                % {"what": f"{Platform(platform).label} {str(CREDENTIALS[name][0]).lower()}"},
                field=name,
            )
    connection = current or StoreConnection(store=locked, platform=platform)
    try:
        if given["app_key"]:
            connection.app_key = given["app_key"]
        if given["app_secret"]:
            connection.app_secret = secrets.encrypt(given["app_secret"])
        if given["access_token"]:
            connection.access_token = secrets.encrypt(given["access_token"])
    except ImproperlyConfigured as error:
        raise Refused(str(error)) from None
    connection.connected_at = timezone.now()
    connection.save()
    changed = ", ".join(name for name, value in given.items() if value) or "nothing"
    logger.info("Store %s connected to %s (%s set) by %s", locked.code, platform, changed, _actor(by))
    return connection


def connection_status(store: Store) -> dict[str, dict[str, bool | str]]:
    """For each platform, what is set (never a secret's value): the app key as it is, and whether
    the secret and the token are set — what the Store admin page and ``store list`` show."""
    found = {c.platform: c for c in StoreConnection.objects.filter(store=store)}
    return {
        platform: {
            "app_key": found[platform].app_key if platform in found else "",
            "app_secret": platform in found and bool(found[platform].app_secret),
            "access_token": platform in found and bool(found[platform].access_token),
        }
        for platform in Platform.values
    }
