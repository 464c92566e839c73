"""The order, its SKU and its history events (the 1688 purchase: ``orders.models.purchase``).

The django-fsm transitions of ``Order`` only declare the rules (source, target, permission) and
set fields in memory; the whole operation lives in ``orders.workflow``.
"""

from decimal import Decimal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from shopops.appendonly import AppendOnlyModel

from ..transitions import TRANSITIONS
from .choices import (
    MONEY,
    CloseReason,
    CloseStage,
    DisputeWith,
    Outcome,
    Status,
)
from .store import Store


class Sku(models.Model):
    """A product we sell. ``stock_on_hand`` changes only through ``orders.workflow.stock``."""

    code = models.CharField(_("SKU code"), max_length=64, unique=True)
    title = models.CharField(_("title"), max_length=255, blank=True)
    stock_on_hand = models.IntegerField(_("stock on hand"), default=0, editable=False)
    out_of_stock = models.BooleanField(_("out of stock"), default=False, editable=False)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("SKU")
        verbose_name_plural = _("SKUs")
        ordering = ["code"]
        permissions = [("adjust_stock", _("Can adjust stock through a movement"))]

    def __str__(self) -> str:
        return self.code


def declared(*, field, source, target):
    """django-fsm's ``@transition`` with the permission of the declaration named like the method
    (``orders.transitions``): the role of each step is spelled once, there."""

    def decorate(method):
        permission = TRANSITIONS[method.__name__].permission
        return transition(field=field, source=source, target=target, permission=permission)(method)

    return decorate


