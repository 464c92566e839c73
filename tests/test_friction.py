"""What slowed down or misled someone new to the screens (issue 13, "Friction"), as they see it:
the words on the lists and forms, the buttons offered, and a quiet `make run`."""

from datetime import timedelta
from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.management import call_command
from django.utils import timezone

from orders.demo import DEMO_PREFIX, seed_demo
from orders.models import Feedback, Notification, NotificationStatus, Order, Status
from orders.selectors.recommendations import Recommendation
from shopops import celery as shopops_celery
from tests.analytics_support import END, START
from tests.factories import OrderFactory, RefundFactory, staff
from tests.workflow_support import private_media  # noqa: F401

pytestmark = pytest.mark.django_db

LIST = "/admin/orders/order/"
README = Path(settings.BASE_DIR) / "README.md"


@pytest.fixture
def supervisor_client(client):
    client.force_login(staff("Supervisor"))
    return client


def bulk_close(client, orders: list[Order]) -> str:
    response = client.post(LIST, {"action": "close_unpaid", "_selected_action": [o.pk for o in orders]})
    assert response.status_code == 200
    return response.content.decode()


# --- the order list and the order page ------------------------------------------------------


def test_the_age_column_says_open_for_or_took(supervisor_client):
    now = timezone.now()
    OrderFactory(platform_order_id="8100000000000001", placed_at=now - timedelta(days=3))
    OrderFactory(
        platform_order_id="8100000000000002",
        status=Status.CLOSED,
        close_reason="buyer_cancelled",
        placed_at=now - timedelta(days=20),
        closed_at=now - timedelta(days=18),
    )
    html = supervisor_client.get(LIST).content.decode()
    assert "open for / took" in html.lower()
    assert "open 3\xa0days" in html  # since ordering, still open
    assert "took 2\xa0days" in html  # from ordering to closing, not the 20 days since


def test_the_read_only_order_page_ends_with_back_to_the_list_not_close(supervisor_client):
    order = OrderFactory()
    html = supervisor_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'id="back-to-list"' in html and "Back to the list" in html
    assert ">Close</a>" not in html


# --- bulk close -----------------------------------------------------------------------------


def test_bulk_close_of_only_unpaid_orders_names_no_others(supervisor_client):
    html = bulk_close(supervisor_client, OrderFactory.create_batch(3))
    assert "All 3 are awaiting payment and will be closed." in html
    assert "the others" not in html and "not awaiting payment" not in html
    assert 'value="Close 3 unpaid orders"' in html


def test_bulk_close_counts_the_orders_it_will_leave_alone(supervisor_client):
    html = bulk_close(supervisor_client, [*OrderFactory.create_batch(2), OrderFactory(status=Status.PAID)])
    assert "2 are awaiting payment and will be closed." in html
    assert "1 is not awaiting payment: it will be left as it is and named." in html
    assert 'value="Close 2 unpaid orders"' in html


def test_bulk_close_with_nothing_eligible_offers_no_submit(supervisor_client):
    html = bulk_close(
        supervisor_client, [OrderFactory(status=Status.PAID), OrderFactory(status=Status.SHIPPED)]
    )
    assert "None of them is awaiting payment, so none can be closed here." in html
    assert 'name="apply"' not in html and 'name="reason"' not in html
    assert "Back to the list" in html


# --- out of stock ---------------------------------------------------------------------------


STOCK_WARNING = "“Out of stock” also sets this SKU's stock to 0 and marks it out of stock."


@pytest.mark.parametrize(
    ("status", "name"), [("awaiting_payment", "close_unpaid"), ("cancel_requested", "record_buyer_consent")]
)
def test_a_close_form_says_out_of_stock_zeroes_the_stock_before_confirming(client, status, name):
    client.force_login(staff("Operator"))
    order = OrderFactory(status=status)
    html = client.get(f"/admin/orders/order/{order.pk}/transition/{name}/").content.decode()
    assert STOCK_WARNING.replace("'", "&#x27;") in html


