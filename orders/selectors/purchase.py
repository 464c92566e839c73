"""The 1688 purchase of an order: its units, what may still be asked of the supplier, and the two
halves of an order as each audience reads them (the sale block, the purchase block).

**Units.** Every unit bought goes one way once the sale is closed: into our stock (a resellable
return, or goods kept when a paid order is cancelled: the loss ledger's "goods back"), back to
the supplier (``SupplierOrder.returned_quantity``), or nowhere (damaged and kept, missing, never
returned). A supplier refund covers units (``Refund.units``) by its kind:

- ``return_refund`` (1688's ``returnRefund``) covers only units sent back;
- ``refund`` (money only) covers units neither in our stock nor sent back: goods the supplier never
  shipped, or goods that are not back with us;
- units in our stock are never the supplier's to refund.

A request that would cover a unit twice (two requests, or a unit in stock) is refused by the
workflow in words (``orders.workflow.purchase.check_supplier_request``). Requests rejected or
cancelled cover nothing.

Reads only. The evidence packs (issue 21, part 4) read :func:`sale_block` and
:func:`purchase_block`; the 1688 connection reads :func:`refund_request`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal

from django.db.models import Sum

from shopops.money import money

from ..models import (
    BOUGHT_STATUSES,
    GOODS_BACK_REASONS,
    REFUND_KIND_1688,
    REFUND_RELEASED_STATUSES,
    DisputeWith,
    Order,
    PurchaseOnClose,
    PurchaseStatus,
    Refund,
    RefundDirection,
    RefundStatus,
    StockMovement,
    SupplierOrder,
    SupplierRefundKind,
)
from .refunds import refundable

ZERO = Decimal("0.00")


def purchases(order: Order) -> list[SupplierOrder]:
    """The order's 1688 purchases, oldest first."""
    return list(SupplierOrder.objects.filter(order=order).order_by("pk"))


def bought(found: list[SupplierOrder]) -> list[SupplierOrder]:
    """The purchases whose money went to a supplier (placed, shipped, received, forwarded, cancelled)."""
    return [p for p in found if p.status in BOUGHT_STATUSES]


def main_purchase(order: Order) -> SupplierOrder | None:
    """The purchase a refund or a return is recorded on: the first one bought, else the first."""
    found = purchases(order)
    return next(iter(bought(found)), found[0] if found else None)


@dataclass(frozen=True)
class PurchaseUnits:
    """Where the units of an order's purchase went, and what its supplier requests cover."""

    bought: int  # units bought (the purchases' quantities; the order's when not given)
    in_stock: int  # put in our stock by this order: goods back
    sent_back: int  # sent back to the supplier
    return_covered: int  # covered by "goods sent back" requests (not rejected or cancelled)
    money_covered: int  # covered by money-only requests (not rejected or cancelled)

    @property
    def returnable(self) -> int:
        """Units sent back that no request covers yet."""
        return max(self.sent_back - self.return_covered, 0)

    @property
    def money_refundable(self) -> int:
        """Units neither in our stock nor sent back that no request covers yet."""
        return max(self.bought - self.in_stock - self.sent_back - self.money_covered, 0)

    @property
    def kept(self) -> int:
        """Units neither in our stock nor sent back (damaged and kept, missing, never returned)."""
        return max(self.bought - self.in_stock - self.sent_back, 0)

    def room(self, kind: str) -> int:
        return self.returnable if kind == SupplierRefundKind.RETURN_REFUND else self.money_refundable


def units_bought(order: Order, found: list[SupplierOrder]) -> int:
    """The units of the purchases bought: their quantities, else the order's quantity."""
    mine = bought(found)
    if mine and all(p.quantity for p in mine):
        return sum(p.quantity for p in mine)
    return order.quantity if mine else 0


