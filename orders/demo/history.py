"""A few months of closed-order history for the demo, so the close analytics have something to say.

``seed_demo`` calls ``seed_demo_history`` after the live demo orders; every third closed order is
in the EU store, closed by that store's operator when an operator closed it. The history is written in
bulk (orders, supplier orders, history events, refunds, feedback) with the fields the workflow
would have left — status closed, reason, stage, close started / closed times, outcome, refunds
succeeded or received — because running 3,000 orders through the workflow one by one would make
``seed_demo`` take minutes. It is recognised by its order ids (``HISTORY_PREFIX``), so running
it again adds nothing.

The mix is meant to make the recommendations fire: payment timeouts above 20% of closes, one
SKU whose listing keeps causing ``product_info_error`` closes, one supplier with many quality
closes.
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from ..models import (
    CloseStage,
    DisputeWith,
    Feedback,
    FollowupStatus,
    MovementReason,
    Order,
    OrderEvent,
    Outcome,
    PurchaseOnClose,
    PurchaseStatus,
    Refund,
    RefundDirection,
    RefundStatus,
    Sku,
    Status,
    StockMovement,
    SupplierOrder,
    SupplierRefundKind,
)
from ..models.store import DEFAULT_CODE
from ..workflow.events import event_values
from .catalogue import BUYERS, HISTORY_PREFIX, SKUS, SUPPLIERS
from .stores import EU, demo_store_of, ensure_demo_stores

HISTORY_ORDERS = 3000
HISTORY_DAYS = 120
SEED = 1688

# (reason, stage, weight). Stage is how far the order had got when its close began.
MIX = [
    ("payment_timeout", CloseStage.UNPAID, 30),
    ("buyer_cancelled", CloseStage.UNPAID, 8),
    ("suspected_fraud", CloseStage.UNPAID, 2),
    ("buyer_cancelled", CloseStage.PAID, 12),
    ("out_of_stock", CloseStage.PAID, 5),
    ("out_of_stock", CloseStage.UNPAID, 1),
    ("product_info_error", CloseStage.PAID, 3),
    ("product_info_error", CloseStage.SHIPPED, 4),
    ("quality_issue", CloseStage.SHIPPED, 14),
    ("shipping_issue", CloseStage.SHIPPED, 7),
    ("shipping_issue", CloseStage.PAID, 2),
    ("force_majeure", CloseStage.PAID, 2),
    ("other", CloseStage.PAID, 2),
]
# The listing that keeps confusing buyers, the SKUs whose stock keeps running out, and the
# supplier whose goods keep coming back.
BAD_LISTING_SKU = "SKU-LED-014"
SHORT_STOCK_SKUS = ("SKU-EAR-077", "SKU-WAT-203")
BAD_QUALITY_SUPPLIER = "广州白云皮具商行"

PATHS = {
    CloseStage.UNPAID: [("close_unpaid", Status.AWAITING_PAYMENT, Status.CLOSED)],
    CloseStage.PAID: [
        ("request_cancellation", Status.PAID, Status.CANCEL_REQUESTED),
        ("record_buyer_consent", Status.CANCEL_REQUESTED, Status.REFUND_PENDING),
        ("confirm_refund", Status.REFUND_PENDING, Status.CLOSED),
    ],
    CloseStage.SHIPPED: [
        ("propose_return", Status.SHIPPED, Status.RETURN_REQUESTED),
        ("record_return_agreement", Status.RETURN_REQUESTED, Status.RETURN_IN_TRANSIT),
        ("receive_return", Status.RETURN_IN_TRANSIT, Status.RETURN_RECEIVED),
        ("request_supplier_refund", Status.RETURN_RECEIVED, Status.SUPPLIER_REFUND_PENDING),
        ("record_supplier_approval", Status.SUPPLIER_REFUND_PENDING, Status.CLOSED),
    ],
}
# A shipped close the supplier refused: the buyer's dispute is lost and the shop keeps the cost.
PATH_REFUSED = [
    *PATHS[CloseStage.SHIPPED][:4],
    ("record_supplier_refusal", Status.SUPPLIER_REFUND_PENDING, Status.DISPUTED),
    ("resolve_dispute", Status.DISPUTED, Status.CLOSED),
]
# Buyers pay in their own currency (prices converted roughly from the USD list price).
CURRENCY = {"ES": "EUR", "FR": "EUR", "DE": "EUR", "PT": "EUR", "BR": "BRL", "GB": "GBP", "PL": "PLN"}
PRICE_FACTOR = {"USD": "1", "EUR": "0.92", "BRL": "5.40", "GBP": "0.79", "PLN": "3.95"}
# Median-ish hours from the first close step to closed, per stage (drawn around these).
CLOSE_HOURS = {CloseStage.UNPAID: (0, 2), CloseStage.PAID: (6, 72), CloseStage.SHIPPED: (96, 480)}
COMMENTS = {
    1: ["Broken on arrival", "Not as described at all", "质量太差", "Never again"],
    2: ["Colour differs from the photos", "Took too long", "尺寸不对"],
    3: ["OK for the price", "Average"],
    4: ["Good, fast shipping", "不错"],
    5: ["Perfect, thank you!", "Excellent seller", "非常满意"],
}


def _restock_returns(returns: list[tuple[Order, int]]) -> None:
    """The resellable returns back on the shelf: a movement each, and the SKUs' stock after them."""
    stock = dict(Sku.objects.values_list("pk", "stock_on_hand"))
    movements = []
    for order, quantity in sorted(returns, key=lambda item: item[0].closed_at):
        span = order.closed_at - order.close_started_at
        stock[order.sku_id] += quantity
        movements.append(
            StockMovement(
                sku_id=order.sku_id,
                delta=quantity,
                reason=MovementReason.RETURN_RESELLABLE,
                order=order,
                note="Demo history: resellable return",
                stock_after=stock[order.sku_id],
                created_at=order.close_started_at + span / 2,
            )
        )
    StockMovement.objects.bulk_create(movements, batch_size=1000)
    for sku in Sku.objects.filter(pk__in={order.sku_id for order, _q in returns}):
        sku.stock_on_hand = stock[sku.pk]
        sku.save(update_fields=["stock_on_hand"])


