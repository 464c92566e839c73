"""Filing a supplier refund on 1688 (issue 22, part 4): ``request_supplier_refund`` without a
reference on a store connected to 1688 records the request; the outbox files it after commit —
reasons listed, vouchers uploaded, ``createRefund`` with the right kind, fen, goods status,
entries and description — once, against the fake gateway over real HTTP, and 1688's refund id
becomes the reference. A refusal is shown in words and leaves the order where it was."""

from __future__ import annotations

import time
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from evidence import services
from orders import workflow
from orders.models import FilingStatus, OrderEvent, PlatformRefund, Refund, Status
from orders.platforms import alibaba1688
from shopops.errors import Refused
from tests.factories import StoreFactory, default_store, staff
from tests.platform_refund_support import (  # noqa: F401 (the fixtures "store" and "team")
    ENTRY,
    ORDER_1688,
    ask_supplier,
    connect_1688,
    connected_store,
    file,
    photo,
    returned,
    sale_with_purchase,
    supervisor_and_operator,
)
from tests.platform_support import TOKEN_1688, fake_gateways  # noqa: F401 (the fixture "fake")
from tests.workflow_support import private_media, say, snapshot  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


def later():
    """After any retry's delay."""
    return timezone.now() + timedelta(hours=2)


def test_the_request_is_filed_once_with_reasons_vouchers_kind_fen_entries_and_its_tq_id_recorded(
    fake, store, team
):
    # given: a damaged return, both units sent back to the supplier, a photo of it and a note
    order = returned(sale_with_purchase(fake), team)
    photo(order)
    # when: the supervisor asks the supplier, giving no reference, and the outbox sends it
    request = ask_supplier(order, team)
    assert status_of(order) == Status.SUPPLIER_REFUND_PENDING
    assert Refund.objects.get(pk=request.refund_id).reference == ""
    outcome = file(request)
    # then: 1688 holds one request, as the contract wants it
    assert outcome == "filed"
    [sent] = fake.refunds_1688(TOKEN_1688)
    assert (sent["orderId"], sent["orderEntryIdList"]) == (int(ORDER_1688), [int(ENTRY)])
    assert (sent["refundGoods"], sent["onlyRefund"]) == (True, False)  # returnRefund
    assert (sent["applyPayment"], sent["applyCarriage"]) == (9000, 0)  # fen
    assert sent["orderEntryCountMap"] == {ENTRY: 2}
    assert sent["applyReason"] == "质量问题"  # the close's reason: quality
    assert sent["description"] == "退货退款：Both cases arrived cracked."
    assert len(sent["vouchers"]) == 1 and sent["vouchers"][0].startswith("https://cbu01.alicdn.com/")
    for api in (alibaba1688.REFUND_REASONS, alibaba1688.UPLOAD_VOUCHER, alibaba1688.CREATE_REFUND):
        assert fake.calls("1688", api) == 1, api
    # and: the TQ id is the refund's reference, with one event naming 1688
    refund = Refund.objects.get(pk=request.refund_id)
    assert refund.reference == sent["refundId"] and refund.reference.startswith("TQ")
    request.refresh_from_db()
    assert (request.filing, request.platform_id, request.goods_status) == (
        FilingStatus.FILED,
        sent["refundId"],
        "aftersaleBuyerReceived",
    )
    event = OrderEvent.objects.get(order=order, transition="supplier_refund_filed")
    assert (event.actor, event.data["platform"], event.data["reference"]) == (None, "1688", refund.reference)
    assert status_of(order) == Status.SUPPLIER_REFUND_PENDING
    # and: the same message delivered again does nothing
    assert file(request, now=later()) == "skipped"
    assert len(fake.refunds_1688(TOKEN_1688)) == 1


def status_of(order) -> str:
    order.refresh_from_db()
    return order.status


def test_a_retry_after_a_500_looks_first_and_files_no_second_request(fake, store, team):
    # given
    order = returned(sale_with_purchase(fake), team)
    photo(order)
    request = ask_supplier(order, team)
    fake.fail("1688", kind="http500", api=alibaba1688.CREATE_REFUND)
    # when: the first attempt meets a 500 (createRefund is never retried blindly)
    assert file(request) == "retry"
    request.refresh_from_db()
    assert (request.filing, request.error_code) == (FilingStatus.PENDING, "HTTP 500")
    assert request.next_attempt_at > timezone.now() and request.create_sent_at is not None
    assert file(request) == "skipped"  # not due yet
    # then: the next attempt lists the order's refunds first, finds none, and files it once
    assert file(request, now=later()) == "filed"
    assert len(fake.refunds_1688(TOKEN_1688)) == 1
    assert fake.calls("1688", alibaba1688.REFUND_LIST) == 1
    assert fake.calls("1688", alibaba1688.UPLOAD_VOUCHER) == 1  # the vouchers are not uploaded twice
    assert Refund.objects.get(pk=request.refund_id).reference == fake.refunds_1688(TOKEN_1688)[0]["refundId"]