def purchase_units(order: Order) -> PurchaseUnits:
    """Three queries: the purchases, the goods put in stock, the units the requests cover."""
    found = purchases(order)
    in_stock = (
        StockMovement.objects.filter(order=order, reason__in=GOODS_BACK_REASONS).aggregate(n=Sum("delta"))[
            "n"
        ]
        or 0
    )
    covered = dict(
        Refund.objects.filter(order=order, direction=RefundDirection.FROM_SUPPLIER, units__isnull=False)
        .exclude(status__in=REFUND_RELEASED_STATUSES)
        .values_list("kind")
        .annotate(n=Sum("units"))
        .order_by()
    )
    return PurchaseUnits(
        bought=units_bought(order, found),
        in_stock=max(in_stock, 0),
        sent_back=sum(p.returned_quantity for p in found),
        return_covered=covered.get(SupplierRefundKind.RETURN_REFUND, 0),
        money_covered=covered.get(SupplierRefundKind.REFUND, 0),
    )


def bought_amount(order: Order) -> Decimal:
    """What the bought purchases cost (CNY)."""
    total = SupplierOrder.objects.filter(order=order, status__in=BOUGHT_STATUSES).aggregate(t=Sum("amount"))[
        "t"
    ]
    return money(total or ZERO)


def units_share(order: Order, units: int, counted: PurchaseUnits | None = None) -> Decimal:
    """What ``units`` of the purchase cost (CNY): its amount × units ÷ units bought, to the cent."""
    counted = counted or purchase_units(order)
    if not counted.bought or units <= 0:
        return ZERO
    if units >= counted.bought:
        return bought_amount(order)
    return money(bought_amount(order) * units / counted.bought)


def default_refund_kind(counted: PurchaseUnits) -> str:
    """Goods sent back are asked back as such; otherwise money only for the units not with us."""
    if counted.returnable:
        return SupplierRefundKind.RETURN_REFUND
    return SupplierRefundKind.REFUND


def supplier_request_default(order: Order) -> tuple[str, int, Decimal | None]:
    """The supplier request a form suggests: (kind, units, amount in CNY or ``None`` when nothing
    may be asked). The amount follows the units: never goods in our stock."""
    counted = purchase_units(order)
    kind = default_refund_kind(counted)
    units = counted.room(kind)
    amount = min(units_share(order, units, counted), refundable(order, RefundDirection.FROM_SUPPLIER))
    return kind, units, (amount if amount > 0 else None)


def default_purchase_on_close(order: Order) -> str:
    """What a paid, not shipped close does with the purchase unless told: nothing when none was
    bought; goods in our warehouse go to stock; a purchase placed or on its way is cancelled."""
    statuses = {p.status for p in purchases(order)}
    if statuses & {PurchaseStatus.PLACED, PurchaseStatus.SHIPPED, PurchaseStatus.FORWARDED}:
        return PurchaseOnClose.CANCEL_ON_1688
    if PurchaseStatus.RECEIVED in statuses:
        return PurchaseOnClose.TO_STOCK
    return PurchaseOnClose.NOT_BOUGHT


def dispute_with(order: Order) -> str:
    """Whose dispute the order is in: recorded when it began; for an order that got there before
    this was recorded, the supplier's when a supplier refund was refused, else the buyer's."""
    if order.dispute_with:
        return order.dispute_with
    refused = Refund.objects.filter(
        order=order, direction=RefundDirection.FROM_SUPPLIER, status=RefundStatus.REJECTED
    ).exists()
    return DisputeWith.SUPPLIER if refused else DisputeWith.BUYER


def dispute_currency(order: Order, counterparty: str | None = None) -> str:
    """A buyer's dispute is decided in the sale's currency; a supplier's in CNY."""
    who = counterparty or dispute_with(order)
    return "CNY" if who == DisputeWith.SUPPLIER else order.currency


# --- what 1688's own refund request needs (alibaba.trade.createRefund) -------------------------

# ``goodsStatus`` by the purchase's status and the kind of request (shared/platforms/1688.md §4.3;
# the pairs are inferred from the value meanings there).
GOODS_STATUS = {
    (SupplierRefundKind.REFUND, PurchaseStatus.PLACED): "refundWaitSellerSend",
    (SupplierRefundKind.REFUND, PurchaseStatus.SHIPPED): "refundWaitBuyerReceive",
    (SupplierRefundKind.REFUND, PurchaseStatus.FORWARDED): "aftersaleBuyerNotReceived",
}
AFTER_SALE_RECEIVED = "aftersaleBuyerReceived"


