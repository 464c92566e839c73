"""The one access policy: may this user do this action on this object, or in this store?

Two questions make every answer:

- **the role**: does the user hold the permission? Roles are the staff groups and their
  permissions (``orders.groups``; each transition's from its declaration in
  ``orders.transitions``). Superusers hold every permission; the system (``by=None``: the
  periodic jobs, the worker, a command run by the operator of the machine) may do anything.
- **the object**: is the object in one of the user's stores? An object belongs to the store of
  its order (:data:`STORE_PATHS` says how each model reaches it). Superusers and the system work
  for every store; other staff for the stores they were granted (``Store.staff``,
  ``manage.py store grant``).

The rules are written with django-rules (predicates combined with ``&``, one rule per
permission, registered in ``rules.permissions``), and ``rules.permissions.ObjectPermissionBackend``
is an authentication backend, so Django's own ``user.has_perm(perm, obj)`` gives the same answer.
A role is refused with :class:`~shopops.errors.NotPermitted` ("You are not allowed to …"); an object
of another store is refused exactly like an object that does not exist (:class:`NotFound`, a 404
on every screen), so its existence is not disclosed.

How the code asks:

- lists, counts, queues, analytics, exports: :func:`scope` (a queryset of the user's stores only);
- one object by id on a screen: :func:`get_or_404`;
- the workflow: :func:`require` (role, then object), called by the transition frame when it
  locks the order, by ``operation`` and by every entry point that takes an object;
- a store named in an input (the CSV's ``store`` column, ``--store``): :func:`store_for`;
- who could do it (an order's assignee, the people told of a hand-off): :func:`people_who_may`;
- whether a list of work is for the user (the admin index): :func:`may_any`, of the permissions
  that act on what it lists.
"""

from __future__ import annotations

from collections.abc import Iterable

import rules
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db.models import Model, Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from shopops.errors import NotPermitted, Refused

from .models import Store

# How each store-scoped model reaches its store: a lookup path to the Store. A model not listed
# is not scoped by store (SKUs, exchange rates and buyer-message wording are shared by all
# stores). ``None``-able paths (an adjustment of stock names no order) are said in NULLABLE.
STORE_PATHS: dict[str, str] = {
    "orders.store": "",
    "orders.order": "store",
    "orders.orderledger": "store",
    "orders.supplierorder": "order__store",
    "orders.orderevent": "order__store",
    "orders.refund": "order__store",
    "orders.notification": "order__store",
    "orders.feedback": "order__store",
    "orders.feedbackevent": "feedback__order__store",
    "orders.stockmovement": "order__store",
    "orders.orderimport": "store",
    "orders.storeconnection": "store",
    "orders.syncstate": "store",
    "orders.platformdispute": "store",
    "orders.platformrefund": "store",
    "evidence.communication": "order__store",
    "evidence.attachment": "order__store",
}
# Rows that may have no store, and who sees those: a stock adjustment that names no order is of
# the shared warehouse (everyone with the role); an outbox row of no order (the supervisors'
# report of overdue supplier refunds, which may name every store) and an import that touched
# several stores are only for those who work for every store.
NO_STORE_FOR_ALL = {"orders.stockmovement"}
NO_STORE_FOR_SUPERUSERS = {"orders.notification", "orders.orderimport"}

_roles = ModelBackend()


class NotFound(Refused):
    """The object does not exist, or is of a store the user does not work for (said the same)."""


def _label(model: type[Model] | Model) -> str:
    return model._meta.label_lower


# --- the user's stores --------------------------------------------------------------------


def store_ids(user) -> frozenset[int] | None:
    """The ids of the stores ``user`` works for; ``None`` for every store (system, superuser).

    Read once per user object (a request's user, a task's): cached on it.
    """
    if user is None:
        return None
    if not user.is_active:
        return frozenset()
    if user.is_superuser:
        return None
    cached = getattr(user, "_shopops_store_ids", None)
    if cached is None:
        cached = frozenset(
            Store.staff.through.objects.filter(user_id=user.pk).values_list("store_id", flat=True)
        )
        user._shopops_store_ids = cached
    return cached


def forget(user) -> None:
    """Drop the cached stores of ``user`` (after a grant or revoke in the same process)."""
    if user is not None and hasattr(user, "_shopops_store_ids"):
        del user._shopops_store_ids


