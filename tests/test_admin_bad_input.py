"""The admin screens and the CSV import/export under odd input: a clear answer, never a
server error, and an upload too large for the feedback import is refused before it is read."""

from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import timezone

from orders.models import Feedback, Order, Refund, RefundStatus
from tests.factories import OrderFactory, RefundFactory, SupplierOrderFactory, staff

pytestmark = pytest.mark.django_db

LIST = "/admin/orders/order/"
EXPORT = "/admin/orders/order/export/"


def client_of(user) -> Client:
    # A server error is a response here, not an exception: the tests assert what a user sees.
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


@pytest.mark.parametrize("url", [LIST, EXPORT])
def test_a_date_range_up_to_the_last_calendar_day_is_not_a_server_error(url):
    # given: an order placed and closed recently
    order = OrderFactory(closed_at=timezone.now())
    client = client_of(staff("Supervisor"))

    # when: the "to" date is the last day a date can hold (the day after it does not exist)
    response = client.get(
        url, {"placed_from": "0001-01-01", "placed_to": "9999-12-31", "closed_to": "9999-12-31"}
    )

    # then: no upper bound at all, the order is listed / exported
    assert response.status_code == 200
    assert order.platform_order_id in response.content.decode()


@pytest.mark.parametrize("url", [LIST, EXPORT])
def test_a_nul_character_in_the_supplier_filter_is_a_400_naming_it(url):
    # given: an order sourced from "Bright Cases"; PostgreSQL refuses NUL in a text parameter
    wanted = OrderFactory()
    SupplierOrderFactory(order=wanted, supplier_name="Bright Cases")
    client = client_of(staff("Supervisor"))

    # when
    response = client.get(url, {"supplier": "Bri\x00ght"})

    # then: the admin's query guard (shopops.query_guard) answers before any query runs
    assert response.status_code == 400
    content = response.content.decode()
    assert "“supplier” contains a NUL character" in content
    assert wanted.platform_order_id not in content


def test_retrying_a_notification_with_a_non_numeric_id_is_not_found():
    # given
    client = client_of(staff("Supervisor"))

    # when
    response = client.post("/admin/orders/notification/abc/retry/")

    # then
    assert response.status_code == 404


def test_a_feedback_file_over_the_import_limit_is_refused_and_imports_nothing(settings):
    # given: a limit of about 1 KB and a file of about 3 KB
    settings.SHOPOPS_IMPORT_MAX_MB = 0.001
    order = OrderFactory(platform_order_id="8100000000000777")
    rows = "".join(f"{order.platform_order_id},1,comment {i:04d},2026-03-01\n" for i in range(80))
    big = SimpleUploadedFile("f.csv", ("order_id,rating,comment,date\n" + rows).encode(), "text/csv")
    assert big.size > 0.001 * 1024 * 1024
    client = client_of(staff("Supervisor"))

    # when
    response = client.post("/admin/orders/feedback/import/", {"file": big})

    # then: a clear refusal naming the limit; nothing written
    assert response.status_code == 413
    assert "imports are limited to 0.001 MB" in response.content.decode()
    assert not Feedback.objects.exists()


def test_a_feedback_file_within_the_limit_still_imports(settings):
    settings.SHOPOPS_IMPORT_MAX_MB = 1
    order = OrderFactory(placed_at=timezone.now() - timedelta(days=3))
    data = f"order_id,rating,comment,date\n{order.platform_order_id},5,great,2026-03-01\n".encode()
    client = client_of(staff("Supervisor"))

    response = client.post("/admin/orders/feedback/import/", {"file": SimpleUploadedFile("f.csv", data)})

    assert response.status_code == 302
    assert Feedback.objects.filter(order=order, rating=5).exists()


def test_a_payment_reminder_for_more_orders_than_the_limit_sends_nothing_and_says_so(monkeypatch):
    # given: a limit of 2 and three unpaid orders selected
    monkeypatch.setattr("orders.admin.actions.BULK_ACTION_LIMIT", 2)
    orders = [OrderFactory() for _ in range(3)]
    client = client_of(staff("Operator"))

    # when
    response = client.post(
        LIST, {"action": "send_payment_reminder", "_selected_action": [o.pk for o in orders]}, follow=True
    )

    # then: not two reminded and one silently left out, but a clear refusal and nothing sent
    assert (
        "Select at most 2 orders for a payment reminder; no reminder was sent." in response.content.decode()
    )
    assert not Order.objects.filter(payment_reminded_at__isnull=False).exists()


def test_marking_more_refunds_received_than_the_limit_marks_none_and_says_so(monkeypatch):
    # given: a limit of 2 and three succeeded refunds selected
    monkeypatch.setattr("orders.admin.actions.BULK_ACTION_LIMIT", 2)
    refunds = RefundFactory.create_batch(3, succeeded=True)
    client = client_of(staff("Finance"))

    # when
    response = client.post(
        "/admin/orders/refund/",
        {"action": "mark_received", "_selected_action": [r.pk for r in refunds]},
        follow=True,
    )

    # then
    assert "Select at most 2 refunds to mark received; none was marked." in response.content.decode()
    assert not Refund.objects.filter(status=RefundStatus.RECEIVED).exists()
