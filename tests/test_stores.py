"""Stores (issue 20): ``manage.py store``, the Store admin page, and the per-store settings that
replace the environment's where an order is at hand."""

from __future__ import annotations

from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core.management import CommandError, call_command
from django.test import Client

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


# --- the Store admin page ----------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(**values) -> dict:
    form = {
        "code": "",
        "name": "",
        "time_zone": "",
        "currency": "USD",
        "return_address": "",
        "payment_reminder_hours": "",
        "payment_timeout_hours": "",
        "supplier_respond_days": "",
        "message_sender": "",
    }
    return {**form, **values}


def test_a_superuser_adds_and_changes_a_store_with_its_settings_and_staff():
    # given
    admin_user = UserFactory(username="boss", is_superuser=True, stores=[])
    operator = staff("Operator", stores=[default_store()])
    supervisor = staff("Supervisor", stores=[default_store()])
    client = _client(admin_user)
    add_page = client.get("/admin/orders/store/add/").content.decode()
    assert "Blank: SHOPOPS_PAYMENT_REMINDER_HOURS, now “24" in add_page
    assert ">boss</option>" not in add_page and ">operator</option>" in add_page  # staff to choose from

    # when: a store is added with two staff and a faster payment reminder
    response = client.post(
        "/admin/orders/store/add/",
        _form(
            code="eu",
            name="Shopops EU",
            staff=[operator.pk, supervisor.pk],
            payment_reminder_hours="1",
            return_address="Lagerstraße 12\n04109 Leipzig",
        ),
    )

    # then
    assert response.status_code == 302, response.content.decode()[:2000]
    eu = Store.objects.get(code="eu")
    assert eu.payment_reminder_hours == 1 and eu.return_address == "Lagerstraße 12\n04109 Leipzig"
    assert codes_of("operator") == {"main", "eu"} and codes_of("supervisor") == {"main", "eu"}

    # when: renamed, the operator taken off, the reminder back to the environment's
    response = client.post(
        f"/admin/orders/store/{eu.pk}/change/",
        _form(code="EU", name="Shopops Europe", staff=[supervisor.pk], currency="EUR"),
    )

    # then
    assert response.status_code == 302
    eu.refresh_from_db()
    assert (eu.code, eu.name, eu.currency, eu.payment_reminder_hours) == ("EU", "Shopops Europe", "EUR", None)
    assert codes_of("operator") == {"main"} and codes_of("supervisor") == {"main", "EU"}
    listing = client.get("/admin/orders/store/").content.decode()
    assert "Shopops Europe" in listing and "Main store" in listing


@pytest.mark.parametrize(
    "values, field, message",
    [
        ({"code": "MAIN"}, "code", "A store with code “main” already exists"),
        ({"code": "e u"}, "code", "is not a valid store code"),
        ({"payment_reminder_hours": "100"}, "payment_reminder_hours", "must come before the payment timeout"),
        ({"time_zone": "Mars/Olympus"}, "time_zone", "is not a time zone"),
        ({"currency": "E1"}, "currency", "is not a three-letter currency code"),
    ],
)
def test_the_store_form_shows_the_workflows_refusal_on_its_field(values, field, message):
    default_store()
    client = _client(UserFactory(username="boss", is_superuser=True, stores=[]))

    response = client.post("/admin/orders/store/add/", _form(**{"code": "eu", "name": "EU", **values}))

    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert message in " ".join(errors[field]), errors
    assert Store.objects.count() == 1


def test_a_one_store_supervisor_sees_only_their_store_and_cannot_change_it():
    # given: a supervisor of main only, and a second store
    main, eu = default_store(), StoreFactory(code="eu", name="Shopops EU")
    client = _client(staff("Supervisor", stores=[main]))

    # when / then: the list holds main only
    listing = client.get("/admin/orders/store/")
    assert listing.status_code == 200
    assert list(listing.context["cl"].result_list) == [main]
    assert "Shopops EU" not in listing.content.decode()
    # main's page is read-only: no field to type in, no save button
    page = client.get(f"/admin/orders/store/{main.pk}/change/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'name="code"' not in html and 'name="_save"' not in html
    # eu does not exist for them, and nothing can be added or changed
    assert client.get(f"/admin/orders/store/{eu.pk}/change/").status_code == 404
    assert client.get("/admin/orders/store/add/").status_code == 403
    response = client.post(f"/admin/orders/store/{main.pk}/change/", _form(code="main", name="Mine"))
    assert response.status_code == 403
    assert Store.objects.get(pk=main.pk).name == "Main store"


def test_the_admin_saves_through_the_workflow(monkeypatch):
    from orders.workflow import stores

    calls = []
    monkeypatch.setattr(
        stores, "save_store", lambda *a, **k: calls.append(k) or Store.objects.get(code="main")
    )
    client = _client(UserFactory(username="boss", is_superuser=True, stores=[]))
    main = default_store()

    client.post(f"/admin/orders/store/{main.pk}/change/", _form(code="main", name="Renamed"))

    assert [c["name"] for c in calls] == ["Renamed"]
    assert Store.objects.get(pk=main.pk).name == "Main store"  # the admin wrote nothing itself
