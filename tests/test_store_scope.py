"""A user of store A cannot see, count, download or act on anything of store B (issue 20).

The pages are not listed here: every admin URL is discovered from the admin site's patterns
(``tests/admin_support.py``, as for the crawl of ``tests/test_admin_crawl.py``) and filled with
the ids of store B's objects, one of every store-scoped model (``orders.policy.STORE_PATHS``).
As a user of A only, in every group, each must answer exactly as the same URL with an id that
does not exist (404 for an object; the page of a list without B's rows), and no page may show
B's marks. A new screen, list or model is crawled without editing this test.
"""

from __future__ import annotations

import re

import pytest
from django.apps import apps
from django.contrib import admin
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from evidence import services as evidence
from orders import policy, workflow
from orders.models import Order, OrderImport, Status
from orders.workflow import feedback as feedback_flow
from orders.workflow import stock as stock_flow
from shopops.errors import NotPermitted, Refused
from tests.admin_support import admin_pages
from tests.factories import (
    NotificationFactory,
    OrderFactory,
    RefundFactory,
    StoreFactory,
    SupplierOrderFactory,
    default_store,
    staff,
)
from tests.workflow_support import png_bytes, private_media  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

GROUPS = ["Operator", "Supervisor", "Finance", "Analyst"]
# What only store B's objects say: none of it may reach a user of store A.
B_ORDER_ID = "8199000000000042"
B_BUYER = "Brunhilde Storebsdottir"
B_MARKS = (B_ORDER_ID, B_BUYER, "b-only-proof.png", "store-b-secret-summary")
MISSING = 2**62


def _one_of_everything(store, order_id: str, buyer: str, mark: str) -> Order:
    order = OrderFactory(
        store=store,
        platform_order_id=order_id,
        buyer_name=buyer,
        status=Status.SHIPPED,
        buyer_email="b@x.com",
    )
    SupplierOrderFactory(order=order, supplier_name=f"{mark} supplier")
    RefundFactory(order=order)
    NotificationFactory(order=order)
    evidence.record_communication(
        order, by=None, counterparty="buyer", channel="email", direction="inbound", summary=mark
    )
    evidence.attach_file(order, by=None, file=SimpleUploadedFile(f"{mark}.png", png_bytes()))
    feedback_flow.record_feedback(order, by=None, rating=1, comment=mark)
    stock_flow.record_movement(
        order.sku_id, by=None, delta=1, reason="return_restock", order=order, note=mark
    )
    OrderImport.objects.create(
        file_name=f"{mark}.csv",
        sha256="0" * 64,
        rules="r",
        store=store,
        rows=1,
        new=1,
        updated=0,
        unchanged=0,
        refused=0,
        moves=0,
    )
    return order


@pytest.fixture
def stores():
    a = default_store()
    b = StoreFactory(code="B", name="Store B")
    _one_of_everything(a, "8199000000000001", "Alma Storea", "a-only-proof")
    b_order = _one_of_everything(b, B_ORDER_ID, B_BUYER, "b-only-proof")
    # The ids of store B's objects, per admin URL name prefix ("orders_order", ...).
    admin.autodiscover()
    b_ids = {}
    for model in admin.site._registry:
        if model._meta.label_lower not in policy.STORE_PATHS:
            continue
        rows = policy.scope(_user_of(b), apps.get_model(model._meta.label).objects.all())
        first = rows.order_by("pk").values_list("pk", flat=True).first()
        if first is not None:
            b_ids[f"{model._meta.app_label}_{model._meta.model_name}"] = first
    return {"a": a, "b": b, "b_order": b_order, "b_ids": b_ids}


def _user_of(store):
    """A user who works for ``store`` only (not saved: enough for the policy's question)."""
    user = type("U", (), {"is_active": True, "is_superuser": False, "pk": None})()
    user._shopops_store_ids = frozenset({store.pk})
    return user


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _shows_b(response, echoed: str = "") -> str | None:
    """The first of B's marks the response holds (``echoed``: the search term, which the page
    shows back in its search box, is not one)."""
    if response.streaming:
        body = b"".join(response.streaming_content).decode(errors="replace")
    else:
        body = response.content.decode(errors="replace")
    return next((mark for mark in B_MARKS if mark != echoed and mark in body), None)


def _store_b_urls(b_ids: dict[str, int], b_order: Order) -> list[tuple[str, str]]:
    """(URL with B's id, the same URL with a missing id) for every admin URL that takes an id of a
    store-scoped model, and the order's screens with a real transition name."""
    pairs = []
    with_b = admin_pages(b_ids)
    for url in with_b:
        for key, pk in b_ids.items():
            app, model = key.split("_", 1)
            if f"/{app}/{model}/{pk}/" in url:
                pairs.append((url, url.replace(f"/{pk}/", f"/{MISSING}/", 1)))
    base = f"/admin/orders/order/{b_order.pk}/"
    for tail in (
        "transition/mark_completed/",
        "transition/propose_return/",
        "evidence-pack/?target=aliexpress",
    ):
        pairs.append((base + tail, base.replace(str(b_order.pk), str(MISSING)) + tail))
    return sorted(set(pairs))


