"""The order list's *handled by* filter (``?assignee=me|nobody|<id>``), which the team page's
links and the list's own filter links write: its words are the filter's, not the column's.

The query guard (``shopops/query_guard.py``) checked ``assignee`` as the ``assignee`` column (a
whole number) and answered the filter's own links "Nobody" and "Me" with a 400 ("The filter
“assignee” needs a whole number … not “nobody”"); the browser team walk found it.
"""

from __future__ import annotations

import pytest
from django.test import Client

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