def _event_data(name: str, order: Order, back: int, condition: str, sent_back: int, cancelled: bool) -> dict:
    """The inputs a history event of the demo's past records, as the workflow would have."""
    data: dict = {"demo_history": True}
    if name == "receive_return":
        data.update(quantity=back if back else order.quantity, condition=condition, to_supplier=sent_back)
    if name == "record_buyer_consent":
        data["purchase"] = PurchaseOnClose.CANCEL_ON_1688 if cancelled else PurchaseOnClose.NOT_BOUGHT
    if name in ("record_supplier_refusal", "resolve_dispute"):
        data["counterparty"] = DisputeWith.SUPPLIER
    return data


def _user(username: str):
    return get_user_model().objects.filter(username=username).first()


@transaction.atomic
def seed_demo_history(stdout=None, *, orders: int = HISTORY_ORDERS, now: datetime | None = None) -> int:
    """Create ``orders`` closed orders over the last ``HISTORY_DAYS`` days; returns how many were made.

    Does nothing (returns 0) when the history is already there.
    """
    if Order.objects.filter(platform_order_id__startswith=HISTORY_PREFIX).exists():
        if stdout:
            stdout.write("Close history already present")
        return 0
    rng = random.Random(SEED)  # noqa: S311 - demo data, reproducible on purpose
    now = now or timezone.now()
    operator, supervisor = _user("operator"), _user("supervisor")
    operators = {DEFAULT_CODE: operator, EU: _user("operator_eu")}
    demo_stores = ensure_demo_stores()
    skus = []
    for code, title, price, cost in SKUS:
        sku, _created = Sku.objects.get_or_create(code=code, defaults={"title": title})
        skus.append((sku, price, cost))
    reasons = [(r, s) for r, s, _w in MIX]
    weights = [w for _r, _s, w in MIX]

    plans = []
    new_orders = []
    for n in range(1, orders + 1):
        reason, stage = rng.choices(reasons, weights)[0]
        sku, price, cost = rng.choice(skus)
        if reason == "product_info_error" and rng.random() < 0.9:
            sku, price, cost = next(s for s in skus if s[0].code == BAD_LISTING_SKU)
        if reason == "out_of_stock" and rng.random() < 0.9:
            short = rng.choice(SHORT_STOCK_SKUS)
            sku, price, cost = next(s for s in skus if s[0].code == short)
        supplier, contact = rng.choice(SUPPLIERS)
        if reason == "quality_issue" and rng.random() < 0.5:
            supplier, contact = next(s for s in SUPPLIERS if s[0] == BAD_QUALITY_SUPPLIER)
        name, country, language, phone = rng.choice(BUYERS)
        quantity = rng.choices([1, 2, 3], weights=[70, 22, 8])[0]
        # More recent days carry a little more volume: the shop is growing.
        closed_at = now - timedelta(days=HISTORY_DAYS * (rng.random() ** 1.2), minutes=rng.uniform(5, 60))
        low, high = CLOSE_HOURS[stage]
        close_hours = (
            rng.uniform(low, high) if stage != CloseStage.UNPAID or reason != "payment_timeout" else 0
        )
        started = closed_at - timedelta(hours=close_hours)
        placed = started - timedelta(hours=72 if reason == "payment_timeout" else rng.uniform(2, 24 * 6))
        paid = None if stage == CloseStage.UNPAID else placed + timedelta(minutes=rng.uniform(2, 300))
        shipped = (
            paid + timedelta(hours=rng.uniform(12, 72)) if stage == CloseStage.SHIPPED and paid else None
        )
        if shipped and shipped > started:
            shipped = started - timedelta(hours=1)
        currency = CURRENCY.get(country, "USD")
        price = (price * Decimal(PRICE_FACTOR[currency])).quantize(Decimal("0.01"))
        total = price * quantity
        store = demo_store_of(n, demo_stores)
        actor = (
            None
            if reason == "payment_timeout"
            else (supervisor if stage != CloseStage.UNPAID else operators[store.code])
        )
        outcome = {
            CloseStage.UNPAID: Outcome.CANCELLED_UNPAID,
            CloseStage.PAID: Outcome.REFUNDED,
            CloseStage.SHIPPED: Outcome.SUPPLIER_REFUNDED,
        }[stage]
        new_orders.append(
            Order(
                platform_order_id=f"{HISTORY_PREFIX}{n:012d}",
                store=store,
                status=Status.CLOSED,
                platform_status="",
                status_changed_at=closed_at,
                buyer_name=name,
                buyer_email=f"history.{n:05d}@example.com",
                buyer_phone=phone,
                buyer_country=country,
                buyer_language=language,
                sku=sku,
                product_title=sku.title,
                quantity=quantity,
                unit_price=price,
                total_amount=total,
                currency=currency,
                placed_at=placed,
                paid_at=paid,
                shipped_at=shipped,
                tracking_number=f"LP{HISTORY_PREFIX}{n:08d}CN" if shipped else "",
                carrier=rng.choice(["Cainiao", "4PX", "YunExpress"]) if shipped else "",
                close_reason=reason,
                close_stage=stage,
                close_started_at=started,
                closed_at=closed_at,
                closed_by=actor,
                outcome=outcome,
                created_at=placed,
            )
        )
        plans.append((stage, reason, supplier, contact, (cost * quantity).quantize(Decimal("0.01")), actor))
    created = Order.objects.bulk_create(new_orders, batch_size=500)

    supplier_orders, events, refunds, returns = [], [], [], []
    for order, (stage, reason, supplier, contact, cost, actor) in zip(created, plans, strict=True):
        # Shipped closes: the supplier refuses about one in four (more often the bad-quality one);
        # the goods come back resellable, partly resellable, damaged or not at all.
        refused = stage == CloseStage.SHIPPED and rng.random() < (
            0.5 if supplier == BAD_QUALITY_SUPPLIER else 0.2
        )
        condition, back = "", 0
        if stage == CloseStage.SHIPPED:
            condition = rng.choices(["resellable", "damaged", "missing"], weights=[50, 35, 15])[0]
            back = 0 if condition != "resellable" else rng.randint(1, order.quantity)
            if back:
                returns.append((order, back))
        if refused:
            order.outcome = Outcome.LOST
            order.dispute_with = DisputeWith.SUPPLIER
        # The 1688 purchase: a paid close found it not bought yet, or cancelled it on 1688 (the
        # supplier refunded it all); a shipped one had it received, and the goods of the return
        # not back on our shelf went back to the supplier (none when they went missing).
        cancelled = stage == CloseStage.PAID and rng.random() < 0.5
        sent_back = order.quantity - back if stage == CloseStage.SHIPPED and condition != "missing" else 0
        if stage != CloseStage.UNPAID:
            not_bought = stage == CloseStage.PAID and not cancelled
            purchase = SupplierOrder(
                order=order,
                supplier_name=supplier,
                supplier_contact=contact,
                supplier_order_id="" if not_bought else f"2202{order.platform_order_id[-14:]}",
                amount=cost,
                quantity=order.quantity,
                status=(
                    PurchaseStatus.NOT_BOUGHT
                    if not_bought
                    else (PurchaseStatus.CANCELLED if cancelled else PurchaseStatus.RECEIVED)
                ),
                returned_quantity=sent_back,
                created_at=order.paid_at,
            )
            supplier_orders.append(purchase)
        path = PATH_REFUSED if refused else PATHS[stage]
        span = order.closed_at - order.close_started_at
        for i, (name, source, target) in enumerate(path):
            at = order.close_started_at + span * (i / max(len(path) - 1, 1))
            values = event_values(
                order.pk,
                name,
                from_status=source,
                to_status=target,
                actor_id=actor.pk if actor else None,
                created_at=at,
                reason=reason,
                data=_event_data(name, order, back, condition, sent_back, cancelled),
            )
            events.append(OrderEvent(**values))
        if stage == CloseStage.UNPAID:
            continue
        # Recent refunds may not have arrived yet; older ones have.
        recent = order.closed_at > now - timedelta(days=10)
        refunds.append(
            Refund(
                order=order,
                direction=RefundDirection.TO_BUYER,
                status=RefundStatus.SUCCEEDED if recent and rng.random() < 0.6 else RefundStatus.RECEIVED,
                amount=order.total_amount,
                currency=order.currency,
                reason=reason,
                reference=f"AE-RF-{order.platform_order_id[-8:]}",
                idempotency_key=f"history-{order.platform_order_id}-buyer",
                requested_at=order.close_started_at,
                succeeded_at=order.closed_at,
                received_at=None if recent else order.closed_at + timedelta(days=rng.uniform(3, 9)),
            )
        )
        if cancelled:
            refunds.append(
                Refund(
                    order=order,
                    supplier_order=purchase,
                    direction=RefundDirection.FROM_SUPPLIER,
                    kind=SupplierRefundKind.REFUND,
                    units=order.quantity,
                    status=RefundStatus.RECEIVED,
                    amount=cost,
                    currency="CNY",
                    reason=reason,
                    reference=f"TQ{order.platform_order_id[-16:]}",
                    idempotency_key=f"history-{order.platform_order_id}-purchase",
                    requested_at=order.close_started_at,
                    succeeded_at=order.closed_at,
                    received_at=order.closed_at + timedelta(days=rng.uniform(1, 5)),
                )
            )
        # Goods back on the shelf are not the supplier's to refund: only the rest is asked for,
        # as goods sent back (or money only, for goods that went missing).
        asked = (cost * (order.quantity - back) / order.quantity).quantize(Decimal("0.01"))
        if stage == CloseStage.SHIPPED and asked > 0:
            # Suppliers seldom refund in full: often part, sometimes all of the purchase.
            share = Decimal(rng.choice(["1", "1", "0.8", "0.5"]))
            refunds.append(
                Refund(
                    order=order,
                    supplier_order=purchase,
                    direction=RefundDirection.FROM_SUPPLIER,
                    kind=SupplierRefundKind.REFUND
                    if condition == "missing"
                    else SupplierRefundKind.RETURN_REFUND,
                    units=order.quantity - back,
                    status=RefundStatus.REJECTED if refused else RefundStatus.RECEIVED,
                    amount=(asked * share).quantize(Decimal("0.01")),
                    currency="CNY",
                    reason=reason,
                    reference=f"1688-RF-{order.platform_order_id[-8:]}",
                    idempotency_key=f"history-{order.platform_order_id}-supplier",
                    requested_at=order.closed_at - span / 4,
                    succeeded_at=None if refused else order.closed_at,
                    received_at=None if refused else order.closed_at + timedelta(days=rng.uniform(1, 5)),
                    ended_at=order.closed_at if refused else None,
                )
            )
    SupplierOrder.objects.bulk_create(supplier_orders, batch_size=1000)
    OrderEvent.objects.bulk_create(events, batch_size=1000)
    Refund.objects.bulk_create(refunds, batch_size=1000)
    Order.objects.bulk_update(
        [o for o in created if o.outcome == Outcome.LOST], ["outcome", "dispute_with"], batch_size=1000
    )
    _restock_returns(returns)

    feedback = []
    for order in rng.sample(created, k=len(created) // 8):
        if order.close_stage == CloseStage.UNPAID:
            continue
        rating = rng.choices([1, 2, 3, 4, 5], weights=[25, 20, 20, 15, 20])[0]
        received = order.closed_at + timedelta(hours=rng.uniform(1, 72))
        if received > now:
            continue
        item = Feedback(
            order=order,
            rating=rating,
            comment=rng.choice(COMMENTS[rating]),
            received_at=received,
            created_at=received,
        )
        if rating <= 2:
            age = now - received
            item.followup_opened_at = received
            item.assignee = operator
            if age < timedelta(days=4):
                item.followup_status = rng.choice([FollowupStatus.NEW, FollowupStatus.CONTACTED])
                item.assignee = None if item.followup_status == FollowupStatus.NEW else operator
            else:
                item.followup_status = rng.choice([FollowupStatus.RESOLVED] * 3 + [FollowupStatus.UNRESOLVED])
                item.followup_closed_at = received + timedelta(days=rng.uniform(1, 3))
                item.followup_notes = "Buyer contacted through AliExpress messages (demo history)."
        feedback.append(item)
    Feedback.objects.bulk_create(feedback, batch_size=1000)
    if stdout:
        stdout.write(
            f"Close history: {len(created)} closed orders over {HISTORY_DAYS} days, "
            f"{len(refunds)} refunds, {len(feedback)} feedback"
        )
    return len(created)