def test_a_timeout_whose_request_reached_1688_is_found_not_sent_again(fake, store, team):
    # given: 1688 takes longer to answer createRefund than the client waits
    order = returned(sale_with_purchase(fake), team)
    photo(order)
    request = ask_supplier(order, team)
    fake.fail("1688", kind="slow", api=alibaba1688.CREATE_REFUND, seconds=1.0)
    # when
    assert file(request, timeout=0.4) == "retry"
    deadline = time.monotonic() + 10
    while not fake.refunds_1688(TOKEN_1688):  # 1688 files it after all
        assert time.monotonic() < deadline
        time.sleep(0.05)
    # then: the retry finds it among the order's refunds and records it: one request on 1688
    assert file(request, now=later()) == "filed"
    assert fake.calls("1688", alibaba1688.CREATE_REFUND) == 1
    [sent] = fake.refunds_1688(TOKEN_1688)
    assert Refund.objects.get(pk=request.refund_id).reference == sent["refundId"]
    assert OrderEvent.objects.get(order=order, transition="supplier_refund_filed").data[
        "found_after_lost_answer"
    ]


def test_a_5010_refusal_is_shown_in_words_and_leaves_the_order_where_it_was(fake, store, team, client):
    # given: a refund already open on 1688 for the same goods (filed by hand there)
    order = returned(sale_with_purchase(fake), team)
    photo(order)
    request = ask_supplier(order, team)
    other = _file_by_hand(fake, payment=2000)
    before = snapshot(order)
    # when
    assert file(request) == "failed"
    # then: failed with 1688's code and words; the order, its refunds and evidence unchanged
    request.refresh_from_db()
    assert (request.filing, request.error_code) == (FilingStatus.FAILED, "5010")
    after = snapshot(order)
    assert after["order"] == before["order"] and after["refunds"] == before["refunds"]
    assert [r["refundId"] for r in fake.refunds_1688(TOKEN_1688)] == [other]
    event = OrderEvent.objects.get(order=order, transition="supplier_refund_filing_failed")
    assert (event.data["platform"], event.data["code"]) == ("1688", "5010")
    # and: the order page says what 5010 means, with 1688's own words and a button to try again
    client.force_login(team["Supervisor"])
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "1688 does not allow this refund now" in page
    assert "请勿重复提交" in page
    assert reverse("admin:orders_order_refund_filing_retry", args=[order.pk, request.pk]) in page


def _file_by_hand(fake, *, payment: int) -> str:
    from orders.platforms.alibaba1688 import Alibaba1688Client
    from tests.platform_support import KEY_1688, SECRET_1688, quick_transport

    client = Alibaba1688Client(
        prefix=fake.alibaba_prefix,
        app_key=KEY_1688,
        app_secret=SECRET_1688,
        access_token=TOKEN_1688,
        transport=quick_transport(),
    )
    answer = client.create_refund(
        {
            "orderId": ORDER_1688,
            "orderEntryIds": [ENTRY],
            "disputeRequest": "refund",
            "applyPayment": payment,
            "applyCarriage": 0,
            "applyReasonId": 20031,
            "description": "协商一致退款",
            "goodsStatus": "aftersaleBuyerReceived",
        }
    )
    return answer["refundId"]


def test_a_5011_amount_refusal_is_shown_in_words_and_tried_again_by_the_button(fake, store, team, client):
    # given: 1688 says the purchase cost 50 CNY (Shopops recorded 90)
    order = returned(sale_with_purchase(fake, amount_1688="50.00"), team)
    photo(order)
    request = ask_supplier(order, team)
    assert file(request) == "failed"
    request.refresh_from_db()
    assert request.error_code == "5011"
    client.force_login(team["Supervisor"])
    url = reverse("admin:orders_order_change", args=[order.pk])
    assert "the amount is wrong" in client.get(url).content.decode()
    # when: the supervisor presses "Try again" (the operator may not)
    retry = reverse("admin:orders_order_refund_filing_retry", args=[order.pk, request.pk])
    client.force_login(team["Operator"])
    assert client.post(retry).status_code == 403
    client.force_login(team["Supervisor"])
    response = client.post(retry)
    # then: it is due again now, and the event names who pressed it
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.filing, request.attempts) == (FilingStatus.PENDING, 0)
    event = OrderEvent.objects.get(order=order, transition="supplier_refund_filing_retried")
    assert event.actor == team["Supervisor"]
    assert file(request) == "failed"  # 1688 still says 5011: nothing filed
    assert fake.refunds_1688(TOKEN_1688) == []


def test_the_reference_is_required_unless_shopops_files_the_request(fake, team):
    # given: a store not connected to 1688
    order = returned(sale_with_purchase(fake), team)
    # when / then
    with pytest.raises(Refused) as refused:
        workflow.request_supplier_refund(order, by=team["Supervisor"], amount="90.00", reason="Cracked.")
    assert refused.value.field == "reference" and "1688 refund reference" in refused.value.message
    # and: connected, but the purchase has no 1688 order id
    connect_1688(default_store())
    other = returned(sale_with_purchase(None, entry_ids=[]), team)
    other.supplier_orders.update(supplier_order_id="")
    with pytest.raises(Refused):
        workflow.request_supplier_refund(other, by=team["Supervisor"], amount="90.00", reason="Cracked.")
    # and: a reference typed in is kept, nothing filed
    workflow.request_supplier_refund(
        order, by=team["Supervisor"], amount="90.00", reason="Cracked.", reference="TQ1"
    )
    assert not PlatformRefund.objects.exists()


