"""Connecting a store to the platforms (issue 22, SPEC §11): ``manage.py store connect``, the Store
admin page's write-only fields, and secrets that stay secret — encrypted at rest, never shown
back, logged or put in a history event; the pull's state on the store's page."""

from __future__ import annotations

import logging
from io import StringIO

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import CommandError, call_command
from django.test import Client

from orders.models import OrderEvent, Platform, StoreConnection
from orders.platforms.fake import fake_order
from orders.workflow import stores
from shopops import secrets
from shopops.errors import NotPermitted, Refused
from tests.factories import UserFactory, default_store, staff
from tests.platform_support import AE_TOKEN, fake_gateways, run  # noqa: F401 (the fixture "fake")

pytestmark = pytest.mark.django_db

SECRET, TOKEN = "s3cr3t-value-0001", "t0ken-value-0001"


def store_command(*args: str) -> str:
    out = StringIO()
    call_command("store", *args, stdout=out)
    return out.getvalue()


def connection(platform: str = Platform.ALIEXPRESS) -> StoreConnection:
    return StoreConnection.objects.get(store=default_store(), platform=platform)


def test_store_connect_stores_the_credentials_encrypted(caplog):
    default_store()
    with caplog.at_level(logging.DEBUG):
        out = store_command(
            "connect", "main", "--ae-app-key", "500123", "--ae-app-secret", SECRET, "--ae-session", TOKEN,
            "--1688-app-key", "1688123", "--1688-app-secret", SECRET + "b", "--1688-token", TOKEN + "b",
        )  # fmt: skip
    assert "main is connected to AliExpress (app key 500123)" in out and "connected to 1688" in out
    ae = connection()
    assert ae.app_key == "500123" and SECRET not in ae.app_secret and TOKEN not in ae.access_token
    assert (secrets.decrypt(ae.app_secret), secrets.decrypt(ae.access_token)) == (SECRET, TOKEN)
    assert secrets.decrypt(connection(Platform.ALIBABA_1688).access_token) == TOKEN + "b"
    assert SECRET not in out and TOKEN not in out
    assert SECRET not in caplog.text and TOKEN not in caplog.text
    assert not OrderEvent.objects.exists()


def test_store_connect_needs_the_aliexpress_three_and_all_or_none_of_1688():
    default_store()
    with pytest.raises(CommandError, match="--ae-session"):
        store_command("connect", "main", "--ae-app-key", "k", "--ae-app-secret", "s")
    with pytest.raises(CommandError, match="all three of --1688"):
        store_command(
            "connect",
            "main",
            "--ae-app-key",
            "k",
            "--ae-app-secret",
            "s",
            "--ae-session",
            "t",
            "--1688-app-key",
            "x",
        )
    with pytest.raises(CommandError, match="Unknown store"):
        store_command("connect", "nope", "--ae-app-key", "k", "--ae-app-secret", "s", "--ae-session", "t")
    with pytest.raises(CommandError, match="one line"):
        store_command("connect", "main", "--ae-app-key", "k", "--ae-app-secret", "s\nx", "--ae-session", "t")
    assert not StoreConnection.objects.exists()


def test_a_secret_given_as_a_dash_is_read_from_standard_input(monkeypatch):
    default_store()
    monkeypatch.setattr("sys.stdin", StringIO(SECRET + "\n" + TOKEN + "\n"))
    store_command("connect", "main", "--ae-app-key", "k", "--ae-app-secret", "-", "--ae-session", "-")
    assert (secrets.decrypt(connection().app_secret), secrets.decrypt(connection().access_token)) == (
        SECRET,
        TOKEN,
    )


def test_connecting_needs_superuser_rights_and_a_secrets_key(settings):
    store = default_store()
    with pytest.raises(NotPermitted):
        stores.connect_store(
            store,
            by=staff("Supervisor"),
            platform="aliexpress",
            app_key="k",
            app_secret="s",
            access_token="t",
        )
    settings.SHOPOPS_SECRETS_KEY = "short"
    with pytest.raises(Refused, match="at least 32 characters"):
        stores.connect_store(
            store, by=None, platform="aliexpress", app_key="k", app_secret="s", access_token="t"
        )
    with pytest.raises(ImproperlyConfigured):
        secrets.encrypt("x")


def test_a_changed_secrets_key_makes_the_secrets_unreadable_not_wrong(settings):
    stores.connect_store(
        default_store(), by=None, platform="aliexpress", app_key="k", app_secret="s", access_token="t"
    )
    settings.SHOPOPS_SECRETS_KEY = "another-key-of-at-least-thirty-two-characters"
    with pytest.raises(secrets.SecretUnreadable, match="Connect the store again"):
        secrets.decrypt(connection().app_secret)


# --- the admin page -------------------------------------------------------------------------------


def _client(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _form(store, **values) -> dict:
    form = {"code": store.code, "name": store.name, "currency": "USD"}
    for name in ("time_zone", "return_address", "payment_reminder_hours", "payment_timeout_hours"):
        form[name] = ""
    form.update(supplier_respond_days="", message_sender="")
    return {**form, **values}


def test_a_superuser_connects_a_store_on_its_page_and_never_sees_the_secret_again():
    store = default_store()
    client = _client(UserFactory(username="boss", is_superuser=True, stores=[]))
    page = client.get(f"/admin/orders/store/{store.pk}/change/").content.decode()
    assert 'name="ae_app_secret"' in page and "not set" in page
    # a first connection needs all three
    response = client.post(f"/admin/orders/store/{store.pk}/change/", _form(store, ae_app_key="500123"))
    assert (
        response.status_code == 200
        and "Needed to connect the store the first time." in response.content.decode()
    )
    assert not StoreConnection.objects.exists()
    # when
    response = client.post(
        f"/admin/orders/store/{store.pk}/change/",
        _form(store, ae_app_key="500123", ae_app_secret=SECRET, ae_session=TOKEN),
    )
    # then
    assert response.status_code == 302
    assert secrets.decrypt(connection().access_token) == TOKEN
    page = client.get(f"/admin/orders/store/{store.pk}/change/").content.decode()
    assert SECRET not in page and TOKEN not in page and "set — leave blank to keep it" in page
    assert 'value="500123"' in page
    # a later save with the secrets blank keeps them; a new token alone replaces the token
    client.post(
        f"/admin/orders/store/{store.pk}/change/", _form(store, ae_app_key="500123", ae_session="new-token")
    )
    assert secrets.decrypt(connection().app_secret) == SECRET
    assert secrets.decrypt(connection().access_token) == "new-token"


def test_staff_see_the_pull_but_not_the_connection_fields(fake):
    store = default_store()
    stores.connect_store(
        store,
        by=None,
        platform="aliexpress",
        app_key="500123",
        app_secret="ae-test-secret-0001",
        access_token=AE_TOKEN,
    )
    fake.put_order(AE_TOKEN, fake_order("8100000000000001"))
    fake.put_order(AE_TOKEN, {**fake_order("8100000000000002"), "gmt_create": None})
    run(store)
    page = _client(staff("Operator")).get(f"/admin/orders/store/{store.pk}/change/").content.decode()
    assert 'name="ae_app_secret"' not in page and "ae_app_key" not in page
    assert "Last good pass" in page and "1 new" in page and "1 invalid" in page
    assert "8100000000000002: placed_at is required" in page
