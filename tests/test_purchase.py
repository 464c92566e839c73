"""The 1688 purchase's own life (issue 21, parts 1–3), from what a user notices.

Each finding of the walk has its test here, and each failed before the fix:

- the phantom gain: goods back "Resellable" in our stock and the full 90 CNY asked of the
  supplier (the form pre-filled it) made the close a gain in the ledger;
- goods counted twice: a request covering units in our stock or already asked for;
- the paid, not shipped close booked the whole purchase as lost;
- the buyer's texts offered for a dispute with the supplier on 1688;
- "Amount recovered" shown without its currency.

Rates: 1 EUR = 1.10 USD = 7.70 CNY on every day of the last fortnight, so 90 CNY = 12.86 USD and
70 CNY = 10.00 USD.
"""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from orders import workflow
from orders.forms import transition_initial
from orders.models import (
    ExchangeRate,
    Order,
    Refund,
    Status,
    StockMovement,
    SupplierOrder,
)
from orders.selectors.ledger import order_ledger
from orders.selectors.purchase import purchase_units, refund_request
from orders.workflow import chasing
from shopops.errors import Refused
from tests.factories import OrderFactory, RefundFactory, SupplierOrderFactory, staff
from tests.workflow_support import private_media, say  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


@pytest.fixture
def rates():
    today = timezone.localdate()
    for back in range(14):
        for currency, rate in (("USD", "1.10"), ("CNY", "7.70")):
            ExchangeRate.objects.create(
                date=today - timedelta(days=back), currency=currency, rate=Decimal(rate)
            )


@pytest.fixture
def team():
    return {group: staff(group) for group in ("Operator", "Supervisor", "Finance")}


def shipped_with_purchase(amount: str = "90.00") -> Order:
    order = OrderFactory(status=Status.SHIPPED, quantity=2, total_amount=Decimal("100.00"), buyer_phone="")
    SupplierOrderFactory(
        order=order,
        amount=Decimal(amount),
        status="received",
        supplier_order_id="2202100000000001",
        entry_ids=["2202100000000101"],
    )
    return order


def returned(order: Order, team, **receive) -> Order:
    """The buyer sends both units back; the operator receives them."""
    op = team["Operator"]
    say(order, by=op)
    workflow.propose_return(order, by=op)
    say(order, kind="consent", by=op)
    workflow.record_return_agreement(order, by=op, reason="quality_issue", tracking_number="RT1CN")
    return workflow.receive_return(order, by=op, quantity=2, **{"condition": "resellable", **receive})


def cancelled_with_consent(order: Order, team, **consent) -> Order:
    op = team["Operator"]
    say(order, by=op)
    workflow.request_cancellation(order, by=op)
    say(order, kind="consent", by=op)
    return workflow.record_buyer_consent(order, by=op, **{"reason": "buyer_cancelled", **consent})


def page(client, user, order) -> str:
    client.force_login(user)
    return client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()


def form(client, user, order, name) -> str:
    client.force_login(user)
    return client.get(reverse("admin:orders_order_transition", args=[order.pk, name])).content.decode()


# --- the phantom gain and goods counted twice -------------------------------------------------


def test_goods_back_in_our_stock_are_not_refunded_by_the_supplier_and_the_ledger_shows_no_gain(
    rates, team, client
):
    # given: both units came back resellable, so they went into our stock (+2)
    order = shipped_with_purchase("90.00")
    returned(order, team)
    sup = team["Supervisor"]
    assert StockMovement.objects.get(order=order).delta == 2
    # when: the supervisor opens "Ask the supplier for a refund"
    html = form(client, sup, order, "request_supplier_refund")
    # then: nothing is pre-filled (it was the full 90.00 CNY), and asking for it is refused in words
    assert 'name="amount" value="90.00"' not in html
    assert "amount" not in transition_initial("request_supplier_refund", order)
    with pytest.raises(Refused) as refused:
        workflow.request_supplier_refund(order, by=sup, amount="90.00", reason="Defective", reference="RF-1")
    assert str(refused.value) == (
        "That would count a unit twice: of the 2 unit(s) bought, 2 are in our stock (the supplier does "
        "not refund goods we keep), 0 went back to the supplier (asked for as goods sent back) and 0 "
        "are in a money-only request already: nothing is left to ask the supplier for."
    )
    assert not Refund.objects.filter(order=order, direction="from_supplier").exists()
    # and: the return closes without a supplier refund; the ledger shows the goods back, no gain
    workflow.close_return(order, by=sup)
    ledger = order_ledger(order)
    assert (ledger.goods_back_cny, ledger.recovered_from_supplier_cny) == (Decimal("90.00"), Decimal("0.00"))
    assert ledger.cost_of_close == Decimal("0.00")  # was −12.86 USD: goods back and refunded too
    assert "0.00 USD" in page(client, sup, order)


