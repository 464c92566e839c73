"""The ready text for the buyer in Chromium: the copy button puts the text on the clipboard and
records it as the operator's message to the buyer; then the step runs."""

import pytest
from django.apps import apps
from playwright.sync_api import expect

from evidence.models import Communication
from orders.groups import sync_groups
from orders.models import Status
from tests.axe_support import assert_accessible
from tests.factories import OrderFactory, staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "correct-horse-9"  # tests.factories.UserFactory's


@pytest.fixture(autouse=True)
def groups(transactional_db):
    sync_groups(apps)


def test_copy_and_record_puts_the_russian_text_on_the_clipboard_and_in_the_timeline(
    new_page, live_server, admin_login
):
    # given: a paid order of a Russian buyer, an operator on the "ask to cancel" form
    order = OrderFactory(status=Status.PAID, buyer_language="ru", buyer_name="Ольга")
    operator = staff("Operator")
    page = new_page(permissions=["clipboard-read", "clipboard-write"])
    errors: list[str] = []
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    admin_login(page, operator.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/transition/request_cancellation/")
    area = page.locator("#ready-chat-ask_cancel textarea")
    expect(area).to_have_attribute("lang", "ru")
    expect(area).to_contain_text(f"не можем отправить ваш заказ {order.platform_order_id}")
    expect(page.locator("#ready-chat-ask_cancel .ready-text-meaning")).to_contain_text("We are very sorry")
    assert_accessible(page)  # the step's form with its ready texts: WCAG 2.1 A/AA (axe-core)

    # when: the operator adds a line and clicks the button
    area.fill(area.input_value() + "\nОльга, спасибо!")
    # (the click copies, then posts the form: wait for the page it lands on, not the one it leaves)
    with page.expect_navigation():
        page.click("#ready-chat-ask_cancel button[data-copy]")
    page.wait_for_selector(".messagelist .success")

    # then: the clipboard holds the text, the communication is recorded, the step can run
    clipboard = page.evaluate("navigator.clipboard.readText()")
    assert clipboard.endswith("Ольга, спасибо!") and order.platform_order_id in clipboard
    expect(page.locator(".messagelist .success")).to_contain_text("Ready text sent")
    expect(page.locator("#record-evidence-first")).to_have_count(0)
    communication = Communication.objects.get(order=order)
    assert communication.body == clipboard.strip()
    page.click("#transition-form input[type=submit]")
    page.wait_for_selector("#order-status")
    expect(page.locator("#order-status")).to_have_text("Cancellation under negotiation")
    assert not [e for e in errors if "Content Security Policy" in e or "Uncaught" in e]


def test_the_dispute_form_shows_the_text_of_the_outcome_chosen(new_page, live_server, admin_login):
    order = OrderFactory(status=Status.DISPUTED, buyer_language="pl")
    page = new_page()
    admin_login(page, staff("Supervisor").username, PASSWORD)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/transition/resolve_dispute/")
    expect(page.locator("form[data-outcome]:visible")).to_have_count(3)
    assert_accessible(page)

    page.select_option("#id_outcome", "lost")

    expect(page.locator("form[data-outcome]:visible")).to_have_count(1)
    expect(page.locator("#ready-chat-dispute_lost textarea")).to_contain_text("na Twoją korzyść")
