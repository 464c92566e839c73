"""The bugs seen in the browser walk of issue 13, each as a user noticed it."""

import re
from dataclasses import replace
from decimal import Decimal

import pytest
from django.utils import timezone

from evidence import services
from orders import transitions, workflow
from orders.forms import TransitionForm
from orders.imports.service import import_orders
from orders.models import CloseReason, Order, Outcome, RefundStatus, Status
from orders.selectors.evidence import evidence_missing
from orders.selectors.refunds import refundable
from shopops.errors import Refused
from tests.factories import OrderFactory, RefundFactory, SupplierOrderFactory, staff
from tests.import_support import csv_file, order_row

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


# --- 1. the "record it first" notice follows the evidence ------------------------------------


def test_the_record_first_notice_goes_once_the_communication_is_recorded(client):
    # given: an order waiting for the buyer's consent
    order = OrderFactory(status=Status.CANCEL_REQUESTED)
    client.force_login(staff("Operator"))
    notice = "This step needs the communication recorded first."
    assert notice in client.get(transition_of(order, "record_buyer_consent")).content.decode()
    assert evidence_missing("record_buyer_consent", order)

    # when: the consent is recorded ("Record it now" → "Save and continue")
    buyer_says(order, "consent")

    # then: the form no longer says it is missing, and the workflow agrees
    html = client.get(transition_of(order, "record_buyer_consent")).content.decode()
    assert notice not in html and 'id="record-evidence-first"' not in html
    assert not evidence_missing("record_buyer_consent", order)
    # a communication of another kind is not the consent: the notice stays for the refusal step
    assert notice in client.get(transition_of(order, "record_buyer_refusal")).content.decode()


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


# --- 3. a partial return does not refund everything by default --------------------------------


def test_receive_return_form_leaves_the_amount_to_the_quantity_and_says_so(client):
    # given: 2 items at 50.00 on their way back
    order = OrderFactory(status=Status.RETURN_IN_TRANSIT, close_reason=CloseReason.BUYER_CANCELLED)
    client.force_login(staff("Operator"))

    # when: the form is opened
    response = client.get(transition_of(order, "receive_return"))
    form = response.context["form"]

    # then: no amount pre-filled, and the form says how it is computed
    assert form["amount"].value() in (None, "")
    assert "unit price × quantity received" in response.content.decode()

    # when: 1 of the 2 is received, the amount left empty
    response = client.post(
        transition_of(order, "receive_return"),
        {"seen_status": order.status, "quantity": "1", "condition": "resellable", "amount": ""},
    )

    # then: the buyer gets back one item's price
    assert response.status_code == 302
    (refund,) = order.refunds.all()
    assert refund.amount == Decimal("50.00")


# --- 4. analytics dates in Chinese ------------------------------------------------------------


def test_analytics_date_boxes_hold_iso_dates_in_chinese(client):
    client.force_login(staff("Analyst"))
    zh = {"accept-language": "zh-hans"}

    # when: a period is asked for in Chinese
    response = client.get(
        "/admin/orders/analytics/", {"start": "2026-11-01", "end": "2026-11-30"}, headers=zh
    )
    html = response.content.decode()

    # then: the date inputs show what a date input can read, and the period was understood
    assert 'lang="zh-hans"' in html
    assert re.search(r'<input type="date" name="start" value="2026-11-01"', html)
    assert re.search(r'<input type="date" name="end" value="2026-11-30"', html)
    assert "2026/11/01" not in html
    assert "errorlist" not in html
    assert response.context["form"].initial["end"].isoformat() == "2026-11-30"
    # the default period too
    html = client.get("/admin/orders/analytics/", headers=zh).content.decode()
    assert re.search(r'<input type="date" name="end" value="\d{4}-\d\d-\d\d"', html)


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


# --- 6. View site, History, favicon -----------------------------------------------------------


def test_no_view_site_link_and_history_opens_the_timeline(client):
    order = OrderFactory(status=Status.PAID)
    client.force_login(staff("Operator"))

    index = client.get("/admin/").content.decode()
    assert "View site" not in index

    response = client.get(f"/admin/orders/order/{order.pk}/history/")
    assert response.status_code == 302
    assert response["Location"] == page_of(order) + "#timeline"


def test_every_page_links_a_favicon_that_answers(client):
    client.force_login(staff("Operator"))
    for url in ("/admin/", "/admin/orders/order/", "logout", "/admin/login/"):
        if url == "logout":
            client.logout()
            continue
        html = client.get(url).content.decode()
        href = re.search(r'<link rel="icon" href="([^"]+)"', html).group(1)
        icon = client.get(href)
        assert icon.status_code == 200
        assert b"<svg" in b"".join(icon.streaming_content if icon.streaming else [icon.content])


# --- 7. a negative amount in the import -------------------------------------------------------


@pytest.mark.parametrize("value", ["-5", "-12.50", "US $-5", "−5"])
def test_an_imported_negative_amount_is_said_to_be_negative(value):
    result = import_orders(csv_file([order_row(total_amount=value)]))
    assert result.invalid
    (issue,) = result.errors
    assert issue.column == "total_amount"
    assert "cannot be negative" in issue.message
    assert "with a dot" not in issue.message


# --- 8. the "Other" help only beside a close reason -------------------------------------------


def test_the_other_reason_help_is_only_on_forms_with_a_reason(monkeypatch):
    help_text = "Required when the reason is “Other”."
    order = OrderFactory(status=Status.PAID)
    # every declared form: the help shows only where the reason field is
    for name, declared in transitions.TRANSITIONS.items():
        form = TransitionForm(transition=name, order=order)
        has_reason = any(i.kind == "close_reason" for i in declared.inputs)
        note = form.fields.get("note")
        if note is not None:
            assert (help_text in str(note.help_text)) == has_reason, name
    # a step declared with the reason's note but no reason (as the walk met it) does not show it
    declared = transitions.TRANSITIONS["request_cancellation"]
    monkeypatch.setitem(
        transitions.TRANSITIONS,
        "request_cancellation",
        replace(declared, inputs=(transitions.REASON_NOTE,)),
    )
    form = TransitionForm(transition="request_cancellation", order=order)
    assert help_text not in str(form.fields["note"].help_text)


def test_the_bulk_close_form_keeps_the_help_beside_its_reason():
    from orders.forms import BulkCloseForm

    form = BulkCloseForm()
    assert "reason" in form.fields and "Other" in str(form.fields["note"].help_text)