def test_goods_sent_back_to_the_supplier_are_asked_back_as_such_and_are_not_goods_back(rates, team):
    # given: both units go back to the supplier, none into our stock
    order = shipped_with_purchase("90.00")
    returned(order, team, to_supplier=2)
    assert not StockMovement.objects.filter(order=order).exists()
    assert SupplierOrder.objects.get(order=order).returned_quantity == 2
    # the form suggests 1688's "goods sent back" for the two units, and what they cost
    initial = transition_initial("request_supplier_refund", order)
    assert (initial["kind"], initial["units"], initial["amount"]) == ("return_refund", 2, Decimal("90.00"))
    # when
    sup = team["Supervisor"]
    workflow.request_supplier_refund(order, by=sup, amount="90.00", reason="Defective", reference="RF-2")
    workflow.record_supplier_approval(order, by=sup)
    # then: the refund says its kind and units; the ledger counts the money back, no goods back
    refund = Refund.objects.get(order=order, direction="from_supplier")
    assert (refund.kind, refund.units, refund.supplier_order.order_id) == ("return_refund", 2, order.pk)
    # what 1688's own refund request (createRefund) needs is at hand: ids as text, amounts in fen
    request = refund_request(refund)
    assert (request["orderId"], request["orderEntryIds"]) == ("2202100000000001", ["2202100000000101"])
    assert (request["disputeRequest"], request["applyPayment"]) == ("returnRefund", 9000)
    assert request["goodsStatus"] == "aftersaleBuyerReceived"
    assert request["orderEntryCountList"] == [{"id": "2202100000000101", "count": 2}]
    ledger = order_ledger(order)
    assert (ledger.goods_back_cny, ledger.goods_lost_cny) == (Decimal("0.00"), Decimal("0.00"))
    assert (ledger.recovered_from_supplier_cny, ledger.cost_of_close) == (Decimal("90.00"), Decimal("0.00"))


def test_a_request_that_would_count_a_unit_twice_is_refused_in_words(team):
    # given: one unit into our stock, one back to the supplier
    order = shipped_with_purchase("90.00")
    returned(order, team, to_supplier=1)
    sup = team["Supervisor"]

    def ask(**inputs):
        return workflow.request_supplier_refund(order, by=sup, reason="Defective", reference="RF-3", **inputs)

    # then: two units as goods sent back, when one was sent back
    with pytest.raises(Refused, match=r"at most 1 more can be asked for, not 2\.") as refused:
        ask(amount="45.00", kind="return_refund", units=2)
    assert refused.value.field == "units"
    # money only for the unit in our stock
    with pytest.raises(Refused, match=r"1 are in our stock \(the supplier does not refund goods we keep\)"):
        ask(amount="45.00", kind="refund", units=1)
    # more than the unit cost
    with pytest.raises(
        Refused, match=r"50\.00 CNY is more than the 1 unit\(s\) asked for cost: at most 45\.00 CNY"
    ):
        ask(amount="50.00")
    # the unit sent back, for what it cost: accepted
    ask(amount="45.00")
    assert purchase_units(order).return_covered == 1
    assert Refund.objects.get(order=order, direction="from_supplier").units == 1


def test_receive_return_refuses_sending_back_more_than_was_received(team):
    order = shipped_with_purchase()
    with pytest.raises(Refused, match=r"Only 2 unit\(s\) were received: 3 cannot go back to the supplier\."):
        returned(order, team, to_supplier=3)


# --- a paid, not shipped close ------------------------------------------------------------------


def paid_with_purchase(status: str = "placed", **purchase) -> Order:
    order = OrderFactory(status=Status.PAID, quantity=2, total_amount=Decimal("100.00"), buyer_phone="")
    SupplierOrderFactory(order=order, amount=Decimal("70.00"), status=status, **purchase)
    return order


