"""The close analytics' known data set (tests of the analytics, its page and its wording):
eight closes in March 2026 with their refunds, and the exchange rates of those days. The
fixtures ``known_closes`` and ``march_rates`` (tests/conftest.py) call the functions of the same
name. Both end by building the kept loss ledger (``factories.build_ledger``): the factories
bypass the workflow that keeps it."""

from datetime import date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from orders.models import (
    CloseStage,
    ExchangeRate,
    Order,
    Outcome,
    Refund,
    RefundDirection,
    RefundStatus,
    Status,
)
from tests.factories import OrderFactory, RefundFactory, SkuFactory, SupplierOrderFactory, build_ledger

SHANGHAI = ZoneInfo("Asia/Shanghai")
START, END = date(2026, 3, 1), date(2026, 3, 31)
OUTCOME = {CloseStage.UNPAID: Outcome.CANCELLED_UNPAID, CloseStage.PAID: Outcome.REFUNDED}


def at(day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(2026, 3, day, hour, minute, tzinfo=SHANGHAI)


def closed(
    reason: str,
    stage: str,
    *,
    sku,
    closed_at: datetime,
    hours: float = 0,
    country: str = "ES",
    supplier: str | None = None,
) -> Order:
    """An order closed ``hours`` after its close began, as the workflow leaves it."""
    order = OrderFactory(
        status=Status.CLOSED,
        close_reason=reason,
        close_stage=stage,
        close_started_at=closed_at - timedelta(hours=hours),
        closed_at=closed_at,
        outcome=OUTCOME.get(stage, Outcome.SUPPLIER_REFUNDED),
        sku=sku,
        buyer_country=country,
        placed_at=closed_at - timedelta(days=5),
    )
    if supplier:
        SupplierOrderFactory(order=order, supplier_name=supplier, amount=Decimal("300.00"))
    build_ledger()
    return order


def refund(order: Order, direction: str, amount: str, status: str = RefundStatus.SUCCEEDED) -> Refund:
    return RefundFactory(
        order=order,
        direction=direction,
        status=status,
        amount=Decimal(amount),
        succeeded_at=order.closed_at if status in (RefundStatus.SUCCEEDED, RefundStatus.RECEIVED) else None,
    )


def known_closes() -> dict[str, Order]:
    """Eight closes in March 2026, one the day before, and one open order.

    unpaid:  U1 payment_timeout A ES 0h · U2 payment_timeout B FR 0h · U3 out_of_stock A ES 2h
    paid:    P1 product_info_error A ES 10h X · P2 product_info_error A FR 20h X
             P3 buyer_cancelled B ES 30h Y
    shipped: S1 quality_issue B ES 48h Y · S2 quality_issue B ES 96h Y
    """
    a, b = SkuFactory(code="A-1", title="Alpha case"), SkuFactory(code="B-2", title="Beta strap")
    x, y = "义乌X饰品厂", "Y Factory"
    o = {
        "U1": closed("payment_timeout", "unpaid", sku=a, closed_at=at(2), hours=0),
        "U2": closed("payment_timeout", "unpaid", sku=b, closed_at=at(2), hours=0, country="FR"),
        "U3": closed("out_of_stock", "unpaid", sku=a, closed_at=at(3), hours=2),
        "P1": closed("product_info_error", "paid", sku=a, closed_at=at(3), hours=10, supplier=x),
        "P2": closed(
            "product_info_error", "paid", sku=a, closed_at=at(4), hours=20, country="FR", supplier=x
        ),
        "P3": closed("buyer_cancelled", "paid", sku=b, closed_at=at(10, 23, 30), hours=30, supplier=y),
        "S1": closed("quality_issue", "shipped", sku=b, closed_at=at(11, 0, 30), hours=48, supplier=y),
        "S2": closed("quality_issue", "shipped", sku=b, closed_at=at(20), hours=96, supplier=y),
        # The day before the period, and an open order: neither counts.
        "before": closed(
            "product_info_error",
            "paid",
            sku=a,
            closed_at=datetime(2026, 2, 28, 23, 0, tzinfo=SHANGHAI),
            hours=5,
        ),
        "open": OrderFactory(status=Status.PAID, sku=a),
    }
    refund(o["P1"], RefundDirection.TO_BUYER, "100.00")
    refund(o["P2"], RefundDirection.TO_BUYER, "50.00", RefundStatus.RECEIVED)
    refund(o["P3"], RefundDirection.TO_BUYER, "80.00")
    refund(o["S1"], RefundDirection.TO_BUYER, "100.00", RefundStatus.RECEIVED)
    refund(o["S1"], RefundDirection.FROM_SUPPLIER, "300.00", RefundStatus.RECEIVED)
    refund(o["S2"], RefundDirection.TO_BUYER, "100.00")
    refund(o["S2"], RefundDirection.FROM_SUPPLIER, "200.00", RefundStatus.RECEIVED)
    # Not money that moved: a rejected buyer refund and a supplier refund still requested.
    refund(o["P3"], RefundDirection.TO_BUYER, "20.00", RefundStatus.REJECTED)
    refund(o["S2"], RefundDirection.FROM_SUPPLIER, "50.00", RefundStatus.REQUESTED)
    # Money of an order closed outside the period.
    refund(o["before"], RefundDirection.TO_BUYER, "99.00")
    build_ledger()  # the factories bypass the workflow, which keeps it
    return o


def march_rates() -> None:
    """1 EUR = 1.25 USD = 10 CNY on every weekday of February and March 2026."""
    day = date(2026, 2, 1)
    while day <= END:
        if day.weekday() < 5:
            ExchangeRate.objects.create(date=day, currency="USD", rate=Decimal("1.25"))
            ExchangeRate.objects.create(date=day, currency="CNY", rate=Decimal("10"))
        day += timedelta(days=1)
    build_ledger()  # rates created directly: the closes already built are converted again
