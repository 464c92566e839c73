"""The operator screens in Chromium, through the real UI, as each kind of user."""

import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.apps import apps
from playwright.sync_api import Page, expect

from orders.groups import sync_groups
from orders.models import Order, Refund, RefundDirection, RefundStatus, Sku, Status
from tests.factories import OrderFactory, SupplierOrderFactory, staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-9"  # tests.factories.UserFactory's
# A real 1×1 PNG: what an operator's screenshot is, byte for byte, as far as type detection goes.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@pytest.fixture(autouse=True)
def groups(transactional_db):
    # A transactional test empties every table between tests, the migration's groups included.
    sync_groups(apps)


@pytest.fixture
def operator():
    return staff("Operator")


@pytest.fixture
def supervisor():
    return staff("Supervisor")


def open_order(page: Page, live_server, order: Order) -> None:
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    page.wait_for_selector("#order-status")


def run_step(page: Page, name: str, fill: dict[str, str] | None = None, select: dict[str, str] | None = None):
    """Click the transition's button on the order page, fill its form, submit; back on the order."""
    page.click(f'a[data-transition="{name}"]')
    page.wait_for_selector("#transition-form")
    for field, value in (fill or {}).items():
        page.fill(f"#id_{field}", value)
    for field, value in (select or {}).items():
        page.select_option(f"#id_{field}", value)
    page.click("#transition-form input[type=submit]")
    page.wait_for_selector("#order-status")
    expect(page.locator(".messagelist .success")).to_be_visible()


def record_first(page: Page, summary: str, files: list | None = None) -> None:
    """On a transition form that needs evidence: record it, then arrive back on the form."""
    page.click("#record-evidence-first")
    page.wait_for_selector("#evidence-form")
    page.fill("#id_summary", summary)
    if files:
        page.set_input_files("#id_files", [str(f) for f in files])
    page.click("#evidence-form input[type=submit]")
    page.wait_for_selector("#transition-form")


def test_operator_closes_an_unpaid_order(page, live_server, admin_login, operator):
    order = OrderFactory(status=Status.AWAITING_PAYMENT)
    admin_login(page, operator.username, PASSWORD)
    open_order(page, live_server, order)
    run_step(
        page, "close_unpaid", fill={"note": "Buyer asked by message"}, select={"reason": "buyer_cancelled"}
    )
    expect(page.locator("#order-status")).to_have_text("Closed")
    expect(page.locator("#timeline .timeline-entry.event").first).to_contain_text("Close unpaid order")
    expect(page.locator("#timeline")).to_contain_text("Buyer cancelled")
    order.refresh_from_db()
    assert (order.status, order.close_reason, order.closed_by) == (Status.CLOSED, "buyer_cancelled", operator)


def test_paid_order_cancelled_with_consent_then_refund_confirmed(
    new_page, live_server, admin_login, operator, supervisor, tmp_path
):
    order = OrderFactory(status=Status.PAID, total_amount=Decimal("100.00"))
    screenshot = tmp_path / "buyer-consent.png"
    screenshot.write_bytes(PNG)
    page = new_page()
    admin_login(page, operator.username, PASSWORD)
    open_order(page, live_server, order)

    # the operator messages the buyer, then asks to cancel
    page.click('a[data-transition="request_cancellation"]')
    record_first(page, "Asked the buyer to cancel: out of stock")
    page.click("#transition-form input[type=submit]")
    page.wait_for_selector("#order-status")
    expect(page.locator("#order-status")).to_have_text("Cancellation under negotiation")

    # the buyer's consent, with the screenshot, and the consent step in one flow
    page.click('a[data-transition="record_buyer_consent"]')
    record_first(page, "Buyer agrees to cancel", files=[screenshot])
    expect(page.locator("#id_amount")).to_have_value("100.00")
    page.select_option("#id_reason", "out_of_stock")
    page.click("#transition-form input[type=submit]")
    page.wait_for_selector("#order-status")
    expect(page.locator("#order-status")).to_have_text("Refund in progress")
    expect(page.locator("#timeline")).to_contain_text("File attached: buyer-consent.png")
    # an operator cannot confirm the refund
    expect(page.locator('a[data-transition="confirm_refund"]')).to_have_count(0)

    # the supervisor confirms it with the platform's reference
    boss = new_page()
    admin_login(boss, supervisor.username, PASSWORD)
    open_order(boss, live_server, order)
    run_step(boss, "confirm_refund", fill={"reference": "AE-RF-2026-001"})
    expect(boss.locator("#order-status")).to_have_text("Closed")
    expect(boss.locator("#refunds")).to_contain_text("Succeeded")
    refund = Refund.objects.get(order=order)
    assert (refund.status, refund.reference, refund.amount) == (
        RefundStatus.SUCCEEDED,
        "AE-RF-2026-001",
        Decimal("100.00"),
    )