def test_a_paid_close_cancels_the_purchase_on_1688_and_counts_it_only_once_its_money_is_gone(
    rates, team, client
):
    # given: a paid order whose 1688 purchase is placed, not shipped by the supplier
    order = paid_with_purchase("placed", supplier_contact="chenguang@example.cn")
    sup = team["Supervisor"]
    # when: the buyer agrees to cancel (the purchase input left to its default) and the refund goes through
    cancelled_with_consent(order, team, purchase_reference="TQ8000012340000001")
    workflow.confirm_refund(order, by=sup, reference="AE-RF-1")
    # then: 1688's money-only refund of the whole purchase waits for the supplier
    refund = Refund.objects.get(order=order, direction="from_supplier")
    assert (refund.kind, refund.units, refund.amount, refund.status) == (
        "refund",
        2,
        Decimal("70.00"),
        "requested",
    )
    assert refund_request(refund)["disputeRequest"] == "refund"
    assert refund_request(refund)["goodsStatus"] == "refundWaitSellerSend"
    assert refund_request(refund)["applyPayment"] == 7000  # fen
    # the page says the sale is closed and what the purchase still waits for
    html = page(client, sup, order)
    assert (
        "The sale is closed; the 1688 purchase still waits for the supplier&#x27;s answer on 70.00 CNY "
        "(money only), due by"
    ) in html
    # the ledger does not book the purchase as lost while its money may come back
    ledger = order_ledger(order)
    assert ledger.cost_of_close is None
    assert ledger.missing == ["supplier refund not yet received"]
    # and the chasing job chases it although the sale is closed
    result = chasing.chase_supplier_refunds([refund.pk], by=None, now=timezone.now() + timedelta(days=2))
    assert result.done == [refund.pk]
    # when: the supplier agrees (recorded on the purchase block's screen)
    client.force_login(sup)
    url = reverse("admin:orders_order_purchase_refund", args=[order.pk, refund.pk])
    response = client.post(url, {"answer": "approved", "reference": "TQ8000012340000001"})
    assert response.status_code == 302
    # then: the purchase is cancelled, and the close cost what the buyer kept: nothing
    assert SupplierOrder.objects.get(order=order).status == "cancelled"
    ledger = order_ledger(order)
    assert (ledger.supplier_cost_cny, ledger.recovered_from_supplier_cny) == (
        Decimal("70.00"),
        Decimal("70.00"),
    )
    assert ledger.cost_of_close == Decimal("0.00")  # was 10.00 USD: the whole purchase


def test_a_paid_close_of_a_purchase_not_bought_costs_nothing(rates, team):
    order = paid_with_purchase("not_bought", supplier_order_id="")
    cancelled_with_consent(order, team)
    workflow.confirm_refund(order, by=team["Supervisor"], reference="AE-RF-2")
    assert not Refund.objects.filter(order=order, direction="from_supplier").exists()
    ledger = order_ledger(order)
    assert (ledger.supplier_cost_cny, ledger.cost_of_close) == (Decimal("0.00"), Decimal("0.00"))


def test_a_paid_close_keeps_goods_in_our_warehouse_in_stock(rates, team):
    order = paid_with_purchase("received")
    stock = order.sku.stock_on_hand
    cancelled_with_consent(order, team)  # default for goods received: to our stock
    workflow.confirm_refund(order, by=team["Supervisor"], reference="AE-RF-3")
    order.sku.refresh_from_db()
    assert order.sku.stock_on_hand == stock + 2
    assert StockMovement.objects.get(order=order).reason == "purchase_kept"
    ledger = order_ledger(order)
    assert (ledger.goods_back_cny, ledger.cost_of_close) == (Decimal("70.00"), Decimal("0.00"))


def test_a_paid_close_refuses_a_purchase_choice_that_does_not_fit(team):
    placed = paid_with_purchase("placed")
    with pytest.raises(Refused, match="is recorded as “Placed, not shipped by the supplier”: it was bought"):
        cancelled_with_consent(placed, team, purchase="not_bought")
    assert Order.objects.get(pk=placed.pk).status == Status.CANCEL_REQUESTED
    received = paid_with_purchase("received")
    with pytest.raises(Refused, match="this close cannot be for “Out of stock”"):
        cancelled_with_consent(received, team, purchase="to_stock", reason="out_of_stock")
    nothing = OrderFactory(status=Status.PAID)
    with pytest.raises(Refused, match="There is no 1688 purchase placed and not yet received to cancel"):
        cancelled_with_consent(nothing, team, purchase="cancel_on_1688")


def test_the_purchase_refund_answer_waits_for_the_orders_own_step_while_the_order_waits(team):
    order = shipped_with_purchase()
    returned(order, team, to_supplier=2)
    sup = team["Supervisor"]
    workflow.request_supplier_refund(order, by=sup, amount="90.00", reason="Defective", reference="RF-4")
    refund = Refund.objects.get(order=order, direction="from_supplier")
    with pytest.raises(Refused, match="record the supplier's answer with the order's steps"):
        workflow.record_purchase_refund_approval(refund, by=sup)


# --- a dispute has a counterparty -------------------------------------------------------------


