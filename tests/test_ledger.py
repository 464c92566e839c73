"""The loss ledger on a small known data set: every component and cost of close computed by hand.

Rates (units per 1 EUR): Friday 2026-03-06 USD 1.10, CNY 7.70, BRL 5.50; Monday 2026-03-09
USD 1.20, CNY 8.40, BRL 6.00; nothing on the weekend, nothing before the Friday.
"""

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from orders.models import (
    CloseStage,
    ExchangeRate,
    MovementReason,
    Order,
    Outcome,
    RefundDirection,
    RefundStatus,
    Status,
    StockMovement,
)
from orders.selectors import analytics, costs, recommendations
from orders.selectors.ledger import CSV_COLUMNS, ledger, order_ledger
from tests.factories import OrderFactory, RefundFactory, SkuFactory, SupplierOrderFactory, build_ledger

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
FRI, SAT, MON = 6, 7, 9


def at(day: int, hour: int = 12) -> datetime:
    return datetime(2026, 3, day, hour, tzinfo=SHANGHAI)


@pytest.fixture
def rates():
    for day, values in {FRI: ("1.10", "7.70", "5.50"), MON: ("1.20", "8.40", "6.00")}.items():
        for currency, rate in zip(("USD", "CNY", "BRL"), values, strict=True):
            ExchangeRate.objects.create(date=date(2026, 3, day), currency=currency, rate=Decimal(rate))


def closed_order(**kwargs) -> Order:
    defaults = {
        "status": Status.CLOSED,
        "close_reason": "quality_issue",
        "close_stage": CloseStage.SHIPPED,
        "outcome": Outcome.LOST,
        "closed_at": at(MON),
        "close_started_at": at(FRI),
        "placed_at": at(FRI, 9),
        "paid_at": at(FRI),
        "quantity": 2,
        "total_amount": Decimal("100.00"),
        "currency": "USD",
    }
    defaults.update(kwargs)
    return OrderFactory(**defaults)


def refund(order, direction, amount, day, status=RefundStatus.SUCCEEDED):
    return RefundFactory(
        order=order,
        direction=direction,
        amount=Decimal(amount),
        currency=order.currency if direction == RefundDirection.TO_BUYER else "CNY",
        status=status,
        requested_at=at(day, 10),
        succeeded_at=at(day) if status == RefundStatus.SUCCEEDED else None,
    )


@pytest.fixture
def orders(rates):
    sku = SkuFactory(code="CASE-1")
    # A: USD, shipped, 1 of 2 back resellable on Saturday (Friday's rate), supplier refused.
    a = closed_order(platform_order_id="A", sku=sku, buyer_country="US")
    SupplierOrderFactory(order=a, supplier_name="晨光", amount=Decimal("300.00"), created_at=at(FRI))
    refund(a, RefundDirection.TO_BUYER, "100.00", SAT)
    refund(a, RefundDirection.FROM_SUPPLIER, "300.00", MON, status=RefundStatus.REJECTED)
    StockMovement.objects.create(
        sku=sku, delta=1, reason=MovementReason.RETURN_RESELLABLE, order=a, stock_after=1, created_at=at(SAT)
    )
    # B: BRL, cancelled after payment, partly refunded, supplier refunded in full.
    b = closed_order(
        platform_order_id="B",
        sku=sku,
        currency="BRL",
        total_amount=Decimal("60.00"),
        close_reason="out_of_stock",
        close_stage=CloseStage.PAID,
        outcome=Outcome.REFUNDED,
        shipped_at=None,
        tracking_number="",
        buyer_country="BR",
    )
    SupplierOrderFactory(order=b, supplier_name="晨光", amount=Decimal("70.00"), created_at=at(FRI))
    refund(b, RefundDirection.TO_BUYER, "55.00", MON)
    refund(b, RefundDirection.FROM_SUPPLIER, "70.00", MON)
    # C: EUR paid on 2026-03-02, before any USD rate: the reporting rate is missing.
    c = closed_order(
        platform_order_id="C",
        sku=sku,
        currency="EUR",
        total_amount=Decimal("50.00"),
        paid_at=at(2),
        close_reason="buyer_cancelled",
        close_stage=CloseStage.PAID,
        outcome=Outcome.REFUNDED,
        shipped_at=None,
        tracking_number="",
    )
    refund(c, RefundDirection.TO_BUYER, "50.00", MON)
    # D: unpaid, timed out: nothing moved.
    d = closed_order(
        platform_order_id="D",
        sku=sku,
        paid_at=None,
        shipped_at=None,
        tracking_number="",
        close_reason="payment_timeout",
        close_stage=CloseStage.UNPAID,
        outcome=Outcome.CANCELLED_UNPAID,
    )
    # E: shipped, no supplier order recorded; buyer refund still requested.
    e = closed_order(platform_order_id="E", sku=sku)
    refund(e, RefundDirection.TO_BUYER, "40.00", MON, status=RefundStatus.REQUESTED)
    build_ledger()
    return {o.platform_order_id: o for o in (a, b, c, d, e)}


