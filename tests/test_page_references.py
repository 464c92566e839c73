"""Every id a page points to is on the page: a help text tied to its field, a label to its input.

A screen reader reads a field's help through ``aria-describedby`` and names an input by its
``<label for>``; an id that no element has leaves the field without its help or its name. The
pages are found, not listed: the order page of demo orders in every state, and every page of
that order that the order page links to (its step forms, the evidence, contact, purchase and
assignment forms, …), as a superuser, who is offered every link.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.db.models import Count

from orders.demo import DEMO_PREFIX
from orders.models import Order, Status

pytestmark = [pytest.mark.django_db]

ORDERS_PER_STATE = 2


class _References(HTMLParser):
    """The ids a page has, the ids it points to (attribute → ids), and its links."""

    def __init__(self) -> None:
        super().__init__()
        self.ids: set[str] = set()
        self.pointers: list[tuple[str, str, str]] = []  # (tag, attribute, id)
        self.links: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if found.get("id"):
            self.ids.add(found["id"])
        for attribute in ("aria-describedby", "aria-labelledby"):
            self.pointers += [(tag, attribute, ref) for ref in found.get(attribute, "").split()]
        if tag == "label" and found.get("for"):
            self.pointers.append((tag, "for", found["for"]))
        if tag == "a" and found.get("href"):
            self.links.append(found["href"])


def _read(html: str) -> _References:
    parser = _References()
    parser.feed(html)
    return parser


def dangling(html: str) -> list[str]:
    """``tag[attribute=id]`` for each id the page points to that no element of the page has."""
    page = _read(html)
    return [f"{tag}[{attribute}={ref}]" for tag, attribute, ref in page.pointers if ref not in page.ids]


@pytest.fixture
def demo_orders(demo_data) -> list[Order]:
    """The demo orders (every state, with purchases, refunds and disputes): the ones with the
    longest histories, ``ORDERS_PER_STATE`` of each state."""
    chosen = []
    demo = Order.objects.filter(platform_order_id__startswith=DEMO_PREFIX).annotate(steps=Count("events"))
    for status in Status.values:
        chosen += demo.filter(status=status).order_by("-steps", "pk")[:ORDERS_PER_STATE]
    return chosen


def test_the_help_and_labels_of_every_order_form_point_to_elements_on_the_page(client, demo_orders):
    client.force_login(get_user_model().objects.create_superuser("refs", "refs@example.com", "refs-2026"))
    assert {order.status for order in demo_orders} == set(Status.values)
    broken: dict[str, list[str]] = {}
    forms_seen = 0
    described = 0
    for order in demo_orders:
        order_url = f"/admin/orders/order/{order.pk}/change/"
        response = client.get(order_url)
        assert response.status_code == 200, order_url
        html = response.content.decode()
        pages = {order_url: html}
        # every page of this order the order page links to, once each
        below = re.compile(rf"^/admin/orders/order/{order.pk}/(?!change/|history/)")
        for href in dict.fromkeys(link for link in _read(html).links if below.match(link)):
            linked = client.get(href)
            if linked.status_code == 200 and linked["Content-Type"].startswith("text/html"):
                pages[href] = linked.content.decode()
        for url, page in pages.items():
            forms_seen += "<form" in page and url != order_url
            described += page.count("aria-describedby=")
            if found := dangling(page):
                broken[url] = found
    assert forms_seen > 3 * len(Status.values), "the crawl found too few forms to prove anything"
    assert described > 0
    assert not broken, "ids pointed to that no element has:\n" + "\n".join(
        f"  {url}: {', '.join(found)}" for url, found in broken.items()
    )
