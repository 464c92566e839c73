"""The 1688 refunds read back (issue 22, part 4): each ``sync_platforms`` pass reads the store's
open 1688 refunds from the fake over real HTTP. The supplier agreed and paid: the approval, by
the system, with the amount (or the purchase's own approval once the sale is closed); refused:
the refusal with the supplier's reason as its communication, the order in a dispute with the
supplier; asks us to modify or to send the goods: the order page says so and a queue lists it.
Every change is an event naming 1688."""

from __future__ import annotations

import random

import pytest
from django.core.management import call_command
from django.urls import reverse
from django.utils import timezone

from evidence.models import Communication
from orders import workflow
from orders.models import (
    DisputeWith,
    OrderEvent,
    PlatformAction,
    PlatformRefund,
    Refund,
    RefundStatus,
    Status,
    SupplierOrder,
    SyncState,
)
from orders.platforms.fake_1688 import demo_answers
from orders.selectors import queues
from tests.platform_refund_support import (  # noqa: F401 (the fixtures "store" and "team")
    ask_supplier,
    connected_store,
    file,
    photo,
    returned,
    run,
    sale_with_purchase,
    supervisor_and_operator,
)
from tests.platform_support import TOKEN_1688, fake_gateways  # noqa: F401 (the fixture "fake")
from tests.workflow_support import private_media, say, snapshot  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


def filed(fake, team, *, to_supplier: int = 2, **asked) -> tuple:
    """A returned sale, the supplier asked through Shopops, the request filed on 1688."""
    order = returned(sale_with_purchase(fake), team, to_supplier=to_supplier)
    photo(order)
    request = ask_supplier(order, team, **asked)
    assert file(request) == "filed"
    request.refresh_from_db()
    return order, request


def events(order, name: str) -> list[OrderEvent]:
    return list(OrderEvent.objects.filter(order=order, transition=name).order_by("pk"))


def page(client, user, order) -> str:
    client.force_login(user)
    return client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()


def test_the_supplier_paid_closes_the_order_by_the_system_with_the_amount_and_events_name_1688(
    fake, store, team, client
):
    # given: a money-only request of 90 CNY (the damaged units stay with us), filed on 1688
    order, request = filed(fake, team, to_supplier=0, kind="refund")
    # when: the supplier agrees and pays 60 CNY; a pass reads it
    fake.supplier_decides(request.platform_id, "agree", payment=6000)
    report = run(store)
    # then: approved by the system, with the amount paid, the order closed
    assert report.ok, (report.error, report.refunds_error)
    order.refresh_from_db()
    refund = Refund.objects.get(pk=request.refund_id)
    assert (order.status, refund.status, str(refund.amount)) == (
        Status.CLOSED,
        RefundStatus.SUCCEEDED,
        "60.00",
    )
    [changed] = events(order, "platform_refund")
    [approval] = events(order, "record_supplier_approval")
    for event in (changed, approval):
        assert (event.actor, event.data["platform"]) == (None, "1688")
    assert changed.data["status_on_1688"] == {"old": "waitselleragree", "new": "refundsuccess"}
    assert approval.data["reference"] == request.platform_id
    # and: the timeline names 1688 as who did it; the command says what the pass did
    assert "by 1688" in page(client, team["Supervisor"], order)
    assert report.counts["refunds_approved"] == 1
    # and: a pass that reads the same again changes nothing
    assert run(store).ok
    assert len(events(order, "platform_refund")) == 1


def test_the_supplier_refused_moves_the_order_to_a_dispute_with_its_reason_recorded(
    fake, store, team, client
):
    # given
    order, request = filed(fake, team)
    # when: the supplier refuses on 1688
    fake.supplier_decides(request.platform_id, "refuse", reason="商品无质量问题，拒绝退款")
    assert run(store).ok
    # then: the refusal is the supplier's communication, and the dispute is with the supplier
    order.refresh_from_db()
    assert (order.status, order.dispute_with, order.platform_reference) == (
        Status.DISPUTED,
        DisputeWith.SUPPLIER,
        request.platform_id,
    )
    said = Communication.objects.get(order=order, counterparty="supplier", kind="refusal")
    assert "商品无质量问题，拒绝退款" in said.body and said.recorded_by is None
    assert Refund.objects.get(pk=request.refund_id).status == RefundStatus.REJECTED
    [refusal] = events(order, "record_supplier_refusal")
    assert (refusal.actor, refusal.data["platform"]) == (None, "1688")
    # and: 1688 waits for us to modify the request: the page says so, the queue lists it
    request.refresh_from_db()
    assert request.action == PlatformAction.MODIFY
    assert "modify the request on 1688" in page(client, team["Supervisor"], order)
    assert order in queues.platform_waits_on_us(timezone.now(), team["Supervisor"])


