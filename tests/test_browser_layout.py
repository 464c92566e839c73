"""Every admin list and the order page fit a 1366 px laptop screen, in Chromium, on demo data,
and pass axe-core's WCAG 2.1 A/AA rules.

A crawl: the lists come from the admin site's registry, so a new list is checked the day it is
registered. Each page must not scroll sideways — neither the page itself nor a box inside it
(Django wraps a list's table in a box that scrolls rather than widening the page) — and no
amount ("21.50 USD") may wrap onto a second line.
"""

from collections.abc import Iterator

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.urls import NoReverseMatch, reverse
from playwright.sync_api import Page

from orders.demo import DEMO_PREFIX, demo_password
from orders.models import Order, Status, Store
from orders.models.store import DEFAULT_CODE
from tests.axe_support import assert_accessible
from tests.factories import OrderFactory, staff
from tests.workflow_support import private_media  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("private_media"),
]

VIEWPORT = {"width": 1366, "height": 768}
PASSWORD = "layout-check-2026"
# Order pages in different states: short and long timelines, with and without refunds.
ORDER_STATES = [
    Status.AWAITING_PAYMENT,
    Status.SHIPPED,
    Status.REFUND_PENDING,
    Status.SUPPLIER_REFUND_PENDING,
    Status.DISPUTED,
    Status.CLOSED,
]

# What the page does sideways, and every amount cell that takes more than one line.
MEASURE = r"""
() => {
  const amount = /^-?[0-9][0-9,.]*\s[A-Z]{3}$/;
  const box = (el) => { const r = el.getBoundingClientRect(); return r.width > 0 && r.height > 0; };
  const clipped = [];
  for (const el of document.querySelectorAll("#container *")) {
    // form controls scroll their own text; a visually hidden label is a 1 px box on purpose
    if (["TEXTAREA", "SELECT", "INPUT", "CANVAS"].includes(el.tagName) || el.clientWidth <= 1) continue;
    const overflow = getComputedStyle(el).overflowX;
    if (["auto", "scroll", "hidden"].includes(overflow) && el.scrollWidth > el.clientWidth + 1) {
      const name = `${el.tagName.toLowerCase()}#${el.id}.${el.className}`;
      clipped.push(`${name} ${el.scrollWidth}>${el.clientWidth}`);
    }
  }
  const wrapped = [];
  for (const cell of document.querySelectorAll("td, th, dd, .glance-amount")) {
    const text = cell.innerText.trim();
    if (!amount.test(text) || !box(cell)) continue;
    const range = document.createRange();
    range.selectNodeContents(cell);
    const lines = new Set([...range.getClientRects()].map((r) => Math.round(r.top)));
    if (lines.size > 1) wrapped.push(text);
  }
  return {
    scrollWidth: document.documentElement.scrollWidth,
    innerWidth: window.innerWidth,
    clipped: clipped,
    wrapped: wrapped,
  };
}
"""


# Every table cell whose text is cut: it overflows its own box, or it lies (partly) beyond the
# right edge of the window or of a box around it that clips or scrolls ("NEXT DE" for "next
# deadline" at the edge of the order list's scrolling box).
CUT_CELLS = r"""
() => {
  const cut = [];
  for (const cell of document.querySelectorAll("#container td, #container th")) {
    const rect = cell.getBoundingClientRect();
    const text = cell.innerText.trim();
    if (!text || rect.width === 0 || rect.height === 0) continue;
    let right = window.innerWidth;
    let hidden = false;
    for (let box = cell.parentElement; box; box = box.parentElement) {
      if (["auto", "scroll", "hidden", "clip"].includes(getComputedStyle(box).overflowX)) {
        const clip = box.getBoundingClientRect();
        // a visually hidden header (the app list's "Model name") is in a 1 px box on purpose
        hidden = hidden || clip.width <= 1;
        right = Math.min(right, clip.right);
      }
    }
    if (hidden) continue;
    if (rect.right > right + 1 || cell.scrollWidth > cell.clientWidth + 1) cut.push(text.slice(0, 40));
  }
  return cut;
}
"""


