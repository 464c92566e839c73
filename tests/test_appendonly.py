"""Evidence and history are append-only: the ORM refuses to change them on every database, and
PostgreSQL refuses even raw SQL. Every model that inherits ``AppendOnlyModel`` is covered: its
migrations install the trigger, and on PostgreSQL the trigger is there."""

import pytest
from django.apps import apps
from django.db import DatabaseError, connection, transaction
from django.db.migrations.loader import MigrationLoader

from evidence.models import Attachment, Communication
from orders import workflow
from orders.models import OrderEvent, StockMovement
from orders.workflow import stock
from shopops.appendonly import AppendOnlyError, AppendOnlyModel, AppendOnlyTrigger, trigger_name
from tests.factories import OrderFactory, SkuFactory
from tests.workflow_support import attach, private_media, say  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


def _one_of_each():
    order = OrderFactory()
    communication = say(order)
    attachment = attach(order)
    workflow.close_unpaid(order, by=None, reason="buyer_cancelled")
    event = OrderEvent.objects.get(order=order)
    movement = stock.record_movement(SkuFactory(), delta=3, reason="restock", by=None)
    return {
        "evidence_communication": (communication, "summary", "'changed'"),
        "evidence_attachment": (attachment, "original_name", "'changed.png'"),
        "orders_orderevent": (event, "to_status", "'paid'"),
        "orders_stockmovement": (movement, "delta", "99"),
    }


TABLES = ["evidence_communication", "evidence_attachment", "orders_orderevent", "orders_stockmovement"]


@pytest.mark.postgres
@pytest.mark.parametrize("table", TABLES)
def test_raw_sql_update_and_delete_fail_on_postgresql(table):
    record, column, value = _one_of_each()[table]

    with (
        pytest.raises(DatabaseError, match=f"^{table} is append-only: UPDATE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET {column} = {value} WHERE id = %s", [record.pk])
    with (
        pytest.raises(DatabaseError, match=f"^{table} is append-only: DELETE refused"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"DELETE FROM {table} WHERE id = %s", [record.pk])

    assert type(record).objects.filter(pk=record.pk).exists()


MODELS = {
    "evidence_communication": Communication,
    "evidence_attachment": Attachment,
    "orders_orderevent": OrderEvent,
    "orders_stockmovement": StockMovement,
}


@pytest.mark.parametrize("table", TABLES)
def test_the_orm_refuses_to_change_or_delete(table):
    record, column, _value = _one_of_each()[table]
    model = MODELS[table]
    original = getattr(record, column)
    setattr(record, column, 99 if isinstance(original, int) else "changed")

    plural = model._meta.verbose_name_plural
    changed = f"^{plural} records are append-only: they cannot be changed.$"
    deleted = f"^{plural} records are append-only: they cannot be deleted.$"
    with pytest.raises(AppendOnlyError, match=changed):
        record.save()
    with pytest.raises(AppendOnlyError, match=deleted):
        record.delete()
    with pytest.raises(AppendOnlyError, match=changed):
        model.objects.filter(pk=record.pk).update(**{column: getattr(record, column)})
    with pytest.raises(AppendOnlyError, match=deleted):
        model.objects.filter(pk=record.pk).delete()
    with pytest.raises(AppendOnlyError, match=changed):
        model.objects.bulk_update([record], [column])
    with pytest.raises(AppendOnlyError, match=changed):
        model.objects.update_or_create(pk=record.pk, defaults={column: getattr(record, column)})
    with pytest.raises(AppendOnlyError, match=changed):
        model.objects.bulk_create(
            [record], update_conflicts=True, unique_fields=["id"], update_fields=[column]
        )

    assert model.objects.filter(pk=record.pk).values_list(column, flat=True).get() == original


def test_a_superuser_cannot_change_evidence_either(django_user_model):
    order = OrderFactory()
    communication = say(order)
    django_user_model.objects.create_superuser("root", "root@example.com", "x-pass-word-1")
    communication.summary = "rewritten by the boss"
    with pytest.raises(AppendOnlyError, match=r"^communications records are append-only"):
        communication.save()
    assert Communication.objects.get(pk=communication.pk).summary == "buyer message"


def _append_only_tables() -> set[str]:
    return {
        model._meta.db_table
        for model in apps.get_models()
        if issubclass(model, AppendOnlyModel) and not model._meta.proxy
    }


def test_every_append_only_model_has_its_trigger_in_the_migrations():
    # A new model that inherits AppendOnlyModel needs append_only_trigger(<its table>) in the
    # migration that creates it; this fails until it has one.
    loader = MigrationLoader(None, ignore_no_migrations=True)
    installed = {
        operation.table
        for migration in loader.disk_migrations.values()
        for operation in migration.operations
        if isinstance(operation, AppendOnlyTrigger)
    }
    tables = _append_only_tables()
    assert set(TABLES) | {"orders_orderimport"} <= tables
    assert tables <= installed, f"no append_only_trigger for {sorted(tables - installed)}"


@pytest.mark.postgres
def test_every_append_only_table_has_an_enabled_trigger_on_postgresql():
    # tgtype bits: 1 row, 2 before, 4 insert, 8 delete, 16 update.
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname, t.tgname, t.tgenabled, t.tgtype, p.proname FROM pg_trigger t "
            "JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_proc p ON p.oid = t.tgfoid "
            "WHERE NOT t.tgisinternal"
        )
        triggers = {(table, name): rest for table, name, *rest in cursor}
    expected = ["O", 1 | 2 | 8 | 16, "shopops_refuse_change"]  # enabled, before update/delete, row
    tables = _append_only_tables()
    assert set(TABLES) | {"orders_orderimport"} <= tables
    for table in sorted(tables):
        assert triggers.get((table, trigger_name(table))) == expected, table
