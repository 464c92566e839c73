"""The live demo orders of ``manage.py seed_demo``: about 330, a realistic spread over every state.

Every order is created unpaid, in one of the two demo stores (every third in the EU store), and
then moved through ``orders.workflow`` by the demo users who work for its store (``operator`` or
``operator_eu``, ``supervisor``, ``finance``), with the communications and attachments that the
workflow requires recorded through ``evidence.services``, so the history, refunds, stock
movements and outbox rows are the real ones. The randomness is seeded: every run produces the
same orders.

Only timestamps are adjusted afterwards: orders are spread over the last ~60 days
(``placed_at`` etc.), and the dates of closes and refunds follow them so that the dashboards
have a past to show. History events and evidence keep the time they were really written.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal
from typing import TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone

from evidence import services as evidence

from .. import workflow
from ..models import (
    PURCHASE_MOVES,
    MovementReason,
    Notification,
    NotificationStatus,
    Order,
    PurchaseOnClose,
    PurchaseStatus,
    Refund,
    Sku,
    Status,
    Store,
    SupplierOrder,
)
from ..models.store import DEFAULT_CODE
from ..notifications import render_notification
from ..selectors.purchase import default_purchase_on_close, supplier_request_default
from .catalogue import (
    BUYER_CANCEL_ASK,
    BUYER_NO,
    BUYER_YES,
    BUYERS,
    CARRIERS,
    DEMO_PREFIX,
    SKUS,
    SUPPLIERS,
    png_bytes,
)
from .stores import EU, demo_store_of, ensure_demo_stores

SEED = 2026

# How many demo orders end up in each scenario (about 330 in all, every status represented).
SCENARIOS = {
    "awaiting_payment": 24,
    "paid": 22,
    "paid_after_buyer_refusal": 6,
    "shipped": 28,
    "shipped_after_return_refusal": 6,
    "completed": 70,
    "cancel_requested": 12,
    "refund_pending": 12,
    "escalated": 8,
    "return_requested": 10,
    "return_in_transit": 10,
    "return_received": 8,
    "supplier_refund_pending": 14,
    "disputed_supplier": 6,
    "disputed_buyer": 6,
    "closed_unpaid": 44,
    "closed_refunded": 24,
    "closed_supplier_refunded": 12,
    "closed_return_kept": 6,
    "closed_dispute": 10,
}
UNPAID_REASONS = (
    ["payment_timeout"] * 6
    + ["buyer_cancelled"] * 3
    + [
        "out_of_stock",
        "product_info_error",
        "suspected_fraud",
        "other",
    ]
)
PAID_REASONS = (
    ["buyer_cancelled"] * 3 + ["out_of_stock"] * 2 + ["product_info_error", "shipping_issue", "other"]
)
RETURN_REASONS = ["quality_issue"] * 4 + ["product_info_error"] * 2 + ["shipping_issue", "other"]


@dataclass
class Actors:
    operator: AbstractBaseUser | None
    supervisor: AbstractBaseUser | None
    finance: AbstractBaseUser | None


class _Seeder:
    def __init__(self, rng: random.Random, teams: dict[str, Actors], stores: dict[str, Store]) -> None:
        self.rng = rng
        self.teams = teams
        self.stores = stores
        # Who acts on the order at hand: the team of its store (set by run()).
        self.actors = teams[DEFAULT_CODE]
        self.now = timezone.now()
        self.serial = 0
        self.skus = self._skus()
        self.backdate: list[tuple[Order, datetime]] = []

    # --- building blocks -------------------------------------------------------------------

    def _skus(self) -> list[tuple[Sku, Decimal, Decimal]]:
        result = []
        for code, title, price, cost in SKUS:
            sku, created = Sku.objects.get_or_create(code=code, defaults={"title": title})
            if created:
                workflow.record_movement(
                    sku,
                    delta=self.rng.randint(40, 200),
                    reason=MovementReason.RESTOCK,
                    by=self.actors.supervisor,
                    note="Opening stock (demo)",
                )
            result.append((sku, price, cost))
        return result

    def new_order(self, *, max_age_days: float = 60, min_age_days: float = 0) -> Order:
        self.serial += 1
        sku, price, cost = self.rng.choice(self.skus)
        name, country, language, phone = self.rng.choice(BUYERS)
        quantity = self.rng.choices([1, 2, 3, 5], weights=[60, 25, 10, 5])[0]
        placed = self.now - timedelta(days=self.rng.uniform(min_age_days, max_age_days))
        order = Order.objects.create(
            platform_order_id=f"{DEMO_PREFIX}{self.serial:012d}",
            store=demo_store_of(self.serial, self.stores),
            platform_status="PLACE_ORDER_SUCCESS",
            buyer_name=name,
            buyer_email=f"{self._mailbox(name)}.{self.serial:04d}@example.com",
            buyer_phone=phone,
            buyer_country=country,
            buyer_language=language,
            sku=sku,
            product_title=sku.title,
            quantity=quantity,
            unit_price=price,
            total_amount=price * quantity,
            currency="USD",
            placed_at=placed,
            notes=self.rng.choice(["", "", "", "请尽快发货", "Gift, no invoice please"]),
        )
        supplier, contact = self.rng.choice(SUPPLIERS)
        # Not bought until the buyer pays (``bought``); its price is known from the listing.
        SupplierOrder.objects.create(
            order=order,
            supplier_name=supplier,
            supplier_contact=contact,
            status=PurchaseStatus.NOT_BOUGHT,
            quantity=quantity,
            amount=(cost * quantity).quantize(Decimal("0.01")),
        )
        return order

    def bought(self, order: Order, how: str) -> None:
        """The 1688 purchase placed (18-digit ids, as 1688 gives them), then shipped by the supplier
        or received in our warehouse or sent straight on, as ``how`` says."""
        purchase = order.supplier_orders.get()
        by = self.actors.operator
        if purchase.status == PurchaseStatus.NOT_BOUGHT:
            workflow.update_purchase(
                purchase,
                by=by,
                status=PurchaseStatus.PLACED,
                supplier_order_id=f"2202{self.serial:014d}",
                entry_ids=[f"2202{self.serial:012d}01"],
            )
        steps = {
            PurchaseStatus.SHIPPED: [PurchaseStatus.SHIPPED],
            PurchaseStatus.RECEIVED: [PurchaseStatus.SHIPPED, PurchaseStatus.RECEIVED],
            PurchaseStatus.FORWARDED: [PurchaseStatus.FORWARDED],
        }.get(how, [])
        for status in steps:
            purchase.refresh_from_db()
            if status in PURCHASE_MOVES[purchase.status]:
                workflow.update_purchase(purchase, by=by, status=status)

    @staticmethod
    def _mailbox(name: str) -> str:
        first = name.split()[0].lower()
        return first if first.isascii() else "buyer"

    def at(self, order: Order, hours: float) -> datetime:
        """A moment ``hours`` after the order was placed, never in the future."""
        return min(order.placed_at + timedelta(hours=hours), self.now - timedelta(minutes=10))

    def say(
        self, order: Order, kind: str, text: str, *, counterparty: str = "buyer", hours: float = 30
    ) -> None:
        inbound = kind in ("consent", "refusal")
        evidence.record_communication(
            order,
            by=self.actors.operator,
            counterparty=counterparty,
            channel="aliexpress_message" if counterparty == "buyer" else "1688_wangwang",
            direction="inbound" if inbound else "outbound",
            kind=kind,
            summary=text[:120],
            body=text,
            occurred_at=self.at(order, hours),
        )

    def attach_screenshot(self, order: Order, name: str) -> None:
        colour = (self.rng.randint(0, 255), self.rng.randint(0, 255), self.rng.randint(0, 255))
        upload = ContentFile(png_bytes(colour=colour), name=name)
        evidence.attach_file(order, by=self.actors.operator, file=upload)

    def attach_text(self, order: Order, name: str, text: str) -> None:
        evidence.attach_file(order, by=self.actors.operator, file=ContentFile(text.encode(), name=name))

    def lang(self, order: Order) -> str:
        return order.buyer_language if order.buyer_language in BUYER_YES else "en"

    # --- the paths of the article ----------------------------------------------------------

    def paid(self, order: Order) -> Order:
        done = workflow.mark_paid(
            order, by=self.actors.operator, paid_at=self.at(order, self.rng.uniform(0.2, 20))
        )
        # Paid, not shipped: the purchase not bought yet, placed, shipped by the supplier or in
        # our warehouse.
        how = self.rng.choices(
            ["", PurchaseStatus.PLACED, PurchaseStatus.SHIPPED, PurchaseStatus.RECEIVED],
            weights=[15, 50, 15, 20],
        )[0]
        if how:
            self.bought(order, how)
        return done

    def shipped(self, order: Order) -> Order:
        self.paid(order)
        # The goods went through our warehouse, or the supplier sent them straight on.
        self.bought(order, PurchaseStatus.FORWARDED if self.rng.random() < 0.15 else PurchaseStatus.RECEIVED)
        return workflow.mark_shipped(
            order,
            by=self.actors.operator,
            tracking_number=f"LP{self.rng.randint(10**11, 10**12 - 1)}CN",
            carrier=self.rng.choice(CARRIERS),
            shipped_at=self.at(order, self.rng.uniform(24, 96)),
        )

    def cancel_requested(self, order: Order) -> Order:
        self.paid(order)
        self.say(order, "message", BUYER_CANCEL_ASK[self.lang(order)])
        return workflow.request_cancellation(order, by=self.actors.operator)

    def refund_pending(self, order: Order) -> Order:
        self.cancel_requested(order)
        self.say(order, "consent", BUYER_YES[self.lang(order)], hours=40)
        partial = self.rng.random() < 0.15 and order.total_amount > Decimal("5.00")
        amount = (order.total_amount / 2).quantize(Decimal("0.01")) if partial else None
        reason = self.rng.choice(PAID_REASONS)
        # Goods in our warehouse go back to stock: such a close is not for "out of stock".
        if reason == "out_of_stock" and default_purchase_on_close(order) == PurchaseOnClose.TO_STOCK:
            reason = "buyer_cancelled"
        # The purchase: its default (cancel on 1688 what is placed, keep what is here).
        return workflow.record_buyer_consent(
            order,
            by=self.actors.operator,
            reason=reason,
            amount=amount,
            purchase_reference=f"TQ80000{self.rng.randint(10**10, 10**11 - 1)}",
            note="Buyer asked for the refund by message" if reason == "other" else "",
        )

    def escalated(self, order: Order) -> Order:
        self.refund_pending(order)
        self.attach_screenshot(order, "consent-screenshot.png")
        return workflow.escalate_to_support(
            order, by=self.actors.supervisor, reference=f"ALI-CS-{self.rng.randint(100000, 999999)}"
        )

    def return_requested(self, order: Order) -> Order:
        self.shipped(order)
        self.say(
            order, "message", "We are sorry about the item. Would you return it for a refund?", hours=150
        )
        return workflow.propose_return(order, by=self.actors.operator)

    def return_in_transit(self, order: Order) -> Order:
        self.return_requested(order)
        self.say(order, "consent", "Yes, I will send it back.", hours=170)
        reason = self.rng.choice(RETURN_REASONS)
        return workflow.record_return_agreement(
            order,
            by=self.actors.operator,
            reason=reason,
            tracking_number=f"RT{self.rng.randint(10**9, 10**10 - 1)}",
            note="Colour differs from the listing photo" if reason == "other" else "",
        )

    def return_received(self, order: Order, *, claim: bool = False, keep: bool = False) -> Order:
        """The goods back: resellable ones into our stock or (to claim, or one in two) back to
        the supplier, damaged ones back to the supplier, missing ones nowhere."""
        self.return_in_transit(order)
        condition = self.rng.choices(["resellable", "damaged", "missing"], weights=[60, 35, 5])[0]
        if keep:
            condition = "resellable"
        quantity = 0 if condition == "missing" else order.quantity
        back = None
        if condition == "resellable" and not keep and (claim or self.rng.random() < 0.5):
            back = quantity
        if condition != "resellable":
            self.attach_text(
                order,
                "inspection.txt",
                f"Return inspection {order.platform_order_id}: {condition}, {quantity} received.\n"
                "退货检验记录：外包装破损。\n",
            )
        return workflow.receive_return(
            order, by=self.actors.operator, quantity=quantity, condition=condition, to_supplier=back
        )

    def supplier_refund_pending(self, order: Order) -> Order:
        self.return_received(order, claim=True)
        _kind, _units, limit = supplier_request_default(order)
        amount = limit if self.rng.random() < 0.6 else (limit * Decimal("0.7")).quantize(Decimal("0.01"))
        if self.rng.random() < 0.5:
            purchase = order.supplier_orders.get()
            workflow.update_purchase(
                purchase,
                by=self.actors.operator,
                return_tracking_number=f"SF{self.rng.randint(10**11, 10**12 - 1)}",
            )
        return workflow.request_supplier_refund(
            order,
            by=self.actors.supervisor,
            amount=amount,
            reason="质量问题，买家退货 — defective goods returned by the buyer",
            reference=f"1688-RF-{self.rng.randint(10**7, 10**8 - 1)}",
        )

    def disputed_supplier(self, order: Order) -> Order:
        self.supplier_refund_pending(order)
        self.say(
            order,
            "refusal",
            "供应商：货物已售出，不接受退款。",
            counterparty="supplier",
            hours=260,
        )
        return workflow.record_supplier_refusal(
            order, by=self.actors.supervisor, reference=f"1688-DSP-{self.rng.randint(10**6, 10**7 - 1)}"
        )

    def disputed_buyer(self, order: Order) -> Order:
        self.shipped(order)
        return workflow.open_buyer_dispute(
            order, by=self.actors.operator, reference=f"ALI-DSP-{self.rng.randint(10**6, 10**7 - 1)}"
        )

    # --- scenarios ---------------------------------------------------------------------------

    def run(self, scenario: str) -> Order:
        young = scenario == "awaiting_payment"
        # Unpaid orders are at most 3 days old (older ones the timeout job closes).
        order = self.new_order(max_age_days=2.9 if young else 60, min_age_days=0 if young else 3)
        self.actors = self.teams[order.store.code]
        step: Callable[[Order], Order | None] = getattr(self, f"_scenario_{scenario}")
        step(order)
        return order

    def _scenario_awaiting_payment(self, order: Order) -> None:
        if self.rng.random() < 0.3 and order.placed_at < self.now - timedelta(days=1):
            workflow.send_payment_reminder(order, by=self.actors.operator)

    def _scenario_paid(self, order: Order) -> None:
        self.paid(order)

    def _scenario_paid_after_buyer_refusal(self, order: Order) -> None:
        self.cancel_requested(order)
        self.say(order, "refusal", BUYER_NO[self.lang(order)], hours=40)
        workflow.record_buyer_refusal(order, by=self.actors.operator)

    def _scenario_shipped(self, order: Order) -> None:
        self.shipped(order)

    def _scenario_shipped_after_return_refusal(self, order: Order) -> None:
        self.return_requested(order)
        self.say(order, "refusal", "No thanks, I will keep it.", hours=170)
        workflow.record_return_refusal(order, by=self.actors.operator)

    def _scenario_completed(self, order: Order) -> None:
        self.shipped(order)
        workflow.mark_completed(order, by=self.actors.operator)

    _scenario_cancel_requested = cancel_requested
    _scenario_refund_pending = refund_pending
    _scenario_escalated = escalated
    _scenario_return_requested = return_requested
    _scenario_return_in_transit = return_in_transit
    _scenario_return_received = return_received
    _scenario_supplier_refund_pending = supplier_refund_pending
    _scenario_disputed_supplier = disputed_supplier
    _scenario_disputed_buyer = disputed_buyer

    def _scenario_closed_unpaid(self, order: Order) -> None:
        reason = self.rng.choice(UNPAID_REASONS)
        by = None if reason == "payment_timeout" else self.actors.operator
        note = "Buyer wrote that they ordered twice" if reason == "other" else ""
        workflow.close_unpaid(order, by=by, reason=reason, note=note)
        hours = 72 if reason == "payment_timeout" else self.rng.uniform(1, 48)
        self.backdate.append((order, self.at(order, hours)))

    def _scenario_closed_refunded(self, order: Order) -> None:
        if self.rng.random() < 0.3:
            self.escalated(order)
        else:
            self.refund_pending(order)
        workflow.confirm_refund(
            order, by=self.actors.supervisor, reference=f"ALI-RF-{self.rng.randint(10**8, 10**9 - 1)}"
        )
        # A purchase cancelled on 1688: the supplier mostly agrees, sometimes refuses, and some
        # answers are still to come after the sale closed.
        for refund in Refund.objects.filter(order=order, direction="from_supplier", status="requested"):
            answer = self.rng.choices(["approved", "refused", "waiting"], weights=[70, 15, 15])[0]
            if answer == "approved":
                workflow.record_purchase_refund_approval(refund, by=self.actors.supervisor)
            elif answer == "refused":
                workflow.record_purchase_refund_refusal(
                    refund, by=self.actors.supervisor, note="供应商：已发货，不同意取消。"
                )
        self.backdate.append((order, self.at(order, self.rng.uniform(50, 200))))

    def _scenario_closed_supplier_refunded(self, order: Order) -> None:
        self.supplier_refund_pending(order)
        refund = Refund.objects.get(order=order, direction="from_supplier", status="requested")
        partial = self.rng.random() < 0.3
        workflow.record_supplier_approval(
            order,
            by=self.actors.supervisor,
            amount=(refund.amount * Decimal("0.8")).quantize(Decimal("0.01")) if partial else None,
            reference=f"1688-OK-{self.rng.randint(10**6, 10**7 - 1)}",
        )
        self.backdate.append((order, self.at(order, self.rng.uniform(250, 500))))

    def _scenario_closed_return_kept(self, order: Order) -> None:
        # The goods came back resellable into our stock: nothing to ask of the supplier.
        self.return_received(order, keep=True)
        workflow.close_return(order, by=self.actors.supervisor)
        self.backdate.append((order, self.at(order, self.rng.uniform(200, 400))))

    def _scenario_closed_dispute(self, order: Order) -> None:
        outcome = self.rng.choice(["won", "won", "partial", "lost"])
        if self.rng.random() < 0.5:
            self.disputed_supplier(order)
            limit = workflow.refundable(order, "from_supplier")
            amount = (limit / 2).quantize(Decimal("0.01")) if outcome == "partial" else None
            workflow.resolve_dispute(order, by=self.actors.supervisor, outcome=outcome, amount=amount)
        else:
            self.disputed_buyer(order)
            amount = (order.total_amount / 2).quantize(Decimal("0.01")) if outcome == "partial" else None
            workflow.resolve_dispute(
                order,
                by=self.actors.supervisor,
                outcome=outcome,
                amount=amount,
                reason=self.rng.choice(["quality_issue", "shipping_issue"]),
            )
        self.backdate.append((order, self.at(order, self.rng.uniform(300, 700))))

    # --- afterwards ----------------------------------------------------------------------------

    def mark_some_refunds_received(self) -> int:
        succeeded = Refund.objects.filter(
            order__platform_order_id__startswith=DEMO_PREFIX, status="succeeded"
        )
        count = 0
        for refund in succeeded.order_by("pk"):
            if self.rng.random() < 0.5:
                workflow.mark_refund_received(refund, by=self.actors.finance)
                count += 1
        return count

    def spread_over_time(self) -> None:
        # Demo only: the workflow stamps closes and refunds with "now"; move them to where the
        # order's own timeline puts them, so the analytics show a past. History events and
        # evidence (append-only) keep their real times.
        for order, closed_at in self.backdate:
            Order.objects.filter(pk=order.pk).update(
                closed_at=closed_at,
                status_changed_at=closed_at,
                close_started_at=closed_at - timedelta(hours=30),
            )
            for refund in Refund.objects.filter(order=order):
                fields = {"requested_at": closed_at - timedelta(hours=20)}
                if refund.succeeded_at:
                    fields["succeeded_at"] = closed_at
                if refund.received_at:
                    fields["received_at"] = closed_at + timedelta(days=self.rng.uniform(3, 12))
                Refund.objects.filter(pk=refund.pk).update(**fields)
        # Some supplier refunds still waiting are past their respond-by deadline.
        waiting = Refund.objects.filter(
            order__platform_order_id__startswith=DEMO_PREFIX, direction="from_supplier", status="requested"
        )
        for refund in waiting.order_by("pk"):
            if self.rng.random() < 0.5:
                days_ago = self.rng.uniform(4, 15)
                Refund.objects.filter(pk=refund.pk).update(
                    requested_at=self.now - timedelta(days=days_ago),
                    respond_by=self.now - timedelta(days=days_ago - 3),
                    chase_count=self.rng.randint(1, 4),
                )


def mark_demo_notifications_sent() -> int:
    """The demo's buyer and supplier messages belong to its made-up past: record them as sent
    (with the text they would have had) so that no worker delivers them to the console, on the
    first `make run` or any later one. Returns how many were marked."""
    pending = Notification.objects.filter(
        order__platform_order_id__startswith=DEMO_PREFIX, status=NotificationStatus.PENDING
    )
    count = 0
    for notification in pending.order_by("pk"):
        rendered = render_notification(notification)
        count += Notification.objects.filter(pk=notification.pk, status=NotificationStatus.PENDING).update(
            status=NotificationStatus.SENT,
            subject=rendered.subject,
            body=rendered.body,
            sent_at=notification.created_at,
        )
    return count


def _teams() -> dict[str, Actors]:
    """Who acts on each store's orders: its operator, and the supervisor and finance user, who
    work for both stores."""
    names = ["operator", "operator_eu", "supervisor", "finance"]
    users = {u.username: u for u in get_user_model().objects.filter(username__in=names)}
    # Without the demo users (a bare call from a shell) the system acts, which is always allowed.
    supervisor, finance = users.get("supervisor"), users.get("finance")
    return {
        DEFAULT_CODE: Actors(users.get("operator"), supervisor, finance),
        EU: Actors(users.get("operator_eu"), supervisor, finance),
    }


def seed_demo_orders(stdout: TextIO | None = None) -> None:
    """Create the demo orders (about 330, every status) through the workflow API. Idempotent:
    if demo orders exist, says so and changes nothing."""

    def say(text: str) -> None:
        if stdout is not None:
            stdout.write(text)

    if Order.objects.filter(platform_order_id__startswith=DEMO_PREFIX).exists():
        say("Demo orders already exist; nothing to do.")
        return
    rng = random.Random(SEED)  # noqa: S311 -- repeatable demo data, not secrets
    plan = [name for name, count in SCENARIOS.items() for _ in range(count)]
    rng.shuffle(plan)
    # The workflow records outbox rows (refund confirmations, reminders) as it would for real;
    # they are the demo's past, so they are marked sent here (seed_demo also keeps them from
    # being handed to the broker on commit).
    with transaction.atomic():
        seeder = _Seeder(rng, _teams(), ensure_demo_stores())
        for scenario in plan:
            seeder.run(scenario)
        received = seeder.mark_some_refunds_received()
        seeder.spread_over_time()
        mark_demo_notifications_sent()
    statuses = Counter(
        Order.objects.filter(platform_order_id__startswith=DEMO_PREFIX).values_list("status", flat=True)
    )
    say(f"Created {len(plan)} demo orders ({received} refunds marked received):")
    for status in Status:
        say(f"  {status.value:<24} {statuses.get(status.value, 0)}")
