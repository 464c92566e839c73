"""Imports at the same time, and a database failing mid-import (issue 12, part 4), on PostgreSQL.

Threads with their own connections, released together (as in tests/test_concurrency.py).
"""

import threading
from http.cookies import SimpleCookie

import pytest
from django.db import connection, transaction
from django.test import Client

from orders.admin.imports import SESSION_KEY, import_dir
from orders.imports import service
from orders.imports.feedback import import_feedback
from orders.imports.service import import_orders
from orders.models import Feedback, Order, OrderEvent, OrderImport
from tests.concurrency_support import race
from tests.factories import OrderFactory, default_store, staff
from tests.import_support import csv_file, order_row

pytestmark = [pytest.mark.postgres]
IMPORT_URL = "/admin/orders/order/import/"


@pytest.fixture(autouse=True)
def _private_var(settings, tmp_path):
    settings.VAR_DIR = tmp_path


def _rows(count: int, start: int = 0, **overrides: str) -> list[dict[str, str]]:
    return [order_row(order_id=f"81990000{start + i:08d}", **overrides) for i in range(count)]


def _upload(client: Client, rows: list[dict[str, str]]):
    upload = csv_file(rows)
    upload.name = "orders.csv"
    return client.post(IMPORT_URL, {"file": upload})


@pytest.mark.django_db(transaction=True)
def test_a_confirmation_posted_twice_at_once_imports_once_and_says_so_to_the_other():
    # given: one preview, its session shared by two browser tabs
    first = Client()
    first.force_login(staff("Supervisor"))
    preview = _upload(first, _rows(2000))
    token = preview.context["token"]
    second = Client()
    second.cookies = SimpleCookie(first.cookies)
    # when: both confirm at once
    results = race([lambda c=c: c.post(IMPORT_URL, {"token": token}) for c in (first, second)])
    # then: no error page, one import, and the other is told it is no longer available
    assert [outcome for outcome, _value in results] == ["ok", "ok"], results
    statuses = sorted(response.status_code for _outcome, response in results)
    assert statuses[0] == 200 and statuses[1] in (400, 409), statuses
    refused = next(r for _o, r in results if r.status_code != 200)
    assert "no longer available" in refused.content.decode()
    assert Order.objects.count() == 2000
    assert OrderImport.objects.count() == 1
    assert not list(import_dir().iterdir())


@pytest.mark.django_db(transaction=True)
def test_two_imports_sharing_new_orders_run_one_after_the_other():
    # given: two files naming the same 1,000 new orders (the second with another buyer name)
    default_store()  # flushed by the transactional test before
    a = csv_file(_rows(1000))
    b = csv_file(_rows(1000, buyer_name="Maria G."))
    # when
    results = race([lambda: import_orders(a), lambda: import_orders(b)])
    # then: both done, no unique violation, each order once
    assert [outcome for outcome, _value in results] == ["ok", "ok"], results
    done = [value for _outcome, value in results]
    assert all(r.ok for r in done), [r.summary() for r in done]
    assert sorted((r.new, r.updated) for r in done) == [(0, 1000), (1000, 0)]
    assert Order.objects.count() == 1000
    assert OrderEvent.objects.filter(transition="imported").count() == 2000  # created, then updated


@pytest.mark.django_db(transaction=True)
def test_an_import_waiting_too_long_for_another_is_refused_clearly(monkeypatch):
    # given: another import holds the lock
    default_store()  # flushed by the transactional test before
    monkeypatch.setattr(service, "LOCK_WAIT_SECONDS", 0.5)
    holding, release = threading.Event(), threading.Event()

    def hold() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("SELECT pg_advisory_xact_lock(%s)", [service.LOCK_KEY])
                holding.set()
                release.wait(timeout=30)
        finally:
            connection.close()

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(timeout=30)
    try:
        # when
        result = import_orders(csv_file(_rows(3)))
    finally:
        release.set()
        holder.join(timeout=30)
    # then
    assert result.invalid and not result.ok
    assert "did not happen: another import was running" in result.summary()
    assert Order.objects.count() == 0


@pytest.mark.django_db
def test_a_database_error_mid_import_keeps_the_upload_and_the_confirm_can_be_retried():
    # given: a preview, and a database that will fail on the 1,500th order (a trigger)
    client = Client()
    client.force_login(staff("Supervisor"))
    token = _upload(client, _rows(2000)).context["token"]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_boom() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.platform_order_id = '8199000000001499' THEN RAISE EXCEPTION 'disk full'; END IF; "
            "RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_boom BEFORE INSERT ON orders_order FOR EACH ROW EXECUTE FUNCTION test_boom()"
        )
    # when
    response = client.post(IMPORT_URL, {"token": token})
    # then: a page that says so, nothing written, the upload and its confirm kept
    assert response.status_code == 503
    page = response.content.decode()
    assert "The import did not happen: the database reported an error (disk full)" in page
    assert "can be tried again" in page
    assert Order.objects.count() == 0
    assert (import_dir() / f"{token}.csv").is_file()
    assert token in client.session[SESSION_KEY]
    assert response.context["token"] == token
    # when: the database is fine again, the same confirm
    with connection.cursor() as cursor:
        cursor.execute("DROP TRIGGER test_boom ON orders_order")
    response = client.post(IMPORT_URL, {"token": token})
    # then
    assert response.status_code == 200
    assert Order.objects.count() == 2000


@pytest.mark.django_db
def test_a_database_error_in_the_feedback_import_says_it_did_not_happen():
    # given: an order, and a database that fails on the second feedback row
    OrderFactory(platform_order_id="8100000000000777")
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE FUNCTION test_boom_feedback() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF NEW.rating = 4 THEN RAISE EXCEPTION 'disk full'; END IF; RETURN NEW; END $$"
        )
        cursor.execute(
            "CREATE TRIGGER test_boom_feedback BEFORE INSERT ON orders_feedback "
            "FOR EACH ROW EXECUTE FUNCTION test_boom_feedback()"
        )
    data = (
        b"order_id,rating,comment,date\n8100000000000777,5,ok,2026-03-01\n8100000000000777,4,meh,2026-03-02\n"
    )
    # when
    result = import_feedback(data, by=None)
    # then
    assert not result.ok and result.created == 0
    assert "The import did not happen: the database reported an error (disk full)" in str(result.errors[0])
    assert not Feedback.objects.exists()