def stores(user) -> QuerySet[Store]:
    """The stores ``user`` works for."""
    ids = store_ids(user)
    return Store.objects.all() if ids is None else Store.objects.filter(pk__in=ids)


def works_for(user, store: Store | int | None) -> bool:
    ids = store_ids(user)
    if ids is None:
        return True
    if store is None:
        return False
    return (store.pk if isinstance(store, Store) else store) in ids


def store_of(obj: Model) -> int | None:
    """The id of the store ``obj`` belongs to (``None`` if it has none), by its STORE_PATHS path."""
    path = STORE_PATHS[_label(obj)]
    if not path:
        return obj.pk
    *hops, last = path.split("__")
    for hop in hops:
        obj = getattr(obj, hop)
        if obj is None:
            return None
    return getattr(obj, f"{last}_id")


def visible(user, obj: Model) -> bool:
    """Is ``obj`` of one of ``user``'s stores (or shared by every store)? The object half of
    every rule; the admin asks it beside Django's role check."""
    return _in_stores(user, obj)


def _in_stores(user, obj: Model) -> bool:
    ids = store_ids(user)
    if ids is None:
        return True
    label = _label(obj)
    if label not in STORE_PATHS:
        return True  # shared by every store
    store = store_of(obj)
    if store is None:
        return label in NO_STORE_FOR_ALL
    return store in ids


# --- lists --------------------------------------------------------------------------------


def store_condition(user, model: type[Model], *, prefix: str = "") -> Q:
    """The condition that keeps ``model``'s rows of ``user``'s stores (``Q()``: every row).

    ``prefix`` is the path from the queried model to ``model`` (``"order__"`` when listing
    refunds by their order, say).
    """
    ids = store_ids(user)
    label = _label(model)
    if ids is None or label not in STORE_PATHS:
        return Q()
    path = STORE_PATHS[label]
    field = f"{prefix}{path}_id" if path else f"{prefix}pk"
    condition = Q(**{f"{field}__in": sorted(ids)})
    if label in NO_STORE_FOR_ALL:
        condition |= Q(**{f"{prefix}{path}__isnull": True})
    return condition


def scope(user, queryset: QuerySet) -> QuerySet:
    """``queryset`` limited to what ``user`` may see: their stores' rows (every list asks this)."""
    condition = store_condition(user, queryset.model)
    return queryset.filter(condition) if condition else queryset


# --- one action -----------------------------------------------------------------------------


@rules.predicate
def _active(user) -> bool:
    return user is not None and user.is_active


@rules.predicate
def _in_user_stores(user, obj) -> bool:
    """No object: the role alone decides. An object: it is of one of the user's stores."""
    if obj is None:
        return True
    if isinstance(obj, Store):
        return works_for(user, obj)
    return _in_stores(user, obj)


def _role(perm: str) -> rules.Predicate:
    """The user holds ``perm`` through their groups (or is a superuser)."""

    def holds(user) -> bool:
        return _roles.has_perm(user, perm)

    return rules.Predicate(holds, name=f"role:{perm}")


def rule(perm: str) -> rules.Predicate:
    """The rule of ``perm``: an active user, with the role, on an object of their stores."""
    if not rules.perm_exists(perm):
        rules.add_perm(perm, _active & _role(perm) & _in_user_stores)
    return rules.permissions.permissions[perm]


def may(user, perm: str, obj: Model | None = None) -> bool:
    """May ``user`` (``None``: the system) do ``perm`` (``"app.codename"``), on ``obj`` if given?"""
    if user is None:
        return True
    return rule(perm).test(user, obj)


def may_any(user, perms: Iterable[str], obj: Model | None = None) -> bool:
    """May ``user`` do at least one of ``perms`` (on ``obj`` if given)? A list of work is offered
    to those who can act on what it lists (the admin index's worklist and queues)."""
    return any(may(user, perm, obj) for perm in perms)


# Marking a refund received: its money was seen to arrive (``workflow.mark_refund_received``).
# Finance marks any refund received (SPEC §5) and it is Finance's work for the money due to us,
# which it sees arrive in our account; a buyer's refund is seen arriving on the platform, by those
# who confirm refunds there (Supervisors): it is their work, and they may mark it received too.
RECEIVED_PERMISSION = "orders.mark_refund_received"
BUYER_RECEIVED_PERMISSION = "orders.mark_buyer_refund_received"
RECEIVED_PERMISSIONS = (RECEIVED_PERMISSION, BUYER_RECEIVED_PERMISSION)


