"""Evidence and history are append-only: the ORM refuses to change them on every database, and
PostgreSQL refuses even raw SQL."""

import pytest
from django.db import DatabaseError, connection, transaction

from evidence.models import Attachment, Communication
from orders import stock, workflow
from orders.models import OrderEvent, StockMovement
from shopops.appendonly import AppendOnlyError
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
        pytest.raises(DatabaseError, match="append-only"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(f"UPDATE {table} SET {column} = {value} WHERE id = %s", [record.pk])
    with (
        pytest.raises(DatabaseError, match="append-only"),
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

    with pytest.raises(AppendOnlyError, match="append-only"):
        record.save()
    with pytest.raises(AppendOnlyError, match="append-only"):
        record.delete()
    with pytest.raises(AppendOnlyError):
        model.objects.filter(pk=record.pk).update(**{column: getattr(record, column)})
    with pytest.raises(AppendOnlyError):
        model.objects.filter(pk=record.pk).delete()
    with pytest.raises(AppendOnlyError):
        model.objects.bulk_update([record], [column])

    assert model.objects.filter(pk=record.pk).values_list(column, flat=True).get() == original


def test_a_superuser_cannot_change_evidence_either(django_user_model):
    order = OrderFactory()
    communication = say(order)
    django_user_model.objects.create_superuser("root", "root@example.com", "x-pass-word-1")
    communication.summary = "rewritten by the boss"
    with pytest.raises(AppendOnlyError):
        communication.save()
    assert Communication.objects.get(pk=communication.pk).summary == "buyer message"