def by_id(orders_qs=None):
    return {row.platform_order_id: row for row in ledger(orders_qs or Order.objects.all())}


def test_every_component_and_cost_of_close_by_hand(orders):
    # given the data set above; when
    rows = by_id()
    # then A: paid 100 USD (1:1), refunded 100 USD; supplier 300 CNY on Friday = 300 × 1.10 / 7.70
    # = 42.86 USD; back 1 × 150 CNY on Saturday at Friday's rate = 21.43; lost 150 CNY on Monday
    # = 150 × 1.20 / 8.40 = 21.43 (shown, not added). Cost = (100 − 100) + (42.86 − 0 − 21.43).
    a = rows["A"]
    assert (a.paid, a.refunded_to_buyer) == (Decimal("100.00"), Decimal("100.00"))
    assert (a.supplier_cost_cny, a.recovered_from_supplier_cny) == (Decimal("300.00"), Decimal("0.00"))
    assert (a.goods_back_cny, a.goods_lost_cny) == (Decimal("150.00"), Decimal("150.00"))
    assert a.cost_of_close == Decimal("21.43")
    assert a.missing == []
    # B: paid 60 BRL Friday = 12.00; refunded 55 BRL Monday = 11.00; supplier 70 CNY Friday =
    # 10.00; recovered 70 CNY Monday = 10.00. Cost = (11 − 12) + (10 − 10 − 0) = −1.00.
    b = rows["B"]
    assert (b.paid, b.refunded_to_buyer, b.supplier_cost_cny) == (
        Decimal("60.00"),
        Decimal("55.00"),
        Decimal("70.00"),
    )
    assert (b.goods_back_cny, b.goods_lost_cny) == (Decimal("0.00"), Decimal("0.00"))
    assert b.cost_of_close == Decimal("-1.00")
    # C: no USD rate on or in the week before 2026-03-02: missing, not converted at 0 or 1.
    c = rows["C"]
    assert c.cost_of_close is None
    assert c.missing == ["rate USD on 2026-03-02"]
    # D: nothing moved; the close cost nothing.
    assert rows["D"].cost_of_close == Decimal("0.00") and rows["D"].missing == []
    # E: goods shipped but no supplier order; the buyer refund not yet paid.
    e = rows["E"]
    assert e.cost_of_close is None
    assert e.missing == ["supplier order", "refund to the buyer not yet paid"]
    assert e.supplier_cost_cny is None and e.goods_lost_cny is None


def test_order_ledger_lists_each_movement_with_its_rate(orders):
    entry = order_ledger(orders["A"])
    got = [(m.kind, m.day.day, m.currency, m.amount, m.rate, m.converted) for m in entry.movements]
    assert got == [
        ("paid", FRI, "USD", Decimal("100.00"), Decimal("1.000000"), Decimal("100.00")),
        ("supplier", FRI, "CNY", Decimal("300.00"), Decimal("0.142857"), Decimal("42.86")),
        ("refunded", SAT, "USD", Decimal("100.00"), Decimal("1.000000"), Decimal("100.00")),
        ("back", SAT, "CNY", Decimal("150.00"), Decimal("0.142857"), Decimal("21.43")),
        ("lost", MON, "CNY", Decimal("150.00"), Decimal("0.142857"), Decimal("21.43")),
    ]