def test_a_supplier_dispute_is_decided_in_cny_with_the_suppliers_texts_only(rates, team, client):
    # given: the goods went back, the supplier refused, the dispute is with the supplier on 1688
    order = shipped_with_purchase("90.00")
    returned(order, team, to_supplier=2)
    sup = team["Supervisor"]
    workflow.request_supplier_refund(order, by=sup, amount="90.00", reason="Defective", reference="RF-5")
    say(order, kind="refusal", counterparty="supplier", by=sup)
    workflow.record_supplier_refusal(order, by=sup, reference="1688-DSP-5")
    assert Order.objects.get(pk=order.pk).dispute_with == "supplier"
    # when: the supervisor opens "Resolve the dispute"
    html = form(client, sup, order, "resolve_dispute")
    # then: the amount is what the supplier refunds, in CNY; the texts are the supplier's, in Chinese
    assert "Refunded by the supplier (CNY)" in html
    assert "Amount recovered" not in html
    assert "Ready text for the supplier" in html and "平台已裁定" in html
    assert "AliExpress has closed the dispute" not in html
    assert "Ready text for the buyer" not in html
    # a buyer's outcome for it is refused in words
    with pytest.raises(
        Refused, match="This dispute is with the supplier on 1688, not the buyer on AliExpress"
    ):
        workflow.resolve_dispute(order, by=sup, outcome="lost", counterparty="buyer")
    # when: 1688 decides a partial refund
    workflow.resolve_dispute(order, by=sup, outcome="partial", amount="40.00")
    # then: the supplier refunds 40 CNY for the units sent back; the timeline says so, with currency
    refund = Refund.objects.get(order=order, direction="from_supplier", status="succeeded")
    assert (refund.amount, refund.currency, refund.kind, refund.units) == (
        Decimal("40.00"),
        "CNY",
        "return_refund",
        2,
    )
    html = page(client, sup, order)
    assert "<dt>Dispute with</dt><dd>The supplier, on 1688</dd>" in html
    assert "<dd>40.00 CNY</dd>" in html
    assert order_ledger(order).recovered_from_supplier_cny == Decimal("40.00")


def test_a_buyer_dispute_is_decided_in_the_sales_currency_and_its_text_names_what_remains(team, client):
    # given: a buyer's dispute on a shipped order whose buyer already got 43.00 USD back
    order = OrderFactory(status=Status.SHIPPED, total_amount=Decimal("100.00"), buyer_language="en")
    RefundFactory(order=order, amount=Decimal("43.00"), succeeded=True)
    workflow.open_buyer_dispute(order, by=team["Operator"], reference="AE-DSP-1")
    # when
    html = form(client, team["Supervisor"], order, "resolve_dispute")
    # then: the amount says its currency, and the buyer's text offers what remains, not all paid
    assert "Refunded to the buyer (USD)" in html
    assert "Ready text for the buyer" in html
    assert "you will get $57.00 back" in html and "$100.00" not in html
    assert "平台已裁定" not in html


# --- the purchase's own data --------------------------------------------------------------------


def test_the_purchase_keeps_1688_ids_as_text_and_moves_only_forward(team, client):
    order = OrderFactory(status=Status.PAID)
    purchase = SupplierOrderFactory(order=order, amount=Decimal("35.00"), status="placed")
    op = team["Operator"]
    # an 18-digit id is beyond JavaScript's 2^53: kept exactly, as text
    workflow.update_purchase(
        purchase,
        by=op,
        status="shipped",
        supplier_order_id="2202100000000001",
        entry_ids="2202100000000101, 2202100000000102",
    )
    purchase.refresh_from_db()
    assert (purchase.status, purchase.supplier_order_id) == ("shipped", "2202100000000001")
    assert purchase.entry_ids == ["2202100000000101", "2202100000000102"]
    with pytest.raises(
        Refused, match=r"The purchase is “Shipped by the supplier”: it cannot become “Not bought yet”\."
    ):
        workflow.update_purchase(purchase, by=op, status="not_bought")
    with pytest.raises(Refused, match="is not an id"):
        workflow.update_purchase(purchase, by=op, entry_ids="22021-ABC")
    # the screen of the purchase block does the same
    client.force_login(op)
    url = reverse("admin:orders_order_purchase", args=[order.pk, purchase.pk])
    response = client.post(url, {"status": "received", "entry_ids": "2202100000000101", "amount": "35.00"})
    assert response.status_code == 302
    purchase.refresh_from_db()
    assert (purchase.status, purchase.entry_ids) == ("received", ["2202100000000101"])
    assert "1688 purchase updated" in page(client, op, order)
    # an analyst may look, not change
    client.force_login(staff("Analyst"))
    assert client.get(url).status_code == 403