def test_the_bulk_close_form_says_it_too(supervisor_client):
    assert STOCK_WARNING.replace("'", "&#x27;") in bulk_close(supervisor_client, [OrderFactory()])


# --- internal identifiers -------------------------------------------------------------------


def test_a_refund_shows_no_idempotency_key_and_no_row_id_column(client):
    client.force_login(staff("Finance"))
    refund = RefundFactory(idempotency_key="close:42:record_buyer_consent:abc")
    html = client.get(f"/admin/orders/refund/{refund.pk}/change/").content.decode()
    assert "close:42:record_buyer_consent:abc" not in html and "dempotency" not in html
    assert refund.order.platform_order_id in html
    listing = client.get("/admin/orders/refund/").content.decode()
    assert "column-id" not in listing
    # the amount opens the refund
    assert f'href="/admin/orders/refund/{refund.pk}/change/">10.00 USD</a>' in listing


def test_feedback_is_named_by_order_stars_and_buyer(client):
    order = OrderFactory(platform_order_id="8100000000002988", buyer_name="Ana Souza")
    feedback = Feedback.objects.create(order=order, rating=1, comment="Broken")
    assert str(feedback) == "8100000000002988 · ★☆☆☆☆ · Ana Souza"
    client.force_login(staff("Supervisor"))
    listing = client.get("/admin/orders/feedback/").content.decode()
    assert "Ana Souza" in listing
    page = client.get(f"/admin/orders/feedback/{feedback.pk}/change/").content.decode()
    assert "8100000000002988 · ★☆☆☆☆ · Ana Souza" in page
    assert f"{order.pk} ★1" not in page


def test_analytics_show_no_rule_codes_and_no_net_loss(client, known_closes):
    client.force_login(staff("Analyst"))
    period = {"start": START.isoformat(), "end": END.isoformat()}
    fired = Recommendation("payment_timeout_share", "Send payment reminders sooner", "25% of closes")
    with mock.patch("orders.admin.analytics.recommend", return_value=[fired]):
        html = client.get("/admin/orders/analytics/", period).content.decode()
    assert "Send payment reminders sooner" in html
    assert "[payment_timeout_share]" not in html and 'class="analytics-rule"' not in html
    assert "Net loss" not in html and "net loss" not in html
    # the per-currency panel is replaced by the cost of closes, in one currency
    assert "not a loss figure" not in html and "Cost of closes (USD)" in html
    response = client.get("/admin/orders/analytics/", {**period, "export": "refunds"})
    assert response.status_code == 400


# --- make run -------------------------------------------------------------------------------


@pytest.mark.usefixtures("private_media")
@pytest.mark.django_db(transaction=True)
def test_the_demo_sends_no_notification_when_the_worker_starts():
    # transaction=True: seed_demo commits for real, as `manage.py seed_demo` does, and the
    # workflow's after-commit hand-offs run
    with mock.patch.object(shopops_celery.app, "send_task") as send_task:
        seed_demo(StringIO())
    demo = Notification.objects.filter(order__platform_order_id__startswith=DEMO_PREFIX)
    assert demo.count() > 50
    # recorded as the demo's past: sent, with the words they would have had
    assert set(demo.values_list("status", flat=True)) == {NotificationStatus.SENT}
    assert not demo.filter(body="").exists() and not demo.filter(sent_at=None).exists()
    delivered = [c for c in send_task.call_args_list if c.args[0] == "orders.deliver_notification"]
    assert delivered == []


def test_migrate_on_sqlite_prints_no_warning_about_our_own_indexes():
    out, err = StringIO(), StringIO()
    call_command("check", databases=["default"], stdout=out, stderr=err)
    assert "W040" not in out.getvalue() + err.getvalue()


def test_the_readme_documents_the_address_make_run_serves():
    text = README.read_text(encoding="utf-8")
    assert "| `SHOPOPS_ADDRESS` |" in text
    assert "SHOPOPS_ADDRESS" in (Path(settings.BASE_DIR) / "scripts" / "devserver.py").read_text()
