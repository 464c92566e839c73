"""The write rule at run time (``tests/write_audit.py``): each write is put down to the module that
made it, a write outside the table's owners is caught, and a representative run is clean.

Every test runs under the audit (the ``write_audit`` fixture of ``tests/conftest.py``); the tests
here read what it recorded, and take the violations they provoke on purpose.
"""

from __future__ import annotations

import csv
import io

import pytest
from django.contrib import admin
from django.db import connection
from django.test import RequestFactory

from evidence import services as evidence
from orders import delivery, workflow
from orders.imports.service import import_orders
from orders.models import MovementReason, Order, Sku
from orders.workflow import outbox
from tests.factories import SkuFactory, staff
from tests.write_rule import ROOT

pytestmark = pytest.mark.django_db


def run_as(path: str, code: str, **names) -> None:
    """Run ``code`` as if it were project code in ``path`` (its frames carry that file name)."""
    exec(  # noqa: S102 - test code, written here
        compile(code, str(ROOT / path), "exec"),
        {"Order": Order, "Sku": Sku, "connection": connection, **names},
    )


WRITES = {
    "an ORM update": "Sku.objects.filter(pk=sku.pk).update(title='x')",
    "a save": "sku.title = 'y'\nsku.save()",
    "a delete": "Sku.objects.create(code=tag).delete()",
    "a create": "Sku.objects.create(code=tag)",
    "raw SQL": "with connection.cursor() as c:\n    c.execute(\"UPDATE orders_sku SET title = 'z'\")",
}


@pytest.mark.parametrize("code", WRITES.values(), ids=WRITES.keys())
def test_a_write_from_a_module_that_does_not_own_the_table_is_caught(write_audit, code):
    sku = SkuFactory()
    # when: an admin module writes a SKU itself
    run_as("orders/admin/_probe.py", code, sku=sku, tag="A")
    # then
    caught = write_audit.take_violations()
    assert caught and {(v.table, v.path) for v in caught} == {("orders.Sku", "orders/admin/_probe.py")}
    # and the same write from the workflow is its owner's
    run_as("orders/workflow/_probe.py", code, sku=sku, tag="B")
    assert write_audit.violations == []
    assert ("orders.Sku", "orders/workflow/_probe.py") in {(r.table, r.path) for r in write_audit.records}


def test_a_write_with_no_project_code_on_the_stack_is_a_tests_set_up(write_audit):
    SkuFactory()
    Sku.objects.update(title="set up")
    assert write_audit.records == []


def test_the_generic_writers_are_looked_past_to_their_caller(write_audit):
    # AppendOnlyModel.save (shopops/appendonly.py) runs for the workflow that saves a movement
    sku = SkuFactory()
    workflow.adjust_stock(sku, by=None, delta=2, reason=MovementReason.RESTOCK, note="count")
    paths = {(r.table, r.path) for r in write_audit.records}
    assert {
        ("orders.Sku", "orders/workflow/stock.py"),
        ("orders.StockMovement", "orders/workflow/stock.py"),
    } <= paths


def test_the_admins_default_save_is_caught_whoever_calls_it(write_audit):
    sku = SkuFactory()
    request = RequestFactory().post("/admin/orders/sku/")
    request.user = staff("Supervisor")
    sku.title = "through the default"
    # when: a ModelAdmin without its own save_model saves
    admin.ModelAdmin(Sku, admin.site).save_model(request, sku, form=None, change=True)
    # then
    (caught,) = write_audit.take_violations()
    assert (caught.table, caught.path) == ("orders.Sku", None)
    assert "django.contrib.admin's default ModelAdmin.save_model" in str(caught)


def _csv(rows: list[dict[str, str]]) -> io.BytesIO:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    data = io.BytesIO(buffer.getvalue().encode())
    data.name = "audit.csv"
    return data


ROW = {
    "order_id": "8199000000000777",
    "status": "awaiting_payment",
    "placed_at": "2026-11-20 10:00:00",
    "buyer_name": "Maria Garcia",
    "buyer_email": "maria@example.com",
    "buyer_country": "ES",
    "buyer_language": "es",
    "sku": "SKU-AUDIT-1",
    "product_title": "Case",
    "quantity": "1",
    "unit_price": "2.35",
    "total_amount": "2.35",
    "currency": "USD",
    "notes": "",
}


def test_a_representative_run_is_written_by_the_owners_only(write_audit, messages, client):
    operator, supervisor = staff("Operator"), staff("Supervisor")
    # an import: new orders (the COPY writer), its record (the history), then a change (workflow)
    assert import_orders(_csv([ROW])).new == 1
    assert import_orders(_csv([{**ROW, "status": "paid", "paid_at": "2026-11-21 10:00:00"}])).updated == 1
    order = Order.objects.get()
    # evidence, a buyer message delivered, a SKU added in the admin, stock adjusted
    evidence.record_communication(
        order,
        by=operator,
        counterparty="buyer",
        channel="aliexpress_message",
        direction="inbound",
        summary="hi",
    )
    with outbox.kept_from_delivery():
        ids = [n.pk for n in outbox.record_payment_reminder(order)]
    delivery.deliver_many(ids)
    client.force_login(supervisor)
    form = {
        "code": "SKU-AUDIT-2",
        "title": "Two",
        "movements-TOTAL_FORMS": "0",
        "movements-INITIAL_FORMS": "0",
    }
    assert client.post("/admin/orders/sku/add/", form).status_code == 302
    workflow.adjust_stock(
        Sku.objects.get(code="SKU-AUDIT-2"), by=supervisor, delta=3, reason="restock", note="n"
    )
    # then: every write was its owner's, and the audit saw each writer
    assert write_audit.violations == []
    seen = {(r.table, r.path) for r in write_audit.records}
    assert {
        ("orders.Order", "orders/imports/writer.py"),
        ("orders.OrderEvent", "orders/imports/writer.py"),
        ("orders.Sku", "orders/imports/writer.py"),
        ("orders.OrderImport", "orders/imports/history.py"),
        ("orders.Order", "orders/workflow/core.py"),
        ("evidence.Communication", "evidence/services.py"),
        ("orders.Notification", "orders/workflow/outbox.py"),
        ("orders.Sku", "orders/workflow/stock.py"),
        ("orders.StockMovement", "orders/workflow/stock.py"),
    } <= seen, sorted(seen)