def test_a_currency_with_no_rate_is_missing(rates):
    order = closed_order(
        platform_order_id="G",
        currency="GBP",
        total_amount=Decimal("10.00"),
        shipped_at=None,
        close_stage=CloseStage.PAID,
    )
    entry = order_ledger(order)
    assert entry.cost_of_close is None
    assert entry.missing == ["rate GBP on 2026-03-06"]


def test_rate_older_than_a_week_is_missing(rates):
    order = closed_order(
        platform_order_id="H", paid_at=at(20), closed_at=at(21), shipped_at=None, close_stage="paid"
    )
    assert order_ledger(order).missing == ["rate USD on 2026-03-20"]


def test_loss_ledger_command_csv(orders):
    out = io.StringIO()
    call_command("loss_ledger", "--since", "2026-03-09", "--until", "2026-03-09", stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == CSV_COLUMNS
    assert rows[1] == [
        "A",
        "quality_issue",
        "USD",
        "100.00",
        "100.00",
        "300.00",
        "0.00",
        "150.00",
        "150.00",
        "21.43",
        "",
    ]
    assert {r[0]: r[9] for r in rows[1:]} == {"A": "21.43", "B": "-1.00", "C": "", "D": "0.00", "E": ""}
    assert {r[0]: r[10] for r in rows[1:]}["E"] == "supplier order; refund to the buyer not yet paid"


def test_loss_ledger_command_period_and_bad_dates(orders):
    out = io.StringIO()
    call_command("loss_ledger", "--until", "2026-03-08", stdout=out)
    assert out.getvalue().splitlines() == [",".join(CSV_COLUMNS)]
    from django.core.management import CommandError

    with pytest.raises(CommandError, match="2026-13-01"):
        call_command("loss_ledger", "--since", "2026-13-01", stdout=io.StringIO())


def test_recommendations_put_the_supplier_whose_refusals_cost_most_first(orders):
    # given: besides A (晨光 refused, cost 21.43 USD), a close where "Z Factory" refused, costing more
    z = closed_order(platform_order_id="Z", sku=orders["A"].sku)
    SupplierOrderFactory(order=z, supplier_name="Z Factory", amount=Decimal("770.00"), created_at=at(FRI))
    refund(z, RefundDirection.TO_BUYER, "100.00", MON)
    refund(z, RefundDirection.FROM_SUPPLIER, "770.00", MON, status=RefundStatus.REJECTED)
    build_ledger()
    start, end = date(2026, 3, 1), date(2026, 3, 31)
    # when
    data = analytics.close_analytics(start, end, user=None)
    cost = costs.cost_of_closes(analytics.closed_orders(start, end, user=None), start, end)
    found = [
        r
        for r in recommendations.recommend(data, now=at(MON), costs=cost, user=None)
        if r.rule == "supplier_refusal_cost"
    ]
    # then: Z's close cost (100 − 100) + 770 × 1.10 / 7.70 = 110.00 USD, more than 晨光's 21.43:
    # Z alone is the one whose refusals cost the most
    assert [(r.subject, r.why) for r in found] == [
        ("Z Factory", "1 close(s) where it refused a refund cost 110.00 USD."),
    ]
    assert cost.total == Decimal("21.43") + Decimal("-1.00") + Decimal("0.00") + Decimal("110.00")
    assert (cost.closes, cost.incomplete) == (6, 2)
    assert [(r.key, r.cost) for r in cost.by_supplier] == [
        ("Z Factory", Decimal("110.00")),
        ("晨光", Decimal("20.43")),
    ]


def test_the_order_page_shows_its_ledger(orders, client):
    from django.urls import reverse

    from tests.factories import staff

    client.force_login(staff("Supervisor"))
    page = client.get(reverse("admin:orders_order_change", args=[orders["A"].pk])).content.decode()
    assert "Loss ledger (converted to USD)" in page
    assert "Goods back on the shelf" in page and "0.142857" in page and "21.43" in page
    assert "Cost of the close" in page
    page = client.get(reverse("admin:orders_order_change", args=[orders["C"].pk])).content.decode()
    assert "rate USD on 2026-03-02" in page