def test_the_supplier_asks_for_the_goods_shows_on_the_page_and_in_the_queue_until_it_pays(
    fake, store, team, client
):
    # given: a return request filed on 1688
    order, request = filed(fake, team)
    # when: the supplier agrees to the return: the goods are to be sent back
    fake.supplier_decides(request.platform_id, "agree")
    assert run(store).ok
    # then: the order still waits for the supplier; the page and the queue say what to do
    order.refresh_from_db()
    assert order.status == Status.SUPPLIER_REFUND_PENDING
    request.refresh_from_db()
    assert (request.platform_status, request.action) == ("waitbuyersend", PlatformAction.SEND_GOODS)
    body = page(client, team["Supervisor"], order)
    assert "send the goods back to the supplier" in body and "福田路 88 号" in body
    assert order in queues.platform_waits_on_us(timezone.now(), team["Supervisor"])
    queue_list = client.get(reverse("admin:orders_order_changelist") + "?queue=platform_waits_on_us")
    assert order.platform_order_id in queue_list.content.decode()
    # when: the goods arrive and the supplier pays
    fake.supplier_decides(request.platform_id, "receive")
    assert run(store).ok
    # then: closed, and nothing waits for us any more
    order.refresh_from_db()
    request.refresh_from_db()
    assert (order.status, request.action) == (Status.CLOSED, PlatformAction.NONE)
    assert order not in queues.platform_waits_on_us(timezone.now(), team["Supervisor"])
    assert [e.data["status_on_1688"]["new"] for e in events(order, "platform_refund")] == [
        "waitbuyersend",
        "refundsuccess",
    ]


def test_after_the_sale_closed_the_purchase_refund_is_approved_on_its_own(fake, store, team):
    # given: a paid close cancels the purchase on 1688; the buyer's refund goes through first
    order = sale_with_purchase(
        fake, status=Status.PAID, purchase_status="placed", order_status_1688="waitsellersend"
    )
    op = team["Operator"]
    say(order, by=op)
    workflow.request_cancellation(order, by=op)
    say(order, kind="consent", by=op)
    workflow.record_buyer_consent(order, by=op, reason="buyer_cancelled", purchase="cancel_on_1688")
    request = PlatformRefund.objects.get(order=order)
    assert file(request) == "filed"
    workflow.confirm_refund(order, by=team["Supervisor"], reference="AE-REFUND-1")
    request.refresh_from_db()
    # when: the supplier agrees
    fake.supplier_decides(request.platform_id, "agree")
    assert run(store).ok
    # then: the purchase's own approval, by the system, naming 1688; the purchase is cancelled
    refund = Refund.objects.get(pk=request.refund_id)
    assert (refund.status, str(refund.amount)) == (RefundStatus.SUCCEEDED, "90.00")
    assert SupplierOrder.objects.get(order=order).status == "cancelled"
    [approved] = events(order, "purchase_refund_approved")
    assert (approved.actor, approved.data["platform"]) == (None, "1688")


def test_a_reference_typed_in_is_read_back_too(fake, store, team):
    # given: the supervisor filed on 1688 by hand and typed its id in
    order = returned(sale_with_purchase(fake), team, to_supplier=0)
    fake_id = _filed_by_hand(fake)
    workflow.request_supplier_refund(
        order, by=team["Supervisor"], amount="90.00", reason="Cracked.", reference=fake_id, kind="refund"
    )
    fake.supplier_decides(fake_id, "agree")
    # when
    assert run(store).ok
    # then
    order.refresh_from_db()
    assert order.status == Status.CLOSED


def _filed_by_hand(fake) -> str:
    from orders.platforms.alibaba1688 import Alibaba1688Client
    from tests.platform_refund_support import ENTRY, ORDER_1688
    from tests.platform_support import KEY_1688, SECRET_1688, quick_transport

    client = Alibaba1688Client(
        prefix=fake.alibaba_prefix,
        app_key=KEY_1688,
        app_secret=SECRET_1688,
        access_token=TOKEN_1688,
        transport=quick_transport(),
    )
    return client.create_refund(
        {
            "orderId": ORDER_1688,
            "orderEntryIds": [ENTRY],
            "disputeRequest": "refund",
            "applyPayment": 9000,
            "applyCarriage": 0,
            "applyReasonId": 20031,
            "description": "协商一致退款",
            "goodsStatus": "aftersaleBuyerReceived",
        }
    )["refundId"]