def received_permission(direction: str) -> str:
    """Whose work it is to see a refund of ``direction`` arrive and mark it received: the holders
    of this permission (the buyer's refunds, ``to_buyer``: on the platform; the others: in our
    account)."""
    return BUYER_RECEIVED_PERMISSION if direction == "to_buyer" else RECEIVED_PERMISSION


def may_mark_received(user, refund: Model) -> bool:
    """May ``user`` mark ``refund`` received: Finance any refund, the holders of its direction's
    permission (:func:`received_permission`) that one; of the user's stores."""
    return may(user, RECEIVED_PERMISSION, refund) or may(user, received_permission(refund.direction), refund)


def require(user, perm: str, doing: str, obj: Model | None = None) -> None:
    """Refuse unless :func:`may`: ``NotPermitted`` for the role ("You are not allowed to
    ``doing``"), ``NotFound`` for an object of another store (said as if it did not exist)."""
    if user is None:
        return
    if not may(user, perm):
        raise NotPermitted(_("You are not allowed to %(doing)s.") % {"doing": doing})
    if obj is not None and not _in_stores(user, obj):
        raise not_found(obj)


def not_found(obj: Model | type[Model], key: object = None) -> NotFound:
    """The refusal of an object that does not exist, or that the user may not know of."""
    model = obj if isinstance(obj, type) else type(obj)
    shown = key if key is not None else obj
    return NotFound(
        _("%(model)s %(key)s does not exist.")
        % {"model": str(model._meta.verbose_name).capitalize(), "key": shown}
    )


def get_or_404(user, queryset: QuerySet | type[Model], **lookup) -> Model:
    """The one object of ``queryset`` matching ``lookup`` among ``user``'s stores, else 404."""
    if isinstance(queryset, type):
        queryset = queryset._default_manager.all()
    try:
        return scope(user, queryset).get(**lookup)
    except (queryset.model.DoesNotExist, ValueError, TypeError) as error:
        raise Http404(str(queryset.model._meta.verbose_name)) from error


# --- who could do it -------------------------------------------------------------------------


def people_who_may(perm: str, store: Store | int | Iterable[int] | None = None) -> QuerySet:
    """The staff who may do ``perm`` on objects of ``store`` (a store, its id, or ids: of any of
    them): active staff users holding the role (a superuser, or the permission through a group or
    their own) who work for the store (a superuser works for every store). The same answer as
    :func:`may` for each of them, as one query: an order's possible assignees, the people a
    hand-off tells."""
    app_label, codename = perm.split(".")
    User = get_user_model()
    holds = (
        Q(is_superuser=True)
        | Q(groups__permissions__codename=codename, groups__permissions__content_type__app_label=app_label)
        | Q(user_permissions__codename=codename, user_permissions__content_type__app_label=app_label)
    )
    people = User.objects.filter(is_active=True, is_staff=True).filter(
        pk__in=User.objects.filter(holds).values("pk")
    )
    if store is None:
        return people
    if isinstance(store, Store | int):
        ids = [store.pk if isinstance(store, Store) else store]
    else:
        ids = sorted(set(store))
    staff = Store.staff.through.objects.filter(store_id__in=ids).values("user_id")
    return people.filter(Q(is_superuser=True) | Q(pk__in=staff))


# --- stores named in inputs -------------------------------------------------------------------


def store_for(user, code: str, *, field: str = "store") -> Store:
    """The store whose code is ``code``, that ``user`` works for; else a refusal naming it."""
    code = (code or "").strip()
    store = Store.objects.filter(code__iexact=code).first() if code else None
    if store is None:
        raise Refused(_("Unknown store “%(code)s”.") % {"code": code}, field=field)
    if not works_for(user, store):
        raise Refused(_("You do not work for store “%(code)s”.") % {"code": store.code}, field=field)
    return store


def only_store(user) -> Store | None:
    """The store of a file that names none: the only store there is (SPEC §11), if the user
    works for it; ``None`` when there are several (the caller asks which)."""
    candidates = list(Store.objects.all()[:2])
    if len(candidates) != 1:
        return None
    return candidates[0] if works_for(user, candidates[0]) else None
