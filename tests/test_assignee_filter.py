"""The order list's *handled by* filter (``?assignee=me|nobody|<id>``) and the team page's links
to it — two defects the browser team walk (``tests/test_browser_team_walk.py``) found:

- the query guard (``shopops/query_guard.py``) checked ``assignee`` as the ``assignee`` column (a
  whole number) and answered the filter's own links "Nobody" and "Me" with a 400 ("The filter
  “assignee” needs a whole number … not “nobody”");
- the team page's open-orders link of a person listed every order they ever handled (a "1" led
  to fifty rows and more), and Nobody's every unassigned order, closed ones included.
"""

from __future__ import annotations

import html
import re
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.test import Client
from django.utils import timezone

from orders.models import Status
from tests.factories import OrderFactory, default_store, staff

pytestmark = pytest.mark.django_db

LIST = "/admin/orders/order/"


@pytest.fixture
def team():
    default_store()
    return {"ana": staff("Operator", "ana"), "sue": staff("Supervisor", "sue")}


@pytest.fixture
def orders(team):
    return {
        "ana": OrderFactory(status=Status.PAID, assignee=team["ana"], platform_order_id="8100000000000101"),
        "sue": OrderFactory(status=Status.PAID, assignee=team["sue"], platform_order_id="8100000000000102"),
        "nobody": OrderFactory(status=Status.PAID, platform_order_id="8100000000000103"),
    }


def listed(client: Client, **query) -> set[str]:
    response = client.get(LIST, query)
    assert response.status_code == 200, response.content.decode()[:500]
    return {order.platform_order_id for order in response.context["cl"].result_list}


def test_the_handled_by_filters_links_list_their_orders(team, orders):
    sue = Client()
    sue.force_login(team["sue"])
    page = sue.get(LIST).content.decode()
    # the filter's own links, as the list shows them
    assert "?assignee=nobody" in page and "?assignee=me" in page
    assert listed(sue, assignee="nobody") == {"8100000000000103"}
    assert listed(sue, assignee="me") == {"8100000000000102"}
    assert listed(sue, assignee=str(team["ana"].pk)) == {"8100000000000101"}
    # and combined with another filter, as the walk clicks them
    assert listed(sue, assignee="nobody", status__exact="paid") == {"8100000000000103"}


def test_a_handled_by_value_the_filter_does_not_offer_lists_nothing(team, orders):
    sue = Client()
    sue.force_login(team["sue"])
    for value in ("somebody", "-1", "99999999999999999999", "1e309"):
        assert listed(sue, assignee=value) == set(), value


def team_links(page: str) -> dict[str, tuple[str, int]]:
    """The team table's open-orders links: username ("" for Nobody) → (address, the number shown)."""
    found = re.findall(
        r'<tr data-person="(\w*)".*?class="num open-orders"><a href="([^"]+)">(\d+)<', page, re.S
    )
    return {person: (html.unescape(url), int(count)) for person, url, count in found}


def test_the_team_pages_links_list_the_orders_it_counts(team, orders):
    """A person's open orders and Nobody's pool: the number on the team page is the number of rows
    behind its link — closed and completed orders, and nobody's unpaid and shipped ones, aside."""
    closed = {"status": Status.CLOSED, "close_reason": "other", "closed_at": timezone.now()}
    OrderFactory(**closed, assignee=team["ana"])  # handled once, not open
    OrderFactory(status=Status.COMPLETED, assignee=team["ana"])
    OrderFactory(**closed)  # nobody's, closed
    OrderFactory(status=Status.AWAITING_PAYMENT)  # waits on the buyer
    OrderFactory(status=Status.SHIPPED)  # waits on the carrier
    sue = Client()
    sue.force_login(team["sue"])
    links = team_links(sue.get("/admin/orders/team/").content.decode())
    assert {person: count for person, (_url, count) in links.items()} == {"ana": 1, "sue": 1, "": 1}
    assert listed(sue, **dict(parse_qsl(urlsplit(links["ana"][0]).query))) == {"8100000000000101"}
    assert listed(sue, **dict(parse_qsl(urlsplit(links["sue"][0]).query))) == {"8100000000000102"}
    assert listed(sue, **dict(parse_qsl(urlsplit(links[""][0]).query))) == {"8100000000000103"}
    # the list's own filter says so, and a value it does not offer lists nothing
    assert "?open=yes" in sue.get(LIST).content.decode()
    assert listed(sue, open="elsewhere") == set()
