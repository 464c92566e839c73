"""Stores (issue 20): ``manage.py store``, the Store admin page, and the per-store settings that
replace the environment's where an order is at hand."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders import delivery, jobs, policy, workflow
from orders.models import Notification, Order, Refund, Status, Store
from orders.selectors import due
from orders.workflow import outbox
from tests.factories import (
    OrderFactory,
    StoreFactory,
    SupplierOrderFactory,
    UserFactory,
    default_store,
    staff,
)

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


# --- per-store settings, where an order is at hand --------------------------------------------------


@pytest.fixture
def hours(settings):
    settings.SHOPOPS_PAYMENT_REMINDER_HOURS = 24
    settings.SHOPOPS_PAYMENT_TIMEOUT_HOURS = 72
    settings.SHOPOPS_TIMEOUT_SOON_HOURS = 12


def _placed(hours_ago: float, **fields) -> Order:
    return OrderFactory(placed_at=timezone.now() - timedelta(hours=hours_ago), **fields)


def test_a_store_with_a_one_hour_reminder_reminds_its_buyers_before_a_store_on_the_default(hours):
    # given: two unpaid orders placed two hours ago, one in a store that reminds after 1 hour
    fast = StoreFactory(code="fast", payment_reminder_hours=1, payment_timeout_hours=6)
    in_fast, in_main = _placed(2, store=fast), _placed(2, store=default_store())

    # when
    result = jobs.send_payment_reminders()

    # then: only the fast store's buyer is reminded, told to pay by its own timeout
    assert result.done == 1
    reminders = Notification.objects.filter(template="payment_reminder")
    assert set(reminders.values_list("order_id", flat=True)) == {in_fast.pk}
    pay_by = datetime.fromisoformat(reminders.filter(channel="email").get().context["pay_by"])
    assert pay_by == in_fast.placed_at + timedelta(hours=6)
    in_main.refresh_from_db()
    assert in_main.payment_reminded_at is None


def test_each_store_times_out_unpaid_orders_after_its_own_hours(hours):
    # given: orders placed 7 hours ago, and one 80 hours ago, in a 6-hour store and the default
    short = StoreFactory(code="short", payment_reminder_hours=1, payment_timeout_hours=6)
    in_short, in_main = _placed(7, store=short), _placed(7, store=default_store())
    old_in_main = _placed(80, store=default_store())

    # when: the reminder pass, then the timeout pass
    reminded = jobs.send_payment_reminders()
    result = jobs.close_timed_out_orders()

    # then: no "please pay" for an order past its store's timeout; each closed by its own hours
    assert reminded.done == 0
    assert result.done == 2
    statuses = {o.pk: o.status for o in Order.objects.all()}
    assert statuses == {in_short.pk: "closed", old_in_main.pk: "closed", in_main.pk: "awaiting_payment"}


def test_a_pass_picks_with_the_same_queries_whatever_the_number_of_stores(hours):
    # given: orders due a reminder in one store, then in four stores with four different delays
    _placed(30, store=default_store())

    def pick_queries() -> int:
        with CaptureQueriesContext(connection) as queries:
            due.orders_to_remind(timezone.now())
            due.orders_timed_out(timezone.now())
        return len(queries)

    one_store = pick_queries()
    for n in range(1, 5):
        store = StoreFactory(code=f"s{n}", payment_reminder_hours=n, payment_timeout_hours=10 * n)
        _placed(n + 0.5, store=store)

    # when / then: the same queries, and each store's orders picked by its own delays
    assert pick_queries() == one_store
    picked = Order.objects.filter(pk__in=due.orders_to_remind(timezone.now()))
    assert sorted(picked.values_list("store__code", flat=True)) == ["main", "s1", "s2", "s3", "s4"]


def test_the_worklist_counts_unpaid_orders_about_to_time_out_by_their_stores_timeout(hours):
    # given: placed 70 hours ago in main (72 h: 2 h left) and 1 hour ago in a 6-hour store
    six = StoreFactory(code="six", payment_timeout_hours=6, payment_reminder_hours=1)
    soon_main, soon_six = _placed(70, store=default_store()), _placed(1, store=six)
    _placed(1, store=default_store())  # 71 hours left: not soon
    client = _client(UserFactory(username="boss", is_superuser=True, stores=[]))

    # when: the order list filtered as the worklist links it
    response = client.get("/admin/orders/order/", {"timeout_soon": "yes"})

    # then
    assert {o.pk for o in response.context["cl"].result_list} == {soon_main.pk, soon_six.pk}


def test_the_ready_text_names_the_return_address_of_the_orders_store(settings):
    settings.SHOPOPS_RETURN_ADDRESS = ""
    eu = StoreFactory(code="eu", return_address="Lagerstraße 12, 04109 Leipzig")
    in_eu = OrderFactory(store=eu, status=Status.SHIPPED, buyer_language="en")
    in_main = OrderFactory(status=Status.SHIPPED, buyer_language="en")
    client = _client(staff("Operator", stores=[default_store(), eu]))

    eu_form = client.get(f"/admin/orders/order/{in_eu.pk}/transition/propose_return/").content.decode()
    main_form = client.get(f"/admin/orders/order/{in_main.pk}/transition/propose_return/").content.decode()

    assert "Lagerstraße 12, 04109 Leipzig" in eu_form and "has no return address" not in eu_form
    assert "Lagerstraße" not in main_form and "This store has no return address" in main_form
    # a store without one falls back to the environment's
    settings.SHOPOPS_RETURN_ADDRESS = "88 Huaxia Road, Guangzhou"
    main_form = client.get(f"/admin/orders/order/{in_main.pk}/transition/propose_return/").content.decode()
    assert "88 Huaxia Road, Guangzhou" in main_form and "has no return address" not in main_form


def test_the_supplier_respond_by_default_is_the_stores_days(settings):
    settings.SHOPOPS_SUPPLIER_RESPOND_DAYS = 3
    slow = StoreFactory(code="slow", supplier_respond_days=10)
    supervisor = staff("Supervisor", stores=[default_store(), slow])
    in_slow = OrderFactory(store=slow, status=Status.RETURN_RECEIVED)
    SupplierOrderFactory(order=in_slow, amount=Decimal("300.00"))
    in_main = OrderFactory(status=Status.RETURN_RECEIVED)
    SupplierOrderFactory(order=in_main, amount=Decimal("300.00"))
    client = _client(supervisor)

    # the form offers the store's deadline
    for order, days in ((in_slow, 10), (in_main, 3)):
        form = client.get(f"/admin/orders/order/{order.pk}/transition/request_supplier_refund/").context[
            "form"
        ]
        shown = timezone.make_aware(form["respond_by"].value())
        assert abs(shown - (timezone.now() + timedelta(days=days))) < timedelta(minutes=1), order.store

    # and the workflow, asked without a deadline, sets it
    workflow.request_supplier_refund(in_slow, by=supervisor, amount="50.00", reason="Broken", reference="R1")
    refund = Refund.objects.get(order=in_slow, direction="from_supplier")
    assert abs(refund.respond_by - (timezone.now() + timedelta(days=10))) < timedelta(minutes=1)


def test_buyer_emails_come_from_the_stores_sender(messages, settings):
    # given: a store with a sender name, the default store on the environment's
    settings.DEFAULT_FROM_EMAIL = "Shopops <noreply@shop.example>"
    settings.SHOPOPS_MESSAGE_SENDER = "Shopops Global"
    eu = StoreFactory(code="eu", message_sender="Shopops EU")
    with outbox.kept_from_delivery():
        ids = [
            n.pk
            for order in (OrderFactory(store=eu), OrderFactory())
            for n in outbox.record_payment_reminder(order)
            if n.channel == "email"
        ]

    # when
    delivery.deliver_many(ids)

    # then
    senders = {m.to[0]: m.from_email for m in mail.outbox}
    assert sorted(senders.values()) == [
        "Shopops EU <noreply@shop.example>",
        "Shopops Global <noreply@shop.example>",
    ]
    assert mail.outbox[0].message()["From"].endswith("<noreply@shop.example>")


def test_without_a_sender_name_buyer_emails_come_from_default_from_email(messages, settings):
    settings.DEFAULT_FROM_EMAIL = "Shopops <noreply@shop.example>"
    settings.SHOPOPS_MESSAGE_SENDER = ""
    with outbox.kept_from_delivery():
        ids = [n.pk for n in outbox.record_payment_reminder(OrderFactory())]

    delivery.deliver_many(ids)

    assert [m.from_email for m in mail.outbox] == ["Shopops <noreply@shop.example>"]
