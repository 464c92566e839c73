"""Accessibility in Chromium: the header's language picker, the breadcrumbs, axe-core's WCAG 2.1
A/AA rules on the pages the walk does not reach (the walk checks every page it visits)."""

import pytest
from django.contrib.auth import get_user_model
from playwright.sync_api import Page, expect

from orders.models import Status
from tests.axe_support import assert_accessible, axe_violations
from tests.factories import OrderFactory

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PASSWORD = "accessible-2026"


@pytest.fixture
def superuser():
    return get_user_model().objects.create_superuser("a11y", "a11y@example.com", PASSWORD)


def documents_requested(page: Page) -> list[str]:
    """The URLs of the documents the page asks for from now on (a navigation, a form sent)."""
    requested: list[str] = []
    page.on("request", lambda request: request.resource_type == "document" and requested.append(request.url))
    return requested


def test_an_arrow_key_on_the_language_picker_does_not_switch_the_language(
    page, live_server, admin_login, superuser
):
    # WCAG 3.2.2 On Input: choosing an option changes nothing until the user asks for it
    admin_login(page, "a11y", PASSWORD)
    page.goto(f"{live_server.url}/admin/orders/order/")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    requested = documents_requested(page)

    page.focus("#language-select")
    page.keyboard.press("ArrowDown")
    expect(page.locator("#language-select")).to_have_value("zh-hans")  # the option did change
    # a change handler that submits would have sent the form by the time the page answers this
    page.evaluate("() => new Promise((done) => setTimeout(done, 500))")

    assert requested == []
    assert page.url == f"{live_server.url}/admin/orders/order/"
    expect(page.locator("html")).to_have_attribute("lang", "en")

    # the button says what it does, and pressing it switches the language and stays on the page
    button = page.locator("#language-switcher").get_by_role("button", name="Switch")
    expect(button).to_be_visible()
    with page.expect_navigation():
        button.press("Enter")
    page.wait_for_selector("#changelist")
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    assert page.url == f"{live_server.url}/admin/orders/order/"
    expect(page.locator("#language-switcher button")).to_have_text("切换")


def test_breadcrumb_links_are_told_apart_from_the_text_beside_them(page, live_server, admin_login, superuser):
    # Django's stock breadcrumbs: white links beside light blue text, 1.42:1. Ours are underlined.
    order = OrderFactory(status=Status.PAID)
    admin_login(page, "a11y", PASSWORD)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")
    links = page.locator("div.breadcrumbs a")
    assert links.count() >= 2
    for index in range(links.count()):
        decoration = links.nth(index).evaluate("(a) => getComputedStyle(a).textDecorationLine")
        assert "underline" in decoration, f"breadcrumb {links.nth(index).inner_text()!r}: {decoration}"
    # axe's rule for it (WCAG 1.4.1): a link in a line of text needs 3:1 or an underline
    assert [str(v) for v in axe_violations(page) if v.rule == "link-in-text-block"] == []


def test_the_login_page_and_the_index_pass_axe(page, live_server, admin_login, superuser):
    page.goto(f"{live_server.url}/admin/login/")
    assert_accessible(page)
    admin_login(page, "a11y", PASSWORD)
    page.wait_for_selector("body.dashboard")
    assert_accessible(page)
