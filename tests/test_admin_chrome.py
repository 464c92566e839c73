"""What every admin page carries and how records are named on them: no "View site" link, History
opens the timeline, a favicon that answers, refunds and feedback named by what a person knows."""

import re

import pytest

from orders.models import (
    Feedback,
    Order,
    Status,
)
from tests.factories import OrderFactory, RefundFactory, staff
from tests.workflow_support import private_media  # noqa: F401

pytestmark = pytest.mark.django_db


def page_of(order: Order) -> str:
    return f"/admin/orders/order/{order.pk}/change/"


# --- 6. View site, History, favicon -----------------------------------------------------------


def test_no_view_site_link_and_history_opens_the_timeline(client):
    order = OrderFactory(status=Status.PAID)
    client.force_login(staff("Operator"))

    index = client.get("/admin/").content.decode()
    assert "View site" not in index

    response = client.get(f"/admin/orders/order/{order.pk}/history/")
    assert response.status_code == 302
    assert response["Location"] == page_of(order) + "#timeline"


def test_every_page_links_a_favicon_that_answers(client):
    client.force_login(staff("Operator"))
    for url in ("/admin/", "/admin/orders/order/", "logout", "/admin/login/"):
        if url == "logout":
            client.logout()
            continue
        html = client.get(url).content.decode()
        href = re.search(r'<link rel="icon" href="([^"]+)"', html).group(1)
        icon = client.get(href)
        assert icon.status_code == 200
        assert b"<svg" in b"".join(icon.streaming_content if icon.streaming else [icon.content])


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
