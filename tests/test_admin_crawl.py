"""Every admin page, as every group, with hostile values in every parameter it accepts: never a 500.

Nothing here lists the pages: they are discovered from the admin site's URL patterns (every
list, add and change page of every registered model, and every custom screen), and each page's
parameters from the page itself (its list filters, its date hierarchy, the inputs of its forms
and the query strings of its links). A new list or screen is crawled without editing this test.
On PostgreSQL (CI) a NUL byte or a timestamp beyond the year 9999 reaches a real database.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import parse_qsl, urlsplit

import pytest
from django.contrib import admin
from django.contrib.admin.utils import NotRelationField, get_fields_from_path
from django.contrib.auth import get_user_model
from django.core.exceptions import FieldDoesNotExist
from django.db import models
from django.test import Client

from evidence import services as evidence
from orders.models import Status
from orders.workflow import feedback as feedback_flow
from orders.workflow import stock as stock_flow
from tests.admin_support import admin_pages
from tests.factories import NotificationFactory, OrderFactory, RefundFactory, SupplierOrderFactory, staff
from tests.workflow_support import png_bytes, private_media  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

GROUPS = ["Operator", "Supervisor", "Finance", "Analyst"]
HOSTILE = [
    "a\x00b",  # PostgreSQL refuses NUL in text
    "99999999999999999999",  # beyond bigint, beyond datetime's year
    "-9223372036854775809",
    "0001-01-01",  # the calendar's ends
    "9999-12-31",
    "1e309",  # infinity as a float, a choice that is not one
    "x" * 3000,
]
# Parameters every list understands (search, ordering, page, show all, popup), beside its filters.
LIST_CONTROLS = ["q", "o", "p", "all", "_popup", "_to_field", "e"]


class _Parameters(HTMLParser):
    """The query parameters a page offers: the inputs of its GET forms and its links' query strings
    (a POST form's inputs are a form's, checked by the form tests)."""

    def __init__(self) -> None:
        super().__init__()
        self.names: set[str] = set()
        self.in_get_form = False

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.in_get_form = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "form":
            self.in_get_form = (found.get("method") or "get").lower() == "get"
        named = tag in ("input", "select", "textarea") and found.get("name")
        if named and self.in_get_form and found.get("type") not in ("file", "submit"):
            self.names.add(found["name"])
        href = found.get("href") or ""
        if tag == "a" and "/admin/r/" in href:
            return
        if tag == "a" and "?" in href and not href.startswith(("http", "//")):
            self.names.update(
                name for name, _value in parse_qsl(urlsplit(href).query, keep_blank_values=True)
            )


def _parameters(html: str) -> set[str]:
    parser = _Parameters()
    parser.feed(html)
    return {name for name in parser.names if name not in ("csrfmiddlewaretoken", "action", "select_across")}


@pytest.fixture
def data():
    """One of everything the lists show, so that each list and change page has a row to render."""
    order = OrderFactory(status=Status.SHIPPED, buyer_email="b@example.com")
    SupplierOrderFactory(order=order)
    refund = RefundFactory(order=order)
    NotificationFactory(order=order)
    supervisor = staff("Supervisor", "crawl-supervisor")
    evidence.record_communication(
        order, by=None, counterparty="buyer", channel="email", direction="inbound", summary="hello"
    )
    from django.core.files.uploadedfile import SimpleUploadedFile

    evidence.attach_file(order, by=None, file=SimpleUploadedFile("proof.png", png_bytes()))
    feedback = feedback_flow.record_feedback(order, by=None, rating=1, comment="bad")
    stock_flow.adjust_stock(order.sku, by=supervisor, delta=5, reason="restock", note="count")
    from django.apps import apps
    from django.urls import get_resolver

    assert get_resolver().url_patterns  # the admin's models are registered as its URLs load
    pk_of = {}
    for model in admin.site._registry:
        first = apps.get_model(model._meta.label).objects.order_by("pk").values_list("pk", flat=True).first()
        if first is not None:
            pk_of[f"{model._meta.app_label}_{model._meta.model_name}"] = first
    return {"order": order, "refund": refund, "feedback": feedback, "pk_of": pk_of}


def _client(user) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(user)
    return client


def _assert_no_server_error(client: Client, url: str, params: dict | None = None) -> str:
    response = client.get(url, params or {})
    assert response.status_code < 500, f"{url} {params!r} → {response.status_code}"
    if response.status_code != 200 or response.streaming:
        return ""
    return response.content.decode(errors="replace")


@pytest.mark.parametrize("group", GROUPS)
def test_every_admin_page_answers_every_group_without_a_server_error(group, data):
    client = _client(staff(group, f"crawl-{group.lower()}"))
    pages = admin_pages(data["pk_of"])
    assert len(pages) > 30  # lists, change pages and custom screens were found
    for url in pages:
        _assert_no_server_error(client, url)


def test_every_parameter_of_every_page_survives_hostile_values(data):
    """As a superuser (every page is open), each parameter of each page with each hostile value;
    then as each group, every parameter of a page at once."""
    superuser = get_user_model().objects.create_superuser("crawl-root", "root@example.com", "x")
    root = _client(superuser)
    offered: dict[str, set[str]] = {}
    for url in admin_pages(data["pk_of"]):
        if str(2**62) in url or url.endswith(("/delete/", "/history/")):
            continue  # crawled without parameters above; they take none
        html = _assert_no_server_error(root, url)
        names = _parameters(html)
        if url.endswith(tuple(f"/{m._meta.model_name}/" for m in admin.site._registry)):
            model_admin = next(
                ma for m, ma in admin.site._registry.items() if url.endswith(f"/{m._meta.model_name}/")
            )
            names |= set(LIST_CONTROLS)
            if model_admin.date_hierarchy:
                names |= {f"{model_admin.date_hierarchy}__{part}" for part in ("year", "month", "day")}
        if names:
            offered[url] = names
    crawled, seen = 0, set()
    for url, names in offered.items():
        for name in sorted(names):
            # A parameter every page shares (the language switch) is crawled on its first page.
            key = (name, url if sum(name in n for n in offered.values()) < 3 else "")
            if key in seen:
                continue
            seen.add(key)
            for value in HOSTILE:
                _assert_no_server_error(root, url, {name: value})
            crawled += 1
        # the date hierarchy's parts together, as its links combine them
        if any(name.endswith("__year") for name in names):
            year = next(name for name in names if name.endswith("__year"))
            base = year.removesuffix("__year")
            for y, m, d in (("9999", "12", "31"), ("1", "1", "1"), ("2026", "13", "1"), ("2026", "2", "30")):
                _assert_no_server_error(root, url, {year: y, f"{base}__month": m, f"{base}__day": d})
    assert crawled > 60  # parameters of lists, filters and screens were found and crawled
    for group in GROUPS:
        client = _client(staff(group, f"crawl-all-{group.lower()}"))
        for url, names in offered.items():
            for value in ("\x00", "99999999999999999999", "9999-12-31"):
                _assert_no_server_error(client, url, dict.fromkeys(names, value))


@pytest.mark.parametrize(
    ("url", "params", "says"),
    [
        ("/admin/orders/order/", {"close_reason": "\x00"}, "NUL"),
        ("/admin/orders/order/", {"status__exact": "no-such-status"}, "has no choice"),
        ("/admin/orders/notification/", {"created_at__year": "99999999999999999999"}, "whole number"),
        ("/admin/orders/stockmovement/", {"created_at__year": "9999"}, "whole number"),
        ("/admin/orders/feedback/", {"assignee__id__exact": "99999999999999999999"}, "whole number"),
        ("/admin/orders/order/", {"buyer_name__regex": "("}, "is not a filter of this list"),
        ("/admin/orders/refund/", {"order__id__exact": "1"}, "is not a filter of this list"),
        ("/admin/orders/order/export/", {"buyer_email__startswith": "a"}, "is not a filter of this list"),
        ("/admin/orders/stockmovement/", {"created_at__gte": "0001-01-01"}, "date"),
        ("/admin/orders/order/", {"q": "\x00"}, "NUL"),
    ],
)
def test_an_impossible_parameter_is_a_400_naming_it(data, url, params, says):
    client = _client(staff("Supervisor", "crawl-400"))
    response = client.get(url, params)
    assert response.status_code == 400
    text = response.content.decode()
    assert says in text and next(iter(params)) in text
    assert "This address cannot be right" in text


@pytest.mark.postgres
def test_on_postgresql_nul_and_far_years_in_a_list_filter_are_a_400_not_a_database_error(data):
    client = _client(staff("Supervisor", "crawl-pg"))
    assert client.get("/admin/orders/order/", {"close_reason": "\x00"}).status_code == 400
    assert (
        client.get("/admin/orders/feedback/", {"received_at__year": "99999999999999999999"}).status_code
        == 400
    )
    assert client.get("/admin/orders/order/", {"close_reason": "other"}).status_code == 200


# --- every lookup Django knows, on every field path a list accepts ------------------------------

# The lookups Django's own list filters and date hierarchy produce: a list may accept these.
FILTER_LOOKUPS = {"exact", "isnull", "gte", "lt", "year", "month", "day", "id"}


def _lookups(field: models.Field) -> set[str]:
    """Every lookup and transform registered on ``field``: ``regex``, ``year``, ``date``, ``unaccent``
    or ``search`` on PostgreSQL ... (Django's and any a dependency registers)."""
    return set(field.get_lookups())


def _field_paths(model_admin, offered: set[str]) -> dict[str, models.Field]:
    """The field paths a list names: its filters' and date hierarchy's (read from the parameters
    its page offers), and its search fields."""
    model = model_admin.model
    paths: dict[str, models.Field] = {}
    for name in set(offered) | {name.lstrip("^=@") for name in model_admin.search_fields}:
        parts = name.split("__")
        for end in range(len(parts), 0, -1):
            try:
                field = get_fields_from_path(model, "__".join(parts[:end]))[-1]
            except (FieldDoesNotExist, NotRelationField):  # not a field path
                continue
            paths["__".join(parts[:end])] = field
            break
    return paths


def test_every_lookup_on_every_field_path_of_a_list_is_a_400_or_an_answer_never_a_500(data):
    """``?buyer_name__regex=(`` was a 500 (PostgreSQL cannot compile the expression): a list accepts
    only what its filters and links produce; any other lookup is a 400 naming the parameter."""
    root = _client(get_user_model().objects.create_superuser("crawl-lookups", "l@example.com", "x"))
    tried = refused = 0
    for model, model_admin in admin.site._registry.items():
        url = f"/admin/{model._meta.app_label}/{model._meta.model_name}/"
        page = root.get(url)
        if page.status_code != 200:
            continue
        offered = _parameters(page.content.decode()) | set(LIST_CONTROLS)
        for path, field in sorted(_field_paths(model_admin, offered).items()):
            for lookup in sorted(_lookups(field)):
                name = f"{path}__{lookup}"
                response = root.get(url, {name: "("})
                assert response.status_code < 500, f"{url}?{name}=( → {response.status_code}"
                tried += 1
                if name in offered:
                    continue
                if not set(lookup.split("__")) <= FILTER_LOOKUPS:
                    # No filter produces it: refused before the list's query, naming it.
                    assert response.status_code == 400, f"{url}?{name}=( → {response.status_code}"
                    assert name in response.content.decode()
                    refused += 1
    assert tried > 1000 and refused > 900