def changelist_urls() -> list[str]:
    """Every list of the admin site, from its registry."""
    urls = []
    for model in admin.site._registry:
        try:
            urls.append(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
        except NoReverseMatch:  # a registered model without a list
            continue
    return sorted(urls)


@pytest.fixture
def demo_superuser(demo_data) -> Iterator[None]:
    get_user_model().objects.create_superuser("layout", "layout@example.com", PASSWORD)
    yield


def assert_fits(page: Page, url: str) -> None:
    response = page.goto(url)
    assert response is not None and response.ok, f"{url}: {response and response.status}"
    page.wait_for_load_state("load")
    seen = page.evaluate(MEASURE)
    assert seen["scrollWidth"] <= seen["innerWidth"], f"{url} scrolls sideways: {seen}"
    assert not seen["clipped"], f"{url} has boxes that scroll or clip sideways: {seen['clipped']}"
    assert not seen["wrapped"], f"{url} wraps amounts onto two lines: {seen['wrapped']}"
    assert_accessible(page)  # and WCAG 2.1 A/AA, as axe-core finds it


@pytest.mark.slow
def test_every_list_and_order_page_fits_1366px(new_page, live_server, admin_login, demo_superuser):
    page = new_page(viewport=VIEWPORT)
    admin_login(page, "layout", PASSWORD)
    urls = changelist_urls()
    assert "/admin/orders/order/" in urls and "/admin/orders/refund/" in urls
    demo = Order.objects.filter(platform_order_id__startswith=DEMO_PREFIX)
    for status in ORDER_STATES:
        # the order of that state with the longest history: the widest timeline the demo has
        order = max(
            demo.filter(status=status).prefetch_related("events")[:20], key=lambda o: o.events.count()
        )
        urls.append(reverse("admin:orders_order_change", args=[order.pk]))
    # the list's first page shows the newest orders: the closed and the supplier's, filtered
    urls += [reverse("admin:index"), "/admin/orders/order/?status__exact=closed"]
    urls += ["/admin/orders/order/?status__exact=supplier_refund_pending", "/admin/orders/refund/?o=-5"]
    failures = []
    for url in urls:
        try:
            assert_fits(page, f"{live_server.url}{url}")
        except AssertionError as exc:
            failures.append(str(exc))
    assert not failures, "\n".join(failures)


@pytest.fixture
def demo_with_long_words(demo_data) -> Iterator[None]:
    """The demo, and the newest unpaid order of its main store from a buyer whose email is one
    long word, handled by a colleague whose user name is another: the widest the first row of a
    list of waiting work can be."""
    main = Store.objects.get(code=DEFAULT_CODE)
    colleague = staff("Operator", "aleksandra.wisniewska.kowalczyk", stores=[main])
    OrderFactory(
        store=main,
        buyer_name="Aleksandra Wiśniewska-Kowalczyk",
        buyer_email="aleksandra.wisniewska.kowalczyk@example-mail.com",
        assignee=colleague,
    )
    yield


@pytest.mark.slow
@pytest.mark.parametrize("locale", ["en-US", "zh-CN"])
def test_each_users_index_and_waiting_work_fit_1366px_without_a_cut_cell(
    new_page, live_server, admin_login, demo_with_long_words, locale
):
    failures = []
    for username in ("operator", "supervisor", "finance"):
        page = new_page(locale=locale, viewport=VIEWPORT)
        admin_login(page, username, demo_password(username))
        page.goto(f"{live_server.url}{reverse('admin:index')}")
        # the index, "waiting on me", and every list the index links to
        links = page.eval_on_selector_all("#worklist th a", "links => links.map(a => a.getAttribute('href'))")
        for url in [reverse("admin:index"), "/admin/orders/order/?waiting_on=me", *links]:
            try:
                assert_fits(page, f"{live_server.url}{url}")
                cut = page.evaluate(CUT_CELLS)
                assert not cut, f"{username} {url}: cells cut at 1366 px: {cut}"
            except AssertionError as exc:
                failures.append(str(exc))
    assert not failures, "\n".join(failures)
