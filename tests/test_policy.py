"""The one access policy (orders/policy.py): the role and the store, and nothing left out of it."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.contrib import admin
from django.db import models

from orders import policy
from orders.models import Order, Refund, Store
from orders.scoped_admin import StoreScopedAdmin
from shopops.errors import NotPermitted, Refused
from tests.factories import OrderFactory, RefundFactory, StoreFactory, UserFactory, default_store, staff

pytestmark = pytest.mark.django_db


def _store_bound_models() -> set[str]:
    """Every model whose rows reach an order or a store by foreign keys (discovered)."""
    bound = {"orders.order", "orders.store"}
    changed = True
    while changed:
        changed = False
        for model in apps.get_models():
            label = model._meta.label_lower
            if label in bound or model._meta.auto_created:
                continue
            for field in model._meta.concrete_fields:
                if isinstance(field, models.ForeignKey) and field.related_model._meta.label_lower in bound:
                    bound.add(label)
                    changed = True
                    break
    return bound


def test_every_model_that_belongs_to_an_order_or_a_store_has_its_path_in_the_policy():
    missing = _store_bound_models() - set(policy.STORE_PATHS)
    assert not missing, f"add these to orders.policy.STORE_PATHS: {sorted(missing)}"


def test_every_path_of_the_policy_reaches_the_store():
    for label, path in policy.STORE_PATHS.items():
        model = apps.get_model(label)
        target = model
        for hop in path.split("__") if path else []:
            target = target._meta.get_field(hop).related_model
        assert target is Store, label


def test_every_admin_of_a_store_scoped_model_is_a_store_scoped_admin():
    admin.autodiscover()
    for model, model_admin in admin.site._registry.items():
        if model._meta.label_lower in policy.STORE_PATHS and model is not Store:
            assert isinstance(model_admin, StoreScopedAdmin), model._meta.label


def test_the_role_and_the_store_both_decide():
    a, b = default_store(), StoreFactory(code="B")
    operator = staff("Operator", stores=[a])
    finance = staff("Finance", stores=[a, b])
    order_a, order_b = OrderFactory(store=a), OrderFactory(store=b)
    assert policy.may(operator, "orders.mark_paid", order_a)
    assert not policy.may(operator, "orders.mark_paid", order_b)  # another store
    assert not policy.may(finance, "orders.mark_paid", order_a)  # not the role
    assert policy.may(finance, "orders.view_order", order_b)
    # Django's own question gives the same answers (the rules backend).
    assert operator.has_perm("orders.mark_paid", order_a)
    assert not operator.has_perm("orders.mark_paid", order_b)
    root = UserFactory(username="root", is_superuser=True)
    assert policy.may(root, "orders.resolve_dispute", order_b)
    assert policy.may(None, "orders.resolve_dispute", order_b)  # the system
    inactive = staff("Operator", "gone", stores=[a])
    inactive.is_active = False
    assert not policy.may(inactive, "orders.mark_paid", order_a)
    assert policy.store_ids(inactive) == frozenset()


def test_require_says_not_allowed_for_the_role_and_does_not_exist_for_another_store():
    a, b = default_store(), StoreFactory(code="B")
    operator = staff("Operator", stores=[a])
    refund_b = RefundFactory(order=OrderFactory(store=b))
    with pytest.raises(NotPermitted, match="not allowed to resolve"):
        policy.require(operator, "orders.resolve_dispute", "resolve disputes")
    with pytest.raises(policy.NotFound) as refused:
        policy.require(operator, "orders.view_refund", "see refunds", refund_b)
    assert str(refused.value) == f"Refund {refund_b} does not exist."


def test_lists_are_scoped_and_a_relation_reaches_the_store():
    a, b = default_store(), StoreFactory(code="B")
    operator = staff("Operator", stores=[a])
    RefundFactory(order=OrderFactory(store=a))
    RefundFactory(order=OrderFactory(store=b))
    assert policy.scope(operator, Order.objects.all()).count() == 1
    assert policy.scope(operator, Refund.objects.all()).get().order.store == a
    assert policy.scope(None, Refund.objects.all()).count() == 2
    assert list(policy.stores(operator)) == [a]


def test_a_grant_is_seen_after_forget():
    a, b = default_store(), StoreFactory(code="B")
    operator = staff("Operator", stores=[a])
    assert not policy.works_for(operator, b)
    b.staff.add(operator)
    policy.forget(operator)
    assert policy.works_for(operator, b)


def test_a_store_named_in_an_input_is_refused_by_name():
    a, _eu = default_store(), StoreFactory(code="EU")
    operator = staff("Operator", stores=[a])
    assert policy.store_for(operator, " main ") == a
    with pytest.raises(Refused, match="Unknown store “XX”"):
        policy.store_for(operator, "XX")
    with pytest.raises(Refused, match="do not work for store “EU”"):
        policy.store_for(operator, "eu")
    assert policy.only_store(operator) is None  # two stores: the file must say which