@pytest.mark.parametrize("group", GROUPS)
def test_a_one_store_user_gets_404_on_every_url_of_the_other_stores_objects(group, stores):
    client = _client(staff(group, f"a-{group.lower()}", stores=[stores["a"]]))
    pairs = _store_b_urls(stores["b_ids"], stores["b_order"])
    assert len(pairs) > 20, pairs  # change pages, histories, deletes and the order's screens
    assert {"orders_order", "orders_refund", "evidence_attachment", "orders_feedback"} <= set(stores["b_ids"])
    for b_url, missing_url in pairs:
        of_b = client.get(b_url)
        missing = client.get(missing_url)
        assert of_b.status_code == missing.status_code, (
            f"{b_url}: {of_b.status_code}, missing: {missing.status_code}"
        )
        assert of_b.status_code in (403, 404, 405), f"{b_url} answered {of_b.status_code}"
        assert _shows_b(of_b) is None, b_url


@pytest.mark.parametrize("group", GROUPS)
def test_no_list_page_or_screen_of_a_one_store_user_shows_the_other_store(group, stores):
    client = _client(staff(group, f"a-list-{group.lower()}", stores=[stores["a"]]))
    # Pages with B's ids included: they answer 404 above; the lists and screens must not show B.
    pages = [url for url in admin_pages(stores["b_ids"]) if str(MISSING) not in url]
    searched = 0
    for url in pages:
        response = client.get(url)
        assert response.status_code < 500, url
        assert _shows_b(response) is None, f"{url} shows {_shows_b(response)!r}"
        if response.status_code == 200 and url.endswith("/") and url.count("/") == 4:
            for term in (B_ORDER_ID, B_BUYER):  # the list's search
                searched += 1
                found = client.get(url, {"q": term})
                assert _shows_b(found, echoed=term) is None, f"{url}?q={term}"
    assert searched >= 2  # at least the order list was searched


def test_a_one_store_supervisor_cannot_act_on_the_other_stores_order_by_post(stores):
    supervisor = staff("Supervisor", "a-supervisor", stores=[stores["a"]])
    client = _client(supervisor)
    b_order = stores["b_order"]
    url = f"/admin/orders/order/{b_order.pk}/transition/mark_completed/"
    assert client.post(url, {}).status_code == 404
    evidence_url = f"/admin/orders/order/{b_order.pk}/evidence/"
    before = b_order.communications.count()
    assert client.post(evidence_url, {"counterparty": "buyer", "summary": "x"}).status_code == 404
    pack_url = f"/admin/orders/order/{b_order.pk}/evidence-pack/?target=aliexpress"
    assert client.post(pack_url).status_code == 404
    b_order.refresh_from_db()
    assert b_order.status == Status.SHIPPED
    assert b_order.communications.count() == before
    assert not b_order.events.filter(transition="build_evidence_pack").exists()
    # The list's actions run on the list's (scoped) rows: B's id among the selected is ignored.
    response = client.post("/admin/orders/order/", {"action": "export", "_selected_action": [b_order.pk]})
    assert _shows_b(response) is None


def test_the_workflow_refuses_the_other_stores_order_as_if_it_did_not_exist(stores):
    operator = staff("Operator", "a-operator", stores=[stores["a"]])
    b_order = stores["b_order"]
    with pytest.raises(Refused) as of_b:
        workflow.mark_completed(b_order.pk, by=operator)
    with pytest.raises(Refused) as missing:
        workflow.mark_completed(MISSING, by=operator)
    assert str(of_b.value) == str(missing.value).replace(str(MISSING), str(b_order.pk))
    assert not isinstance(of_b.value, NotPermitted)
    with pytest.raises(Refused, match="does not exist"):
        evidence.record_communication(
            b_order.pk, by=operator, counterparty="buyer", channel="email", direction="inbound", summary="x"
        )
    b_order.refresh_from_db()
    assert b_order.status == Status.SHIPPED
    # The same user on their own store's order: allowed.
    a_order = OrderFactory(store=stores["a"], status=Status.SHIPPED)
    assert workflow.mark_completed(a_order, by=operator).status == Status.COMPLETED


def test_a_user_of_both_stores_and_a_superuser_see_both(stores):
    both = staff("Supervisor", "ab-supervisor", stores=[stores["a"], stores["b"]])
    root = _client(type(both).objects.create_superuser("root-ab", "r@x.com", "x"))
    for client in (_client(both), root):
        page = client.get("/admin/orders/order/").content.decode()
        assert B_ORDER_ID in page and "8199000000000001" in page
        assert client.get(f"/admin/orders/order/{stores['b_order'].pk}/change/").status_code == 200
        # The store filter narrows the list to one store.
        only_b = client.get("/admin/orders/order/", {"store": stores["b"].pk}).content.decode()
        assert B_ORDER_ID in only_b and "8199000000000001" not in only_b


def test_a_store_filter_naming_a_store_the_user_does_not_work_for_shows_nothing(stores):
    client = _client(staff("Supervisor", "a-filter", stores=[stores["a"]]))
    response = client.get("/admin/orders/order/", {"store": stores["b"].pk})
    assert response.status_code == 200
    assert _shows_b(response) is None
    assert not re.search(r"8199000000000001", response.content.decode())


def test_a_user_of_no_store_sees_no_order(stores):
    client = _client(staff("Supervisor", "no-store", stores=[]))
    page = client.get("/admin/orders/order/").content.decode()
    assert B_ORDER_ID not in page and "8199000000000001" not in page
