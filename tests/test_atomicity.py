"""A failure after the state change but before the workflow function ends leaves no trace."""

import pytest

from orders import workflow
from orders.models import Status
from orders.workflow import core, events, outbox
from shopops.errors import Refused
from tests.factories import OrderFactory, staff
from tests.workflow_support import private_media, snapshot  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


class Boom(Exception):
    pass


def _boom(*args, **kwargs):
    raise Boom("the disk is full")


def test_history_failure_undoes_the_close_and_the_stock_movement(monkeypatch):
    # given: closing for out_of_stock moves stock before the event is written
    order = OrderFactory()
    workflow.record_movement(order.sku, delta=4, reason="restock", by=None)
    before = snapshot(order)
    monkeypatch.setattr(events, "record_event", _boom)

    # when
    with pytest.raises(Boom):
        workflow.close_unpaid(order, by=staff("Operator"), reason="out_of_stock")

    # then
    after = snapshot(order)
    assert after == before
    assert after["order"]["status"] == Status.AWAITING_PAYMENT
    assert after["stock"] == before["stock"]


def test_outbox_failure_undoes_the_confirmed_refund(monkeypatch):
    order = OrderFactory(status=Status.REFUND_PENDING, close_reason="buyer_cancelled")
    workflow.create_refund(order, by=None, amount="100.00", idempotency_key="k-1")
    before = snapshot(order)
    monkeypatch.setattr(outbox, "record_refund_confirmation", _boom)

    with pytest.raises(Boom):
        workflow.confirm_refund(order, by=staff("Supervisor"), reference="RF-1")

    after = snapshot(order)
    assert after == before
    assert after["order"]["status"] == Status.REFUND_PENDING
    assert [r["status"] for r in after["refunds"]] == ["requested"]
    assert after["outbox"] == []


def test_failure_after_the_refund_is_created_leaves_no_refund(monkeypatch):
    from tests.workflow_support import say

    order = OrderFactory(status=Status.CANCEL_REQUESTED)
    say(order, kind="consent")
    before = snapshot(order)
    monkeypatch.setattr(events, "record_event", _boom)

    with pytest.raises(Boom):
        workflow.record_buyer_consent(order, by=staff("Operator"), reason="buyer_cancelled")

    assert snapshot(order) == before


def test_the_caller_s_order_instance_is_not_left_half_moved(monkeypatch):
    order = OrderFactory()
    monkeypatch.setattr(events, "record_event", _boom)
    with pytest.raises(Boom):
        workflow.close_unpaid(order, by=None, reason="buyer_cancelled")
    assert order.status == Status.AWAITING_PAYMENT
    assert not order.close_reason


def test_a_refusal_after_the_move_writes_nothing():
    # given: a transition body that moves the order, then finds a rule broken
    order = OrderFactory()
    before = snapshot(order)

    # when
    with pytest.raises(Refused, match="broken rule"), core.transition("mark_paid", order, by=None) as t:
        t.apply(order.placed_at)
        t.event(paid_at=order.placed_at)
        raise Refused("broken rule")

    # then
    assert snapshot(order) == before


def test_a_transition_body_that_never_moves_the_order_is_a_programming_error():
    order = OrderFactory()
    before = snapshot(order)
    with (
        pytest.raises(RuntimeError, match=r"without t\.apply\(\)"),
        core.transition("mark_paid", order, by=None),
    ):
        pass
    assert snapshot(order) == before
