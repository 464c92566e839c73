"""The order page and the order list as a person reads them: the "record it first" notice, what is
still refundable, the timeline in order and in words, the age column, the way back to the list."""

import re
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from evidence import services
from orders import workflow
from orders.models import (
    CloseReason,
    Order,
    Outcome,
    RefundStatus,
    Status,
)
from orders.selectors.evidence import evidence_missing
from orders.selectors.refunds import refundable
from shopops.errors import Refused
from tests.factories import OrderFactory, RefundFactory, SupplierOrderFactory, staff
from tests.workflow_support import png_upload, private_media  # noqa: F401

pytestmark = pytest.mark.django_db


def page_of(order: Order) -> str:
    return f"/admin/orders/order/{order.pk}/change/"


def transition_of(order: Order, name: str) -> str:
    return f"/admin/orders/order/{order.pk}/transition/{name}/"


def glance_refundable(html: str) -> str:
    return re.search(r'<dd id="refundable">([^<]*)</dd>', html).group(1)


def timeline_of(html: str) -> str:
    return html[html.index('id="timeline"') :]


def buyer_says(order: Order, kind: str, **extra) -> None:
    services.record_communication(
        order,
        by=None,
        counterparty="buyer",
        channel="aliexpress_message",
        direction="inbound",
        kind=kind,
        summary=f"Buyer: {kind}",
        **extra,
    )


LIST = "/admin/orders/order/"


@pytest.fixture
def supervisor_client(client):
    client.force_login(staff("Supervisor"))
    return client


# --- 1. the "record it first" notice follows the evidence ------------------------------------


def test_the_record_first_notice_goes_once_the_communication_is_recorded(client):
    # given: an order waiting for the buyer's consent
    order = OrderFactory(status=Status.CANCEL_REQUESTED)
    client.force_login(staff("Operator"))
    notice = "Needed first: The buyer&#x27;s consent (a communication of kind “Consent”)."
    assert notice in client.get(transition_of(order, "record_buyer_consent")).content.decode()
    assert evidence_missing("record_buyer_consent", order)

    # when: the consent is recorded ("Record it now" → "Save and continue")
    buyer_says(order, "consent")

    # then: the form says it is recorded, offers nothing to record, and the workflow agrees
    html = client.get(transition_of(order, "record_buyer_consent")).content.decode()
    assert notice not in html and 'id="record-evidence-first"' not in html
    assert "Needed first, and recorded: The buyer&#x27;s consent" in html
    assert not evidence_missing("record_buyer_consent", order)
    # a communication of another kind is not the consent: the notice stays for the refusal step
    refusal = client.get(transition_of(order, "record_buyer_refusal")).content.decode()
    assert "Needed first: The buyer&#x27;s refusal" in refusal and 'id="record-evidence-first"' in refusal


@pytest.mark.usefixtures("private_media")
def test_escalating_says_a_file_is_needed_before_anything_is_recorded(client):
    # given: a refund in progress; escalating needs a file attached, not a communication
    order = OrderFactory(status=Status.REFUND_PENDING, close_reason=CloseReason.BUYER_CANCELLED)
    client.force_login(staff("Supervisor"))
    rule = "A file attached to the order (screenshots of the buyer&#x27;s consent)."

    # when: the step's form is opened
    form = client.get(transition_of(order, "escalate_to_support")).content.decode()

    # then: it says the real rule, not "the communication"
    assert f"Needed first: {rule}" in form
    assert "communication recorded first" not in form

    # and the evidence form it links to says it too, before anything is recorded
    evidence = f"/admin/orders/order/{order.pk}/evidence/?next_transition=escalate_to_support"
    assert f"“Escalate to platform support” needs first: {rule}" in client.get(evidence).content.decode()

    # when: a communication without a file is saved for the step
    post = {
        "counterparty": "platform_support",
        "channel": "other",
        "direction": "outbound",
        "kind": "message",
        "summary": "Opened a ticket",
        "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
    }
    refused = client.post(evidence, post).content.decode()

    # then: the file is asked for there, and nothing was recorded
    assert "“Escalate to platform support” needs a file attached to the order" in refused
    assert not order.communications.exists()

    # when: it is saved with a file
    response = client.post(evidence, {**post, "files": png_upload()})

    # then: the step's form says the rule is met, with nothing more to record
    assert response.status_code == 302
    html = client.get(transition_of(order, "escalate_to_support")).content.decode()
    assert f"Needed first, and recorded: {rule}" in html and 'id="record-evidence-first"' not in html