def test_shipped_order_return_and_supplier_refund(new_page, live_server, admin_login, operator, supervisor):
    order = OrderFactory(status=Status.SHIPPED, quantity=2, total_amount=Decimal("100.00"))
    SupplierOrderFactory(order=order, amount=Decimal("300.00"))
    stock_before = order.sku.stock_on_hand
    page = new_page()
    admin_login(page, operator.username, PASSWORD)
    open_order(page, live_server, order)

    page.click('a[data-transition="propose_return"]')
    record_first(page, "Offered a return for the wrong colour")
    page.click("#transition-form input[type=submit]")
    page.wait_for_selector("#order-status")
    expect(page.locator("#order-status")).to_have_text("Return under negotiation")

    page.click('a[data-transition="record_return_agreement"]')
    record_first(page, "Buyer agrees to send it back")
    page.select_option("#id_reason", "quality_issue")
    page.fill("#id_tracking_number", "RT123456789CN")
    page.click("#transition-form input[type=submit]")
    page.wait_for_selector("#order-status")
    expect(page.locator("#order-status")).to_have_text("Awaiting returned goods")

    # one unit back into our stock, the other back to the supplier
    run_step(
        page, "receive_return", fill={"quantity": "2", "to_supplier": "1"}, select={"condition": "resellable"}
    )
    expect(page.locator("#order-status")).to_have_text("Return received")
    expect(page.locator("#timeline .timeline-entry.stock")).to_contain_text("+1")
    assert Sku.objects.get(pk=order.sku_id).stock_on_hand == stock_before + 1

    boss = new_page()
    admin_login(boss, supervisor.username, PASSWORD)
    open_order(boss, live_server, order)
    boss.click('a[data-transition="request_supplier_refund"]')
    boss.wait_for_selector("#transition-form")
    # the supplier is asked for the unit sent back only: goods in our stock are not its to refund
    expect(boss.locator("#id_amount")).to_have_value("150.00")
    expect(boss.locator("#id_kind")).to_have_value("return_refund")
    boss.fill("#id_reason", "Wrong colour shipped by the supplier")
    boss.fill("#id_reference", "1688-RF-77")
    boss.click("#transition-form input[type=submit]")
    boss.wait_for_selector("#order-status")
    expect(boss.locator("#order-status")).to_have_text("Awaiting supplier")

    run_step(boss, "record_supplier_approval", fill={"amount": "140.00"})
    expect(boss.locator("#order-status")).to_have_text("Closed")
    supplier_refund = Refund.objects.get(order=order, direction=RefundDirection.FROM_SUPPLIER)
    assert (supplier_refund.status, supplier_refund.amount) == (RefundStatus.SUCCEEDED, Decimal("140.00"))


def test_operator_sees_no_supervisor_buttons_and_a_crafted_post_is_403(
    page, live_server, admin_login, operator, client
):
    order = OrderFactory(status=Status.REFUND_PENDING)
    admin_login(page, operator.username, PASSWORD)
    open_order(page, live_server, order)
    expect(page.locator(".transition-button")).to_have_count(0)
    expect(page.locator('a[data-transition="confirm_refund"]')).to_have_count(0)
    expect(page.locator('a[data-transition="escalate_to_support"]')).to_have_count(0)

    client.force_login(operator)
    response = client.post(
        f"/admin/orders/order/{order.pk}/transition/confirm_refund/", {"reference": "crafted"}
    )
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Status.REFUND_PENDING


def test_bulk_close_reports_closed_and_refused(page, live_server, admin_login, supervisor):
    unpaid = OrderFactory.create_batch(3, status=Status.AWAITING_PAYMENT)
    paid = OrderFactory(status=Status.PAID)
    admin_login(page, supervisor.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/orders/order/")
    for order in [*unpaid, paid]:
        page.check(f'input.action-select[value="{order.pk}"]')
    page.select_option("select[name=action]", "close_unpaid")
    page.click("button[name=index]")
    page.wait_for_selector("#bulk-close-form")
    page.select_option("#id_reason", "out_of_stock")
    page.click("#bulk-close-form input[name=apply]")
    page.wait_for_selector(".messagelist")
    expect(page.locator(".messagelist .success")).to_contain_text("Closed 3 orders")
    expect(page.locator(".messagelist .error")).to_have_count(1)
    expect(page.locator(".messagelist .error")).to_contain_text(paid.platform_order_id)
    assert Order.objects.filter(pk__in=[o.pk for o in unpaid], status=Status.CLOSED).count() == 3
    paid.refresh_from_db()
    assert paid.status == Status.PAID


def test_chinese_browser_sees_chinese_labels(new_page, live_server, admin_login, operator):
    order = OrderFactory(status=Status.PAID)
    page = new_page(locale="zh-CN", extra_http_headers={"Accept-Language": "zh-CN,zh;q=0.9"})
    admin_login(page, operator.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/orders/order/")
    expect(page.locator("#result_list")).to_contain_text("待发货")
    expect(page.locator("#changelist-filter")).to_contain_text("待付款")
    open_order(page, live_server, order)
    expect(page.locator("#order-status")).to_have_text("待发货")
    expect(page.locator(".glance-actions h3")).to_have_text("下一步")
    expect(page.locator('a[data-transition="mark_shipped"]')).to_have_text("标记已发货")
    # and the switcher takes an English speaker's choice over the browser's
    page.select_option("#language-select", "en")
    page.click("#language-switcher button[type=submit]")
    page.wait_for_selector("#order-status")
    expect(page.locator("#order-status")).to_have_text("Paid, not shipped")


def test_login_locked_after_five_wrong_passwords_until_the_cooloff(page, live_server, operator, settings):
    settings.AXES_COOLOFF_TIME = timedelta(seconds=3)

    def attempt(password: str) -> None:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", operator.username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_load_state()

    for _ in range(5):
        attempt("wrong-password")
    attempt(PASSWORD)
    expect(page.locator("#locked-out")).to_contain_text("is locked after 5 failed logins")
    expect(page.locator("#logout-form")).to_have_count(0)

    # once the cool-off has passed, the right password works again. Any attempt during the
    # lockout (even with the right password) starts the cool-off again, so wait it out whole.
    time.sleep(settings.AXES_COOLOFF_TIME.total_seconds() + 1)  # a span of time: nothing to wait on
    attempt(PASSWORD)
    expect(page.locator("#logout-form")).to_have_count(1)
