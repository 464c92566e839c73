"""Stores (issue 20): ``manage.py store``, the Store admin page, and the per-store settings that
replace the environment's where an order is at hand."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command

from orders import policy
from orders.models import Store
from tests.factories import OrderFactory, StoreFactory, UserFactory, default_store, staff

pytestmark = pytest.mark.django_db


def store(*args: str) -> str:
    out = StringIO()
    call_command("store", *args, stdout=out)
    return out.getvalue()


def refused(*args: str) -> str:
    with pytest.raises(CommandError) as error:
        store(*args)
    return str(error.value)


def codes_of(username: str) -> set[str]:
    user = get_user_model().objects.get(username=username)
    return set(user.stores.values_list("code", flat=True))


# --- store add -------------------------------------------------------------------------------


def test_store_add_creates_a_store_with_its_settings():
    # when
    out = store(
        "add",
        "eu",
        "--name",
        "Shopops EU",
        "--return-address",
        "Lagerstraße 12, Leipzig",
        "--payment-reminder-hours",
        "1.5",
        "--supplier-respond-days",
        "5",
        "--message-sender",
        "Shopops EU",
    )

    # then
    eu = Store.objects.get(code="eu")
    assert eu.name == "Shopops EU" and "Added store eu (Shopops EU)." in out
    assert eu.return_address == "Lagerstraße 12, Leipzig" and eu.message_sender == "Shopops EU"
    assert eu.payment_reminder_hours == 1.5 and eu.supplier_respond_days == 5
    # settings not given stay blank: the environment's value
    assert eu.payment_timeout_hours is None and eu.option("payment_timeout_hours") == 72


@pytest.mark.parametrize(
    "args, message",
    [
        (
            ["MAIN", "--name", "Again"],
            "A store with code “main” already exists (codes are unique regardless of case).",
        ),
        (["e u", "--name", "X"], "“e u” is not a valid store code"),
        (["_eu", "--name", "X"], "“_eu” is not a valid store code"),
        (["x" * 33, "--name", "X"], "is not a valid store code: 1–32 letters"),
        (["eu", "--name", " "], "Store name is required."),
        (
            ["eu", "--name", "X", "--payment-reminder-hours", "soon"],
            "Payment reminder after (hours) must be a number",
        ),
        (
            ["eu", "--name", "X", "--payment-timeout-hours", "-1"],
            "Payment timeout (hours) must be a number from 0",
        ),
        (["eu", "--name", "X", "--message-sender", "A\nBcc: x@y"], "must be one line"),
        (
            ["eu", "--name", "X", "--payment-reminder-hours", "80"],
            "The payment reminder (after 80 hours) must come before the payment timeout (after 72 hours)",
        ),
    ],
    ids=[
        "duplicate",
        "space",
        "underscore first",
        "too long",
        "no name",
        "not a number",
        "negative",
        "header",
        "order",
    ],
)
def test_store_add_refuses_with_a_message_saying_what_is_wrong(args, message):
    default_store()
    assert message in refused("add", *args)
    assert list(Store.objects.values_list("code", flat=True)) == ["main"]


# --- store grant / revoke ----------------------------------------------------------------------


def test_store_grant_adds_stores_and_revoke_takes_them_away():
    # given: an operator of the default store, and a second store
    operator = staff("Operator", stores=[default_store()])
    StoreFactory(code="eu", name="Shopops EU")
    assert not policy.works_for(operator, Store.objects.get(code="eu"))

    # when: granted eu (named in another case), and main again
    out = store("grant", "operator", "EU", "main")

    # then: both, the second already held
    assert codes_of("operator") == {"main", "eu"}
    assert "operator now works for eu." in out
    assert "operator already works for main: nothing to do." in out

    # when: main is revoked, twice
    out = store("revoke", "operator", "main")
    again = store("revoke", "operator", "main")

    # then
    assert codes_of("operator") == {"eu"}
    assert "operator no longer works for main." in out
    assert "operator did not work for main: nothing to do." in again


def test_a_grant_drops_the_users_cached_stores():
    from orders.workflow import stores

    operator = staff("Operator", stores=[default_store()])
    eu = StoreFactory(code="eu")
    assert policy.store_ids(operator) == frozenset({default_store().pk})  # now cached on the object

    stores.grant_stores(operator, [eu], by=None)
    assert policy.works_for(operator, eu)
    stores.revoke_stores(operator, [eu], by=None)
    assert not policy.works_for(operator, eu)


@pytest.mark.parametrize("action", ["grant", "revoke"])
def test_store_grant_and_revoke_name_an_unknown_user_or_store(action):
    staff("Operator", stores=[default_store()])
    StoreFactory(code="eu")

    assert refused(action, "nobody", "eu") == "Unknown user “nobody”."
    assert (
        refused(action, "operator", "eu", "xx")
        == "Unknown store “xx” (the stores are: eu, main). Nothing changed."
    )
    assert "Unknown stores “xx”, “yy”" in refused(action, "operator", "xx", "yy")
    assert codes_of("operator") == {"main"}


@pytest.mark.parametrize("action", ["grant", "revoke"])
def test_store_grant_to_a_superuser_changes_nothing_and_says_why(action):
    UserFactory(username="boss", is_superuser=True, stores=[])

    message = refused(action, "boss", "main")

    assert message == "boss is a superuser: superusers work for every store, nothing to grant or revoke."
    assert codes_of("boss") == set()


def test_store_grant_warns_when_the_user_cannot_log_in():
    UserFactory(username="intern", is_staff=False, stores=[])
    default_store()

    out = store("grant", "intern", "main")

    assert "intern now works for main." in out
    assert "Note: intern is not an active staff user" in out


def test_a_store_needs_superuser_rights_to_be_added_or_granted():
    from orders.workflow import stores
    from shopops.errors import NotPermitted

    supervisor = staff("Supervisor", stores=[default_store()])
    with pytest.raises(NotPermitted, match=r"You are not allowed to add stores\."):
        stores.add_store("eu", by=supervisor, name="EU")
    with pytest.raises(NotPermitted, match=r"You are not allowed to grant stores\."):
        stores.grant_stores(supervisor, [default_store()], by=supervisor)


# --- store list ------------------------------------------------------------------------------------


def test_store_list_shows_each_store_with_its_staff_groups_and_order_count():
    # given
    main, eu = default_store(), StoreFactory(code="eu", name="Shopops EU")
    staff("Operator", stores=[main])
    staff("Supervisor", stores=[main, eu])
    staff("Finance", stores=[])
    UserFactory(username="admin", is_superuser=True, stores=[])
    OrderFactory.create_batch(3, store=main)
    OrderFactory(store=eu)

    # when
    lines = store("list").splitlines()

    # then
    assert lines[0].split() == ["CODE", "NAME", "ORDERS", "STAFF"]
    assert lines[1].split() == ["eu", "Shopops", "EU", "1", "supervisor", "(Supervisor)"]
    assert lines[2].split() == [
        "main",
        "Main",
        "store",
        "3",
        "operator",
        "(Operator),",
        "supervisor",
        "(Supervisor)",
    ]
    assert lines[3] == "Superusers work for every store: admin."