def refund_request(refund: Refund) -> dict:
    """The parameters of 1688's ``createRefund`` for a supplier refund, as far as Shopops knows
    them: ids as strings (18 digits), amounts in fen. Vouchers and the reason id are the
    connection's (it uploads the order's images and lists 1688's reasons)."""
    purchase = refund.supplier_order
    status = purchase.status if purchase else PurchaseStatus.RECEIVED
    kind = refund.kind or SupplierRefundKind.RETURN_REFUND
    return {
        "orderId": purchase.supplier_order_id if purchase else "",
        "orderEntryIds": list(purchase.entry_ids) if purchase else [],
        "disputeRequest": REFUND_KIND_1688[kind],
        "applyPayment": int(refund.amount * 100),
        "applyCarriage": 0,
        "goodsStatus": GOODS_STATUS.get((kind, status), AFTER_SALE_RECEIVED),
        "description": (refund.reason or "")[:150],
        "orderEntryCountList": (
            [{"id": entry, "count": refund.units} for entry in purchase.entry_ids[:1]]
            if purchase and kind == SupplierRefundKind.RETURN_REFUND and refund.units
            else []
        ),
    }


# --- the two halves of an order, as each audience reads them ----------------------------------


@dataclass(frozen=True)
class SaleBlock:
    """The AliExpress sale: what the platform judges a buyer's case on (no supplier, no cost)."""

    platform_order_id: str
    buyer_name: str
    buyer_email: str
    buyer_phone: str
    buyer_country: str
    product_title: str
    sku: str
    quantity: int
    unit_price: Decimal
    total_amount: Decimal
    currency: str
    placed_at: datetime
    paid_at: datetime | None
    shipped_at: datetime | None
    tracking_number: str
    carrier: str
    return_tracking_number: str
    refunds: list[Refund] = field(default_factory=list)  # to the buyer only


@dataclass(frozen=True)
class PurchaseBlock:
    """The 1688 purchase: what the supplier's case needs (no buyer, no sale price)."""

    purchases: list[SupplierOrder]
    units: PurchaseUnits
    amount: Decimal  # CNY, the bought purchases
    refunds: list[Refund]  # from the supplier only, oldest first
    dispute_reference: str  # the 1688 dispute, when the order's dispute is the supplier's


def sale_block(order: Order) -> SaleBlock:
    return SaleBlock(
        platform_order_id=order.platform_order_id,
        buyer_name=order.buyer_name,
        buyer_email=order.buyer_email,
        buyer_phone=order.buyer_phone,
        buyer_country=order.buyer_country,
        product_title=order.product_title,
        sku=order.sku.code,
        quantity=order.quantity,
        unit_price=order.unit_price,
        total_amount=order.total_amount,
        currency=order.currency,
        placed_at=order.placed_at,
        paid_at=order.paid_at,
        shipped_at=order.shipped_at,
        tracking_number=order.tracking_number,
        carrier=order.carrier,
        return_tracking_number=order.return_tracking_number,
        refunds=list(
            Refund.objects.filter(order=order, direction=RefundDirection.TO_BUYER).order_by(
                "requested_at", "pk"
            )
        ),
    )


def purchase_block(order: Order) -> PurchaseBlock:
    refunds = list(
        Refund.objects.filter(order=order, direction=RefundDirection.FROM_SUPPLIER)
        .select_related("supplier_order")
        .order_by("requested_at", "pk")
    )
    return PurchaseBlock(
        purchases=purchases(order),
        units=purchase_units(order),
        amount=bought_amount(order),
        refunds=refunds,
        dispute_reference=order.platform_reference if order.dispute_with == DisputeWith.SUPPLIER else "",
    )


def open_purchase_refunds(order: Order) -> list[Refund]:
    """The supplier refunds still waiting for the supplier's answer, oldest first."""
    return list(
        Refund.objects.filter(
            order=order, direction=RefundDirection.FROM_SUPPLIER, status=RefundStatus.REQUESTED
        ).order_by("requested_at", "pk")
    )