def test_a_paid_close_that_cancels_on_1688_is_filed_money_only_for_all_that_was_paid(fake, store, team):
    # given: paid, the purchase placed and not shipped by the supplier
    order = sale_with_purchase(
        fake, status=Status.PAID, purchase_status="placed", order_status_1688="waitsellersend"
    )
    op = team["Operator"]
    say(order, by=op)
    workflow.request_cancellation(order, by=op)
    say(order, kind="consent", by=op)
    # when: the buyer's consent cancels the purchase on 1688, without a reference; no photo
    workflow.record_buyer_consent(order, by=op, reason="buyer_cancelled", purchase="cancel_on_1688")
    request = PlatformRefund.objects.get(order=order)
    assert file(request) == "filed"
    # then: money only, all 9000 fen, goods not shipped, a reason that needs no voucher
    [sent] = fake.refunds_1688(TOKEN_1688)
    assert (sent["onlyRefund"], sent["applyPayment"], sent["goodsStatus"]) == (True, 9000, 1)
    assert sent["applyReason"] == "协商一致退款" and sent["vouchers"] == []
    assert Refund.objects.get(pk=request.refund_id).reference == sent["refundId"]


def test_a_request_the_supplier_answered_by_hand_first_is_not_sent(fake, store, team):
    # given
    order = returned(sale_with_purchase(fake), team)
    photo(order)
    request = ask_supplier(order, team)
    workflow.record_supplier_approval(order, by=team["Supervisor"], reference="TQ9")
    # when / then
    assert file(request) == "not_needed"
    assert fake.calls("1688", alibaba1688.CREATE_REFUND) == 0


def test_the_form_says_the_reference_may_be_left_empty(fake, store, team, client):
    order = returned(sale_with_purchase(fake), team)
    client.force_login(team["Supervisor"])
    page = client.get(reverse("admin:orders_order_transition", args=[order.pk, "request_supplier_refund"]))
    assert "Shopops files the request on 1688 itself" in page.content.decode()
    assert not page.context["form"].fields["reference"].required


def test_the_order_page_says_it_in_chinese_too(fake, store, team, client):
    # given: a request 1688 refused for an amount above what was paid there
    order = returned(sale_with_purchase(fake, amount_1688="50.00"), team)
    photo(order)
    assert file(ask_supplier(order, team)) == "failed"
    # when
    client.force_login(team["Supervisor"])
    url = reverse("admin:orders_order_change", args=[order.pk])
    page = client.get(url, headers={"accept-language": "zh-hans"}).content.decode()
    # then
    assert "1688退款申请" in page and "1688返回 5011：金额有误" in page and "重试" in page


def test_the_vouchers_are_the_images_the_1688_pack_chooses_each_under_1_mb(fake, store, team):
    # given: a 2 MB photo, five small ones and a text file
    order = returned(sale_with_purchase(fake), team)
    services.attach_file(
        order, by=None, file=SimpleUploadedFile("big.png", noisy_png(), content_type="image/png")
    )
    for n in range(5):
        photo(order, name=f"photo-{n}.png")
    services.attach_file(
        order, by=None, file=SimpleUploadedFile("notes.txt", b"seen", content_type="text/plain")
    )
    request = ask_supplier(order, team)
    # when
    assert file(request) == "filed"
    # then: the pack's four (its fifth file is its summary), the big one scaled under 1 MB
    [sent] = fake.refunds_1688(TOKEN_1688)
    assert len(sent["vouchers"]) == 4
    assert fake.calls("1688", alibaba1688.UPLOAD_VOUCHER) == 4


def noisy_png() -> bytes:
    """A PNG of random pixels: about 2 MB, which no compression makes smaller."""
    import io
    import random

    from PIL import Image

    rng = random.Random(7)
    image = Image.frombytes("RGB", (820, 820), bytes(rng.getrandbits(8) for _ in range(820 * 820 * 3)))
    out = io.BytesIO()
    image.save(out, "PNG")
    assert len(out.getvalue()) > 1024 * 1024
    return out.getvalue()


def test_another_stores_supervisor_cannot_try_it_again(fake, store, team, client):
    # given: a failed request of the main store
    order = returned(sale_with_purchase(fake, amount_1688="50.00"), team)
    photo(order)
    request = ask_supplier(order, team)
    assert file(request) == "failed"
    stranger = staff("Supervisor", username="eu-supervisor", stores=[StoreFactory(code="eu")])
    # when / then: as if it did not exist, on the screen and in the workflow
    client.force_login(stranger)
    retry = reverse("admin:orders_order_refund_filing_retry", args=[order.pk, request.pk])
    assert client.post(retry).status_code == 404
    with pytest.raises(Refused, match="does not exist"):
        workflow.retry_filing(request.pk, by=stranger)
    request.refresh_from_db()
    assert request.filing == FilingStatus.FAILED