# --- the rows that were there before -----------------------------------------------------------


def test_the_migration_gives_existing_rows_what_their_sale_tells():
    import importlib

    from django.apps import apps

    from orders.models import OrderEvent

    migration = importlib.import_module("orders.migrations.0024_purchase_life")
    # given: rows as they were before the purchase had a life (model defaults, no kind, no link)
    placed = SupplierOrderFactory(order=OrderFactory(status=Status.PAID))
    never = SupplierOrderFactory(order=OrderFactory(status=Status.PAID), supplier_order_id="", amount=None)
    now = timezone.now()
    returned_close = OrderFactory(
        status=Status.CLOSED, close_stage="shipped", close_reason="quality_issue", closed_at=now
    )
    received = SupplierOrderFactory(order=returned_close)
    refused = RefundFactory(order=returned_close, supplier=True, rejected=True)
    OrderEvent.objects.create(
        order=returned_close, transition="record_supplier_refusal", from_status="supplier_refund_pending"
    )
    paid_close = OrderFactory(
        status=Status.CLOSED, close_stage="paid", close_reason="out_of_stock", closed_at=now
    )
    SupplierOrderFactory(order=paid_close)
    cancelled = RefundFactory(order=paid_close, supplier=True, succeeded=True)
    Refund.objects.filter(pk__in=[refused.pk, cancelled.pk]).update(supplier_order=None, kind="")
    # when
    migration.fill_in(apps, None)
    # then
    statuses = dict(SupplierOrder.objects.values_list("pk", "status"))
    assert (statuses[placed.pk], statuses[never.pk], statuses[received.pk]) == (
        "placed",
        "not_bought",
        "received",
    )
    refused.refresh_from_db()
    cancelled.refresh_from_db()
    assert (refused.kind, refused.supplier_order_id) == ("return_refund", received.pk)
    assert cancelled.kind == "refund"
    assert Order.objects.get(pk=returned_close.pk).dispute_with == "supplier"


def test_the_purchase_block_and_its_history_speak_the_readers_language_with_labels_not_codes(team, client):
    order = paid_with_purchase("placed")
    cancelled_with_consent(order, team)
    sup = team["Supervisor"]
    workflow.confirm_refund(order, by=sup, reference="AE-RF-7")
    client.force_login(sup)
    url = reverse("admin:orders_order_change", args=[order.pk])
    english = client.get(url).content.decode()
    assert "<dd>Cancel on 1688: ask the supplier to refund the unshipped goods</dd>" in english
    assert "<dd>70.00 CNY</dd>" in english  # what was asked of the supplier, with its currency
    chinese = client.get(url, headers={"accept-language": "zh-hans"}).content.decode()
    assert "1688采购" in chinese and "已下单，供应商未发货" in chinese
    assert "销售订单已关闭；1688采购仍在等待供应商对 70.00 CNY（仅退款）的答复" in chinese
    for page_text in (english, chinese):
        for code in ("cancel_on_1688", "refund", "placed", "supplier"):
            assert f"<dd>{code}</dd>" not in page_text, code


def test_an_imported_purchase_starts_where_its_sale_says_and_is_bought_once_the_file_names_it():
    from orders.imports.service import import_orders
    from tests.import_support import csv_file, order_row

    # given: a paid sale with its 1688 order, a shipped one, and an unpaid one with no purchase yet
    rows = [
        order_row(order_id="8199000000000101", status="paid", paid_at="2026-11-20 11:00:00"),
        order_row(
            order_id="8199000000000102",
            status="shipped",
            paid_at="2026-11-20 11:00:00",
            shipped_at="2026-11-21 11:00:00",
            tracking_number="LP1CN",
        ),
        order_row(order_id="8199000000000103", supplier_order_id="", supplier_amount=""),
    ]
    # when
    assert not import_orders(csv_file(rows)).errors
    # then
    status = dict(SupplierOrder.objects.values_list("order__platform_order_id", "status"))
    assert status == {
        "8199000000000101": "placed",
        "8199000000000102": "received",
        "8199000000000103": "not_bought",
    }
    # when: a later file names the unpaid order's 1688 order
    later = order_row(
        order_id="8199000000000103", supplier_order_id="2202100000000103", supplier_amount="6.00"
    )
    assert not import_orders(csv_file([later])).errors
    # then: it was bought (and costs what it cost in the loss ledger)
    purchase = SupplierOrder.objects.get(order__platform_order_id="8199000000000103")
    assert (purchase.status, purchase.supplier_order_id) == ("placed", "2202100000000103")
