"""Who owns which order field on a re-import (issue 12, part 1): the file, or the shop.

The platform owns what the file describes; a field a staff member corrected since the last
import, and the shop's notes, are kept; money and identity of an order with a refund or in a
close workflow are frozen; one row is one supplier order. See docs/import-ownership.md.
"""

from decimal import Decimal

import pytest

from orders import workflow
from orders.imports.service import import_orders
from orders.models import Order, OrderEvent, Status, SupplierOrder
from tests.factories import RefundFactory, staff
from tests.import_support import csv_file, order_row

pytestmark = pytest.mark.django_db


def _imported(**overrides: str) -> Order:
    result = import_orders(csv_file([order_row(**overrides)]))
    assert result.ok and result.new == 1, (result.errors, result.refused)
    return Order.objects.get()


def test_a_staff_correction_survives_a_reimport_of_the_same_bytes_which_says_so():
    # given: imported with notes, then a Supervisor corrects the buyer's email
    order = _imported(notes="call before delivery")
    workflow.correct_contact(order, by=staff("Supervisor"), buyer_email="maria.garcia@example.com")
    events = OrderEvent.objects.count()
    # when: the very same bytes again
    result = import_orders(csv_file([order_row(notes="call before delivery")]))
    # then: nothing changed, and the report names the kept field and what the file says
    order.refresh_from_db()
    assert order.buyer_email == "maria.garcia@example.com"
    assert (result.new, result.updated, result.unchanged, result.refused_count) == (0, 0, 1, 0)
    assert OrderEvent.objects.count() == events
    assert [(k.row, k.column, k.value) for k in result.kept] == [(2, "buyer_email", "maria@example.com")]
    assert "kept the corrected buyer email “maria.garcia@example.com”" in result.kept[0].message
    assert "the file says “maria@example.com”" in result.kept[0].message
    assert "changes nothing" in result.summary()
    assert "1 field(s) corrected in Shopops" in result.summary()


def test_a_corrected_field_is_kept_while_the_others_follow_the_file():
    order = _imported()
    workflow.correct_contact(order, by=staff("Supervisor"), buyer_phone="+34690810044")
    # when: the platform now has another name and email, and still the old phone
    result = import_orders(csv_file([order_row(buyer_name="María García", buyer_email="mg@example.com")]))
    # then
    order.refresh_from_db()
    assert (order.buyer_name, order.buyer_email, order.buyer_phone) == (
        "María García",
        "mg@example.com",
        "+34690810044",
    )
    assert result.updated == 1
    assert [k.column for k in result.kept] == ["buyer_phone"]


def test_the_shops_notes_are_never_overwritten_but_a_blank_one_is_filled():
    order = _imported(notes="fragile: double box")
    result = import_orders(csv_file([order_row(notes="platform note")]))
    order.refresh_from_db()
    assert order.notes == "fragile: double box"
    assert [k.column for k in result.kept] == ["notes"]
    assert "kept the shop's notes" in result.kept[0].message
    # a blank note is filled from the file: nothing is overwritten
    order.notes = ""
    order.save()
    import_orders(csv_file([order_row(notes="platform note")]))
    assert Order.objects.get().notes == "platform note"


def test_every_change_to_an_existing_order_is_an_event_with_old_and_new_values():
    # given
    order = _imported()
    supervisor = staff("Supervisor")
    # when
    row = order_row(buyer_name="Maria G.", total_amount="4.70", quantity="2", sku="SKU-PHC-002")
    result = import_orders(csv_file([row]), by=supervisor)
    # then
    assert result.updated == 1
    event = order.events.order_by("id").last()
    assert (event.transition, event.actor_id) == ("imported", supervisor.pk)
    assert event.data["buyer_name"] == {"old": "Maria Garcia", "new": "Maria G."}
    assert event.data["total_amount"] == {"old": "2.35", "new": "4.70"}
    assert event.data["quantity"] == {"old": 1, "new": 2}
    assert event.data["sku"] == {"old": "SKU-PHC-001", "new": "SKU-PHC-002"}
    assert event.data["file"] == "test.csv"


def test_money_and_identity_of_an_order_with_a_refund_are_never_changed_by_an_import():
    # given: a paid order with a refund to the buyer
    order = _imported(status="paid", paid_at="2026-11-20 11:00")
    RefundFactory(order=order, amount=Decimal("1.00"))
    before = order.events.count()
    # when: the file says another total and currency
    result = import_orders(
        csv_file([order_row(status="paid", paid_at="2026-11-20 11:00", total_amount="9.99")])
    )
    # then: the row is refused with the reason, nothing of it applied
    assert (result.updated, result.refused_count) == (0, 1)
    issue = result.refused[0]
    assert (issue.row, issue.column, issue.value) == (2, "total_amount", "9.99")
    assert "never changes amount paid" in issue.message and "it has a refund" in issue.message
    order.refresh_from_db()
    assert order.total_amount == Decimal("2.35")
    assert order.events.count() == before


def test_money_of_an_order_in_a_close_workflow_is_refused_naming_the_fields():
    order = _imported()
    workflow.close_unpaid(order, by=None, reason="buyer_cancelled")
    result = import_orders(csv_file([order_row(quantity="3", currency="EUR")]))
    assert result.refused_count == 1
    assert "never changes quantity, currency" in result.refused[0].message
    assert "close workflow" in result.refused[0].message
    order.refresh_from_db()
    assert (order.quantity, order.currency, order.status) == (1, "USD", Status.CLOSED)


def test_a_changed_1688_order_id_updates_the_supplier_order_with_an_event_never_adds_one():
    order = _imported()
    # when: the file corrects the 1688 order id and the supplier amount
    result = import_orders(
        csv_file([order_row(supplier_order_id="3000000000009002", supplier_amount="6.50")])
    )
    # then
    assert result.updated == 1
    supplier = SupplierOrder.objects.get()  # still one: the supplier-refund cap is unchanged
    assert (supplier.order_id, supplier.supplier_order_id, supplier.amount) == (
        order.pk,
        "3000000000009002",
        Decimal("6.50"),
    )
    event = order.events.order_by("id").last()
    assert event.data["supplier_order_id"] == {"old": "3000000000009001", "new": "3000000000009002"}
    assert event.data["supplier_amount"] == {"old": "6.00", "new": "6.50"}


def test_a_preview_lists_what_it_would_keep_and_writes_nothing():
    order = _imported()
    workflow.correct_contact(order, by=staff("Supervisor"), buyer_email="fixed@example.com")
    result = import_orders(csv_file([order_row(buyer_name="New Name")]), dry_run=True)
    assert result.updated == 1
    assert [k.column for k in result.kept] == ["buyer_email"]
    order.refresh_from_db()
    assert (order.buyer_name, order.buyer_email) == ("Maria Garcia", "fixed@example.com")