def test_a_hostile_refusal_is_reported_and_nothing_is_recorded(fake, store, team):
    # given: a refusal whose text holds a bidirectional override
    order, request = filed(fake, team)
    before = snapshot(order)
    fake.supplier_decides(request.platform_id, "refuse", reason="拒绝\u202etxt.exe")
    # when
    report = run(store)
    # then: reported for that refund; the order, its refunds, history and evidence unchanged
    assert [p["order"] for p in report.problems] == [request.platform_id]
    after = snapshot(order)
    assert (after["order"], after["refunds"], after["events"], after["communications"]) == (
        before["order"],
        before["refunds"],
        before["events"],
        before["communications"],
    )


def test_a_1688_outage_fails_the_stores_1688_part_only_and_the_command_says_so(fake, store, team, capsys):
    # given: a request filed on 1688, then 1688's gateway failing on every call
    filed(fake, team)
    fake.fail("1688", kind="http500", times=100)
    # when
    with pytest.raises(Exception, match="failed for main"):
        call_command("sync_platforms")
    # then: the AliExpress part ran; the 1688 part's error is the store's 1688 error
    state = SyncState.objects.get(store=store)
    assert state.last_good_pass_at is not None and state.last_error == ""
    assert "HTTP 500" in state.refunds_error
    assert "1688 FAILED" in capsys.readouterr().out


def test_the_demo_fake_makes_up_the_1688_order_and_its_supplier_answers(fake, store, team):
    # given: the fake as `make run` starts it (a demo buyer), which has never seen this 1688 order
    fake.state.demo_buyers.add(fake.state.alibaba_tokens[TOKEN_1688])
    order = returned(sale_with_purchase(None), team)
    photo(order)
    request = ask_supplier(order, team)
    # when: the request is filed, and the demo's supplier agrees, then receives the goods
    assert file(request) == "filed"
    rng = random.Random(1)  # its first draw agrees
    demo_answers(fake.state, after=0, rng=rng)
    demo_answers(fake.state, after=0, rng=rng)
    # then: a pass reads the refund paid and closes the order
    assert run(store).ok
    order.refresh_from_db()
    assert order.status == Status.CLOSED


def test_a_reference_1688_does_not_know_is_reported_once_and_said_on_the_page(fake, store, team, client):
    # given: a reference typed wrong
    order = returned(sale_with_purchase(fake), team, to_supplier=0)
    workflow.request_supplier_refund(
        order, by=team["Supervisor"], amount="90.00", reason="Cracked.", reference="TQ999", kind="refund"
    )
    # when: two passes
    first, second = run(store), run(store)
    # then: reported by the first only; the page says 1688 does not know it; the order waits on
    assert [p["order"] for p in first.problems] == ["TQ999"] and second.problems == []
    assert "1688 does not know the refund TQ999" in page(client, team["Supervisor"], order)
    order.refresh_from_db()
    assert order.status == Status.SUPPLIER_REFUND_PENDING


def test_the_demo_fake_keeps_the_demo_datas_own_references_waiting(fake, store, team, client):
    # given: a demo buyer's refund typed in as the demo data does, unknown to the fake
    fake.state.demo_buyers.add(fake.state.alibaba_tokens[TOKEN_1688])
    order = returned(sale_with_purchase(None), team, to_supplier=0)
    workflow.request_supplier_refund(
        order,
        by=team["Supervisor"],
        amount="90.00",
        reason="Cracked.",
        reference="TQ8000012345",
        kind="refund",
    )
    # when: a pass reads it, and the demo's suppliers answer what waits
    report = run(store)
    demo_answers(fake.state, after=0, rng=random.Random(1))
    # then: it waits for the supplier, as seeded (no problem reported, the order unchanged)
    assert report.ok and report.problems == [] and run(store).ok
    order.refresh_from_db()
    assert order.status == Status.SUPPLIER_REFUND_PENDING
    assert "waiting for the supplier&#x27;s decision" in page(client, team["Supervisor"], order)