# --- 2. money to the cent, and nothing refundable on an unpaid order -------------------------


def test_refundable_remaining_is_shown_to_the_cent_after_a_full_refund(client):
    # given: 0.30 paid and refunded in two parts (SQLite sums them in floating point:
    # 0.300000000000000, which less 0.30 printed as 0.000000000000000)
    order = OrderFactory(status=Status.REFUND_PENDING, total_amount=Decimal("0.30"))
    RefundFactory(order=order, amount=Decimal("0.10"), status=RefundStatus.SUCCEEDED)
    RefundFactory(order=order, amount=Decimal("0.20"), status=RefundStatus.REQUESTED)
    client.force_login(staff("Supervisor"))

    # when
    html = client.get(page_of(order)).content.decode()

    # then
    assert str(refundable(order)) == "0.00"
    assert glance_refundable(html) == "0.00 USD"
    assert "0.000" not in html


def test_an_unpaid_order_that_was_closed_has_nothing_refundable(client):
    # given: an order closed while it awaited payment
    operator = staff("Operator")
    order = OrderFactory(status=Status.AWAITING_PAYMENT, total_amount=Decimal("21.50"))
    workflow.close_unpaid(order, by=operator, reason=CloseReason.BUYER_CANCELLED)
    order.refresh_from_db()
    client.force_login(operator)

    # then: nothing to refund, on the page and in the workflow
    assert refundable(order) == Decimal("0.00")
    assert glance_refundable(client.get(page_of(order)).content.decode()) == "0.00 USD"
    with pytest.raises(Refused, match="nothing to refund"):
        workflow.create_refund(order, by=staff("Supervisor"), amount="1.00", idempotency_key="k-unpaid")
    # an order awaiting payment neither
    assert refundable(OrderFactory(status=Status.AWAITING_PAYMENT)) == Decimal("0.00")
    # a paid order closed later still has what was paid
    assert refundable(OrderFactory(status=Status.PAID, total_amount=Decimal("9.90"))) == Decimal("9.90")


# --- 5. the timeline speaks the reader's language and tells things in order --------------------


def test_the_timeline_shows_labels_not_codes_nor_internal_ids(client):
    # given: a return received (condition), a dispute won (outcome, direction) and a
    # confirmed refund (the refunds it answered)
    supervisor = staff("Supervisor")
    returned = OrderFactory(status=Status.RETURN_IN_TRANSIT, close_reason=CloseReason.BUYER_CANCELLED)
    workflow.receive_return(returned, by=supervisor, quantity=1, condition="damaged")
    disputed = OrderFactory(status=Status.DISPUTED, close_reason=CloseReason.BUYER_CANCELLED)
    SupplierOrderFactory(order=disputed, amount=Decimal("60.00"))
    workflow.resolve_dispute(disputed, by=supervisor, outcome=Outcome.WON, amount="12.00")
    pending = OrderFactory(status=Status.REFUND_PENDING, close_reason=CloseReason.BUYER_CANCELLED)
    refund = RefundFactory(order=pending, amount=Decimal("100.00"), status=RefundStatus.REQUESTED)
    workflow.confirm_refund(pending, by=supervisor, reference="AE-REF-1")
    client.force_login(supervisor)

    for language in ("en", "zh-hans"):
        text = " ".join(
            timeline_of(client.get(page_of(o), headers={"accept-language": language}).content.decode())
            for o in (returned, disputed, pending)
        )
        # then: no raw code among the entries' values, and no refund id
        for code in ("damaged", "resellable", "to_buyer", "from_supplier", "won"):
            assert f"<dd>{code}</dd>" not in text, (language, code)
        assert f"<dd>{refund.pk}</dd>" not in text, language
    english = timeline_of(client.get(page_of(returned)).content.decode())
    assert "<dd>Damaged</dd>" in english
    assert "<dd>50.00 USD</dd>" in english
    won = timeline_of(client.get(page_of(disputed)).content.decode())
    assert "<dd>Dispute won</dd>" in won and "<dd>To buyer</dd>" in won
    assert "<dd>12.00 USD</dd>" in won