class Order(FSMModelMixin, models.Model):
    """One AliExpress sale and where its close workflow stands."""

    # Unique: its btree serves every lookup by the id (typed whole: the search, the import's
    # probe). Django's extra ``varchar_pattern_ops`` index for ``LIKE 'x%'`` is dropped on
    # PostgreSQL (migration 0031): no query of the app matches the beginning of an order id.
    platform_order_id = models.CharField(_("order id"), max_length=64, unique=True)
    # The seller account it was sold on: who may see and act on it (orders.policy). Looked up
    # through the (store, -placed_at) index below: no separate index.
    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="orders", db_index=False
    )
    status = FSMField(
        _("status"), max_length=32, choices=Status.choices, default=Status.AWAITING_PAYMENT, protected=True
    )
    platform_status = models.CharField(_("platform status"), max_length=64, blank=True)
    # The CSV import's fingerprint of the file row it last applied, and of this order's
    # ``updated_at`` then (orders.imports.history): a re-import of the same row, untouched since,
    # is recognised without re-checking or re-reading every field.
    import_hash = models.CharField(_("import fingerprint"), max_length=64, blank=True, editable=False)
    status_changed_at = models.DateTimeField(_("status since"), default=timezone.now, editable=False)

    buyer_name = models.CharField(_("buyer"), max_length=200)
    buyer_email = models.EmailField(_("buyer email"), blank=True)
    buyer_phone = models.CharField(_("buyer phone"), max_length=32, blank=True)
    buyer_country = models.CharField(_("country"), max_length=2, blank=True)
    buyer_language = models.CharField(_("buyer language"), max_length=16, blank=True, default="en")

    sku = models.ForeignKey(Sku, verbose_name=_("SKU"), on_delete=models.PROTECT, related_name="orders")
    product_title = models.CharField(_("product"), max_length=255, blank=True)
    quantity = models.PositiveIntegerField(_("quantity"), default=1)
    unit_price = models.DecimalField(_("unit price"), **MONEY, default=Decimal("0.00"))
    total_amount = models.DecimalField(_("amount paid"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3, default="USD")

    placed_at = models.DateTimeField(_("placed"), default=timezone.now)
    paid_at = models.DateTimeField(_("paid"), null=True, blank=True)
    shipped_at = models.DateTimeField(_("shipped"), null=True, blank=True)
    tracking_number = models.CharField(_("tracking number"), max_length=64, blank=True)
    carrier = models.CharField(_("carrier"), max_length=64, blank=True)
    return_tracking_number = models.CharField(_("return tracking number"), max_length=64, blank=True)
    notes = models.TextField(_("notes"), blank=True)

    close_reason = models.CharField(_("close reason"), max_length=32, choices=CloseReason.choices, blank=True)
    close_note = models.TextField(_("close note"), blank=True)
    close_stage = models.CharField(
        _("closed at stage"), max_length=16, choices=CloseStage.choices, blank=True
    )
    close_started_at = models.DateTimeField(_("close started"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True)
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("closed by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,  # never looked up by; users are never deleted (PROTECT)
    )
    outcome = models.CharField(_("outcome"), max_length=32, choices=Outcome.choices, blank=True)
    platform_reference = models.CharField(
        _("platform ticket / dispute reference"), max_length=100, blank=True
    )
    # Whose dispute the order is (or was) in: the buyer on AliExpress, or the supplier on 1688.
    dispute_with = models.CharField(
        _("dispute with"), max_length=16, choices=DisputeWith.choices, blank=True, default="", db_default=""
    )
    payment_reminded_at = models.DateTimeField(_("payment reminder sent"), null=True, blank=True)
    # Who is handling the order (SPEC §11): claimed by an operator, assigned by a supervisor, or
    # taken by the first step someone runs on it (orders.workflow.assignment). Looked up through
    # the (assignee, status) index below: no separate index.
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("handled by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="assigned_orders",
        db_index=False,
    )

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["status", "placed_at"], name="order_status_placed"),
            models.Index(fields=["-placed_at", "-id"], name="order_placed_desc"),
            # The order list of a user of some stores: newest first within their stores.
            models.Index(fields=["store", "-placed_at", "-id"], name="order_store_placed"),
            # A user of some stores filtering by status: the page and its count from one index.
            models.Index(fields=["store", "status", "-placed_at", "-id"], name="order_store_status_placed"),
            # Partial: only closed orders have a close date, and every query by it asks for a
            # period (which implies one) — an import of open orders writes nothing here.
            models.Index(
                fields=["closed_at", "close_reason"],
                condition=Q(closed_at__isnull=False),
                name="order_closed_reason",
            ),
            # Close analytics: every figure is an index-only scan of the closed orders in a period
            # (PostgreSQL covers the columns it groups by; elsewhere a plain partial index).
            # The loss ledger reads the amounts and dates of the same closes from it too.
            models.Index(
                fields=["closed_at"],
                include=[
                    "id",
                    "close_reason",
                    "close_stage",
                    "close_started_at",
                    "sku",
                    "buyer_country",
                    "currency",
                    "total_amount",
                    "paid_at",
                    "shipped_at",
                    "quantity",
                    # A user of some stores: their closes from the index alone (issue 20).
                    "store",
                ],
                condition=Q(status="closed"),
                name="order_closed_analytics",
            ),
            # Partial: searched by an exact, non-blank number only; unshipped orders have none.
            models.Index(fields=["tracking_number"], condition=~Q(tracking_number=""), name="order_tracking"),
            # No btree on buyer_email: nothing looks an email up whole; the search's "part of an
            # email" reads the trigram index (migration 0015), and a btree beside it only cost
            # every new order's import an index entry (migration 0031).
            # "Mine" and the team page: a person's open orders. Partial: every query by it names
            # a person (an unassigned order is found through the status indexes), so an import of
            # new orders, none assigned, writes nothing here.
            models.Index(
                fields=["assignee", "status"],
                condition=Q(assignee__isnull=False),
                name="order_assignee_status",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_quantity_positive"),
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=~Q(status=Status.CLOSED) | (~Q(close_reason="") & Q(closed_at__isnull=False)),
                name="order_closed_has_reason",
            ),
        ]
        # One per transition, declared in orders/transitions.py; then the operations that are not
        # transitions of the order's state.
        permissions = [
            *[(t.codename, _(t.permission_label)) for t in TRANSITIONS.values()],
            ("bulk_close", _("Can close unpaid orders in bulk")),
            ("send_payment_reminder", _("Can send payment reminders")),
            ("import_orders", _("Can import orders from CSV")),
            ("export_orders", _("Can export orders")),
            ("view_analytics", _("Can see close analytics")),
            ("claim_order", _("Can take on an order")),
            ("assign_order", _("Can assign orders to others")),
        ]

    def __str__(self) -> str:
        return self.platform_order_id

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED

    # --- transitions: rules only; orders.workflow runs them -----------------------------------
    # Each sets the fields that belong to the move itself. Timestamps, actors and evidence
    # checks are the workflow's job.

    @declared(field=status, source=Status.AWAITING_PAYMENT, target=Status.PAID)
    def mark_paid(self, paid_at):
        self.paid_at = paid_at

    @declared(field=status, source=Status.PAID, target=Status.SHIPPED)
    def mark_shipped(self, tracking_number, carrier, shipped_at):
        self.tracking_number = tracking_number
        if carrier:
            self.carrier = carrier
        self.shipped_at = shipped_at

    @declared(field=status, source=Status.SHIPPED, target=Status.COMPLETED)
    def mark_completed(self):
        pass

    @declared(field=status, source=Status.AWAITING_PAYMENT, target=Status.CLOSED)
    def close_unpaid(self, reason, note):
        self.close_reason = reason
        self.close_note = note
        self.close_stage = CloseStage.UNPAID
        self.outcome = Outcome.CANCELLED_UNPAID

    @declared(field=status, source=Status.PAID, target=Status.CANCEL_REQUESTED)
    def request_cancellation(self):
        self.close_stage = CloseStage.PAID

    @declared(field=status, source=Status.CANCEL_REQUESTED, target=Status.PAID)
    def record_buyer_refusal(self):
        self.close_stage = ""
        self.close_started_at = None

    @declared(field=status, source=Status.CANCEL_REQUESTED, target=Status.REFUND_PENDING)
    def record_buyer_consent(self, reason, note):
        self.close_reason = reason
        self.close_note = note

    @declared(field=status, source=Status.REFUND_PENDING, target=Status.ESCALATED)
    def escalate_to_support(self, reference):
        self.platform_reference = reference

    @declared(field=status, source=[Status.REFUND_PENDING, Status.ESCALATED], target=Status.CLOSED)
    def confirm_refund(self):
        self.outcome = Outcome.REFUNDED

    @declared(field=status, source=Status.SHIPPED, target=Status.RETURN_REQUESTED)
    def propose_return(self):
        self.close_stage = CloseStage.SHIPPED

    @declared(field=status, source=Status.RETURN_REQUESTED, target=Status.SHIPPED)
    def record_return_refusal(self):
        self.close_stage = ""
        self.close_started_at = None

    @declared(field=status, source=Status.RETURN_REQUESTED, target=Status.RETURN_IN_TRANSIT)
    def record_return_agreement(self, reason, note, tracking_number):
        self.close_reason = reason
        self.close_note = note
        if tracking_number:
            self.return_tracking_number = tracking_number

    @declared(field=status, source=Status.RETURN_IN_TRANSIT, target=Status.RETURN_RECEIVED)
    def receive_return(self):
        pass

    @declared(field=status, source=Status.RETURN_RECEIVED, target=Status.SUPPLIER_REFUND_PENDING)
    def request_supplier_refund(self):
        pass

    @declared(field=status, source=Status.RETURN_RECEIVED, target=Status.CLOSED)
    def close_return(self):
        self.outcome = Outcome.REFUNDED

    @declared(field=status, source=Status.SUPPLIER_REFUND_PENDING, target=Status.CLOSED)
    def record_supplier_approval(self):
        self.outcome = Outcome.SUPPLIER_REFUNDED

    @declared(field=status, source=Status.SUPPLIER_REFUND_PENDING, target=Status.DISPUTED)
    def record_supplier_refusal(self, reference):
        self.platform_reference = reference
        self.dispute_with = DisputeWith.SUPPLIER

    @declared(field=status, source=[Status.SHIPPED, Status.RETURN_REQUESTED], target=Status.DISPUTED)
    def open_buyer_dispute(self, reference):
        self.platform_reference = reference
        self.close_stage = CloseStage.SHIPPED
        self.dispute_with = DisputeWith.BUYER

    @declared(field=status, source=Status.DISPUTED, target=Status.CLOSED)
    def resolve_dispute(self, outcome):
        self.outcome = outcome


class OrderEvent(AppendOnlyModel):
    """One line of an order's history: written by the workflow for every transition."""

    # Looked up through the (order, -created_at) index below: no separate index.
    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="events", db_index=False)
    transition = models.CharField(_("transition"), max_length=64)
    from_status = models.CharField(_("from"), max_length=32, blank=True)
    to_status = models.CharField(_("to"), max_length=32, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)
    reason = models.CharField(_("reason"), max_length=64, blank=True)
    data = models.JSONField(_("inputs"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("history event")
        verbose_name_plural = _("history events")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["order", "-created_at"], name="event_order_time")]

    def __str__(self) -> str:
        return f"{self.order_id} {self.transition}: {self.from_status} → {self.to_status}"