def test_a_communication_recorded_after_a_step_shows_above_it(client):
    # given: the return proposed, then the buyer's consent recorded a few seconds later with the
    # time the form offers (to the minute, so before the step's second)
    operator = staff("Operator")
    order = OrderFactory(status=Status.SHIPPED)
    services.record_communication(
        order,
        by=operator,
        counterparty="buyer",
        channel="aliexpress_message",
        direction="outbound",
        summary="Asked to return",
    )
    workflow.propose_return(order, by=operator)
    minute = timezone.now().replace(second=0, microsecond=0)
    buyer_says(order, "consent", occurred_at=minute)
    client.force_login(operator)

    # when
    html = timeline_of(client.get(page_of(order)).content.decode())

    # then: newest first: the consent, then the step, then the message that asked
    consent, step, asked = (
        html.index("Buyer: consent"),
        html.index("Propose a return"),
        html.index("Asked to return"),
    )
    assert consent < step < asked


# --- the order list and the order page ------------------------------------------------------


def test_the_age_column_says_open_for_or_took(supervisor_client):
    now = timezone.now()
    OrderFactory(platform_order_id="8100000000000001", placed_at=now - timedelta(days=3))
    OrderFactory(
        platform_order_id="8100000000000002",
        status=Status.CLOSED,
        close_reason="buyer_cancelled",
        placed_at=now - timedelta(days=20),
        closed_at=now - timedelta(days=18),
    )
    html = supervisor_client.get(LIST).content.decode()
    assert "open for / took" in html.lower()
    assert "open 3\xa0days" in html  # since ordering, still open
    assert "took 2\xa0days" in html  # from ordering to closing, not the 20 days since


def test_the_read_only_order_page_ends_with_back_to_the_list_not_close(supervisor_client):
    order = OrderFactory()
    html = supervisor_client.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'id="back-to-list"' in html and "Back to the list" in html
    assert ">Close</a>" not in html


def test_the_platform_status_is_said_in_words_and_an_unknown_code_as_it_is(supervisor_client):
    # given: an order AliExpress says awaits payment, and one with a code nobody listed
    unpaid = OrderFactory(platform_status="PLACE_ORDER_SUCCESS")
    odd = OrderFactory(platform_status="SOMETHING_NEW")

    # when / then: the meaning, in the reader's language, with the code kept on hover only
    english = supervisor_client.get(page_of(unpaid)).content.decode()
    assert '<span title="PLACE_ORDER_SUCCESS">Awaiting the buyer&#x27;s payment</span>' in english
    assert ">PLACE_ORDER_SUCCESS<" not in english
    chinese = supervisor_client.get(page_of(unpaid), headers={"accept-language": "zh-hans"}).content.decode()
    assert "等待买家付款" in chinese
    assert ">SOMETHING_NEW</span>" in supervisor_client.get(page_of(odd)).content.decode()


def test_a_ready_text_sent_is_told_in_the_readers_language_older_rows_too(client):
    # given: an English-speaking operator sends the Polish buyer the ask-to-cancel text
    operator = staff("Operator")
    order = OrderFactory(status=Status.PAID, buyer_language="pl")
    client.force_login(operator)
    client.post(
        f"/admin/orders/order/{order.pk}/ready-text/",
        {
            "message": "chat.buyer_asked_cancel",
            "language": "pl",
            "text": "Dzień dobry",
            "next_transition": "",
        },
    )
    # and a row written before the codes, as it was stored then (the text's name of then)
    services.record_communication(
        order,
        by=operator,
        counterparty="buyer",
        channel="aliexpress_message",
        direction="outbound",
        summary="Ready text sent: Chat: ask the buyer to cancel (Polski)",
    )

    # then: what was sent is kept as codes
    sent = order.communications.exclude(data={}).get()
    assert sent.data == {"said": "ready_text", "message": "chat.buyer_asked_cancel", "language": "pl"}

    # when: a Chinese-speaking colleague reads the timeline
    chinese = timeline_of(client.get(page_of(order), headers={"accept-language": "zh-hans"}).content.decode())

    # then: both entries are in Chinese, the new one and the older one
    assert "已发送现成文本：聊天：买家要求取消（波兰语）" in chinese
    assert "已发送现成文本：聊天：无法发货，请买家取消订单（波兰语）" in chinese
    assert "Ready text sent" not in chinese and "Polski" not in chinese
    # and in English for an English reader
    english = timeline_of(client.get(page_of(order)).content.decode())
    assert "Ready text sent: Chat: the buyer asked to cancel (Polish)" in english
    assert "Ready text sent: Chat: we cannot ship, ask the buyer to cancel (Polish)" in english


def test_a_summary_a_person_typed_is_shown_as_it_was_written(client):
    order = OrderFactory(status=Status.PAID)
    buyer_says(order, "message")
    client.force_login(staff("Operator"))

    chinese = timeline_of(client.get(page_of(order), headers={"accept-language": "zh-hans"}).content.decode())

    assert "Buyer: message" in chinese
