"""Orders, refunds, stock and history.

Models hold fields, choices and constraints, and their django-fsm transitions only declare the
rules (source, target, permission) and set fields in memory. The whole operation — locking,
evidence checks, history, refunds, stock and side effects — lives in ``orders.workflow``.
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

MONEY = {"max_digits": 12, "decimal_places": 2}


class Status(models.TextChoices):
    AWAITING_PAYMENT = "awaiting_payment", _("Awaiting payment")
    PAID = "paid", _("Paid, not shipped")
    SHIPPED = "shipped", _("Shipped")
    COMPLETED = "completed", _("Completed")
    CANCEL_REQUESTED = "cancel_requested", _("Cancellation under negotiation")
    REFUND_PENDING = "refund_pending", _("Refund in progress")
    ESCALATED = "escalated", _("With platform support")
    RETURN_REQUESTED = "return_requested", _("Return under negotiation")
    RETURN_IN_TRANSIT = "return_in_transit", _("Awaiting returned goods")
    RETURN_RECEIVED = "return_received", _("Return received")
    SUPPLIER_REFUND_PENDING = "supplier_refund_pending", _("Awaiting supplier")
    DISPUTED = "disputed", _("In dispute")
    CLOSED = "closed", _("Closed")


# The forward path an import may move an order along; anything else is a close workflow.
FORWARD_PATH = (Status.AWAITING_PAYMENT, Status.PAID, Status.SHIPPED, Status.COMPLETED)


class CloseReason(models.TextChoices):
    BUYER_CANCELLED = "buyer_cancelled", _("Buyer cancelled")
    PAYMENT_TIMEOUT = "payment_timeout", _("Buyer did not pay in time")
    OUT_OF_STOCK = "out_of_stock", _("Out of stock")
    PRODUCT_INFO_ERROR = "product_info_error", _("Wrong product information")
    QUALITY_ISSUE = "quality_issue", _("Quality / not as described")
    SHIPPING_ISSUE = "shipping_issue", _("Shipping problem")
    FORCE_MAJEURE = "force_majeure", _("Force majeure")
    SUSPECTED_FRAUD = "suspected_fraud", _("Risk control / fraud")
    OTHER = "other", _("Other (note required)")


class CloseStage(models.TextChoices):
    """How far the order had got when its close began."""

    UNPAID = "unpaid", _("Unpaid")
    PAID = "paid", _("Paid, not shipped")
    SHIPPED = "shipped", _("Shipped")


class Outcome(models.TextChoices):
    CANCELLED_UNPAID = "cancelled_unpaid", _("Cancelled before payment")
    REFUNDED = "refunded", _("Refunded to the buyer")
    SUPPLIER_REFUNDED = "supplier_refunded", _("Refunded by the supplier")
    WON = "won", _("Dispute won")
    PARTIAL = "partial", _("Dispute partly won")
    LOST = "lost", _("Dispute lost")


class ReturnCondition(models.TextChoices):
    RESELLABLE = "resellable", _("Resellable")
    DAMAGED = "damaged", _("Damaged")
    MISSING = "missing", _("Missing")


class Sku(models.Model):
    """A product we sell. ``stock_on_hand`` changes only through ``orders.stock``."""

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


class Order(FSMModelMixin, models.Model):
    """One AliExpress sale and where its close workflow stands."""

    platform_order_id = models.CharField(_("order id"), max_length=64, unique=True)
    status = FSMField(
        _("status"), max_length=32, choices=Status.choices, default=Status.AWAITING_PAYMENT, protected=True
    )
    platform_status = models.CharField(_("platform status"), max_length=64, blank=True)
    # The CSV import's fingerprint of the file row it last applied, and of this order's
    # ``updated_at`` then (orders.importing): a re-import of the same row, untouched since,
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
    payment_reminded_at = models.DateTimeField(_("payment reminder sent"), null=True, blank=True)

    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    updated_at = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("order")
        verbose_name_plural = _("orders")
        ordering = ["-placed_at", "-id"]
        indexes = [
            models.Index(fields=["status", "placed_at"], name="order_status_placed"),
            models.Index(fields=["-placed_at", "-id"], name="order_placed_desc"),
            # Partial: only closed orders have a close date, and every query by it asks for a
            # period (which implies one) — an import of open orders writes nothing here.
            models.Index(
                fields=["closed_at", "close_reason"],
                condition=Q(closed_at__isnull=False),
                name="order_closed_reason",
            ),
            # Close analytics: every figure is an index-only scan of the closed orders in a period
            # (PostgreSQL covers the columns it groups by; elsewhere a plain partial index).
            models.Index(
                fields=["closed_at"],
                include=["id", "close_reason", "close_stage", "close_started_at", "sku", "buyer_country"],
                condition=Q(status="closed"),
                name="order_closed_analytics",
            ),
            # Partial: searched by an exact, non-blank number only; unshipped orders have none.
            models.Index(fields=["tracking_number"], condition=~Q(tracking_number=""), name="order_tracking"),
            models.Index(fields=["buyer_email"], name="order_buyer_email"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(quantity__gte=1), name="order_quantity_positive"),
            models.CheckConstraint(condition=Q(total_amount__gte=0), name="order_total_not_negative"),
            models.CheckConstraint(
                condition=~Q(status=Status.CLOSED) | (~Q(close_reason="") & Q(closed_at__isnull=False)),
                name="order_closed_has_reason",
            ),
        ]
        permissions = [
            ("mark_paid", _("Can mark an order paid")),
            ("mark_shipped", _("Can mark an order shipped")),
            ("mark_completed", _("Can mark an order completed")),
            ("close_unpaid", _("Can close an unpaid order")),
            ("bulk_close", _("Can close unpaid orders in bulk")),
            ("request_cancellation", _("Can ask the buyer to cancel")),
            ("record_buyer_refusal", _("Can record the buyer's refusal to cancel")),
            ("record_buyer_consent", _("Can record the buyer's consent to cancel")),
            ("escalate_to_support", _("Can escalate to platform support")),
            ("confirm_refund", _("Can confirm the buyer refund")),
            ("propose_return", _("Can propose a return")),
            ("record_return_refusal", _("Can record the buyer's refusal to return")),
            ("record_return_agreement", _("Can record the buyer's agreement to return")),
            ("receive_return", _("Can receive returned goods")),
            ("request_supplier_refund", _("Can ask the supplier for a refund")),
            ("record_supplier_approval", _("Can record the supplier's approval")),
            ("record_supplier_refusal", _("Can record the supplier's refusal")),
            ("open_buyer_dispute", _("Can record a buyer dispute")),
            ("resolve_dispute", _("Can resolve a dispute")),
            ("send_payment_reminder", _("Can send payment reminders")),
            ("import_orders", _("Can import orders from CSV")),
            ("export_orders", _("Can export orders")),
            ("view_analytics", _("Can see close analytics")),
        ]

    def __str__(self) -> str:
        return self.platform_order_id

    @property
    def is_closed(self) -> bool:
        return self.status == Status.CLOSED

    # --- transitions: rules only; orders.workflow runs them -----------------------------------
    # Each sets the fields that belong to the move itself. Timestamps, actors and evidence
    # checks are the workflow's job.

    @transition(
        field=status, source=Status.AWAITING_PAYMENT, target=Status.PAID, permission="orders.mark_paid"
    )
    def mark_paid(self, paid_at):
        self.paid_at = paid_at

    @transition(field=status, source=Status.PAID, target=Status.SHIPPED, permission="orders.mark_shipped")
    def mark_shipped(self, tracking_number, carrier, shipped_at):
        self.tracking_number = tracking_number
        if carrier:
            self.carrier = carrier
        self.shipped_at = shipped_at

    @transition(
        field=status, source=Status.SHIPPED, target=Status.COMPLETED, permission="orders.mark_completed"
    )
    def mark_completed(self):
        pass

    @transition(
        field=status, source=Status.AWAITING_PAYMENT, target=Status.CLOSED, permission="orders.close_unpaid"
    )
    def close_unpaid(self, reason, note):
        self.close_reason = reason
        self.close_note = note
        self.close_stage = CloseStage.UNPAID
        self.outcome = Outcome.CANCELLED_UNPAID

    @transition(
        field=status,
        source=Status.PAID,
        target=Status.CANCEL_REQUESTED,
        permission="orders.request_cancellation",
    )
    def request_cancellation(self):
        self.close_stage = CloseStage.PAID

    @transition(
        field=status,
        source=Status.CANCEL_REQUESTED,
        target=Status.PAID,
        permission="orders.record_buyer_refusal",
    )
    def record_buyer_refusal(self):
        self.close_stage = ""
        self.close_started_at = None

    @transition(
        field=status,
        source=Status.CANCEL_REQUESTED,
        target=Status.REFUND_PENDING,
        permission="orders.record_buyer_consent",
    )
    def record_buyer_consent(self, reason, note):
        self.close_reason = reason
        self.close_note = note

    @transition(
        field=status,
        source=Status.REFUND_PENDING,
        target=Status.ESCALATED,
        permission="orders.escalate_to_support",
    )
    def escalate_to_support(self, reference):
        self.platform_reference = reference

    @transition(
        field=status,
        source=[Status.REFUND_PENDING, Status.ESCALATED],
        target=Status.CLOSED,
        permission="orders.confirm_refund",
    )
    def confirm_refund(self):
        self.outcome = Outcome.REFUNDED

    @transition(
        field=status,
        source=Status.SHIPPED,
        target=Status.RETURN_REQUESTED,
        permission="orders.propose_return",
    )
    def propose_return(self):
        self.close_stage = CloseStage.SHIPPED

    @transition(
        field=status,
        source=Status.RETURN_REQUESTED,
        target=Status.SHIPPED,
        permission="orders.record_return_refusal",
    )
    def record_return_refusal(self):
        self.close_stage = ""
        self.close_started_at = None

    @transition(
        field=status,
        source=Status.RETURN_REQUESTED,
        target=Status.RETURN_IN_TRANSIT,
        permission="orders.record_return_agreement",
    )
    def record_return_agreement(self, reason, note, tracking_number):
        self.close_reason = reason
        self.close_note = note
        if tracking_number:
            self.return_tracking_number = tracking_number

    @transition(
        field=status,
        source=Status.RETURN_IN_TRANSIT,
        target=Status.RETURN_RECEIVED,
        permission="orders.receive_return",
    )
    def receive_return(self):
        pass

    @transition(
        field=status,
        source=Status.RETURN_RECEIVED,
        target=Status.SUPPLIER_REFUND_PENDING,
        permission="orders.request_supplier_refund",
    )
    def request_supplier_refund(self):
        pass

    @transition(
        field=status,
        source=Status.SUPPLIER_REFUND_PENDING,
        target=Status.CLOSED,
        permission="orders.record_supplier_approval",
    )
    def record_supplier_approval(self):
        self.outcome = Outcome.SUPPLIER_REFUNDED

    @transition(
        field=status,
        source=Status.SUPPLIER_REFUND_PENDING,
        target=Status.DISPUTED,
        permission="orders.record_supplier_refusal",
    )
    def record_supplier_refusal(self, reference):
        self.platform_reference = reference

    @transition(
        field=status,
        source=[Status.SHIPPED, Status.RETURN_REQUESTED],
        target=Status.DISPUTED,
        permission="orders.open_buyer_dispute",
    )
    def open_buyer_dispute(self, reference):
        self.platform_reference = reference
        self.close_stage = CloseStage.SHIPPED

    @transition(
        field=status, source=Status.DISPUTED, target=Status.CLOSED, permission="orders.resolve_dispute"
    )
    def resolve_dispute(self, outcome):
        self.outcome = outcome


class SupplierOrder(models.Model):
    """The 1688 purchase order that sourced an AliExpress order. Amounts in CNY."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="supplier_orders")
    supplier_name = models.CharField(_("supplier"), max_length=200, blank=True)
    supplier_contact = models.EmailField(_("supplier contact"), blank=True)
    # Indexed below (exact, non-blank lookups only: no LIKE index beside it).
    supplier_order_id = models.CharField(_("1688 order id"), max_length=64, blank=True)
    amount = models.DecimalField(_("amount (CNY)"), **MONEY, null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("supplier order")
        verbose_name_plural = _("supplier orders")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["supplier_name"], name="supplierorder_name"),
            models.Index(
                fields=["supplier_order_id"], condition=~Q(supplier_order_id=""), name="supplierorder_1688_id"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="supplierorder_amount_not_negative"
            )
        ]

    def __str__(self) -> str:
        return self.supplier_order_id or f"{self.supplier_name} #{self.pk}"


class RefundDirection(models.TextChoices):
    TO_BUYER = "to_buyer", _("To buyer")
    FROM_SUPPLIER = "from_supplier", _("From supplier")


class RefundStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested")
    SUCCEEDED = "succeeded", _("Succeeded")
    RECEIVED = "received", _("Received")
    REJECTED = "rejected", _("Rejected")
    CANCELLED = "cancelled", _("Cancelled")


# Refunds in these states no longer count against what may still be refunded.
REFUND_RELEASED_STATUSES = (RefundStatus.REJECTED, RefundStatus.CANCELLED)


class Refund(FSMModelMixin, models.Model):
    """Money going back to a buyer, or coming back from a supplier."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    direction = models.CharField(_("direction"), max_length=16, choices=RefundDirection.choices)
    status = FSMField(
        _("status"),
        max_length=16,
        choices=RefundStatus.choices,
        default=RefundStatus.REQUESTED,
        protected=True,
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    reason = models.TextField(_("reason"), blank=True)
    reference = models.CharField(_("platform reference"), max_length=100, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    respond_by = models.DateTimeField(_("respond by"), null=True, blank=True)
    chase_count = models.PositiveIntegerField(_("times chased"), default=0)
    last_chased_at = models.DateTimeField(_("last chased"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(_("overdue reported"), null=True, blank=True)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    succeeded_at = models.DateTimeField(_("succeeded"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    ended_at = models.DateTimeField(_("rejected / cancelled"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["direction", "status", "respond_by"], name="refund_dir_status_due"),
            models.Index(fields=["status", "succeeded_at"], name="refund_status_succeeded"),
            # Close analytics sum the money that moved per order: an index-only scan on PostgreSQL.
            models.Index(
                fields=["order"],
                include=["direction", "currency", "amount"],
                condition=Q(status__in=["succeeded", "received"]),
                name="refund_moved_by_order",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]
        permissions = [("mark_refund_received", _("Can mark a refund received"))]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.amount} {self.currency}"

    @transition(field=status, source=RefundStatus.REQUESTED, target=RefundStatus.SUCCEEDED)
    def succeed(self, at, reference=""):
        self.succeeded_at = at
        if reference:
            self.reference = reference

    @transition(
        field=status,
        source=RefundStatus.SUCCEEDED,
        target=RefundStatus.RECEIVED,
        permission="orders.mark_refund_received",
    )
    def mark_received(self, at):
        self.received_at = at

    @transition(field=status, source=RefundStatus.REQUESTED, target=RefundStatus.REJECTED)
    def reject(self, at):
        self.ended_at = at

    @transition(field=status, source=RefundStatus.REQUESTED, target=RefundStatus.CANCELLED)
    def cancel(self, at):
        self.ended_at = at


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


class MovementReason(models.TextChoices):
    OUT_OF_STOCK = "out_of_stock", _("Closed for out of stock")
    RETURN_RESELLABLE = "return_resellable", _("Resellable return")
    ADJUSTMENT = "adjustment", _("Stock count adjustment")
    RESTOCK = "restock", _("Goods received from supplier")


class StockMovement(AppendOnlyModel):
    """A change to a SKU's stock on hand. The only way the figure changes."""

    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="movements")
    delta = models.IntegerField(_("change"))
    reason = models.CharField(_("reason"), max_length=32, choices=MovementReason.choices)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="stock_movements"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    stock_after = models.IntegerField(_("stock after"))
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.sku_id} {self.delta:+d}"


class NotificationChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")


class NotificationTemplate(models.TextChoices):
    REFUND_CONFIRMATION = "refund_confirmation", _("Refund confirmation")
    PAYMENT_REMINDER = "payment_reminder", _("Payment reminder")
    SUPPLIER_REMINDER = "supplier_reminder", _("Supplier refund reminder")
    OVERDUE_DIGEST = "overdue_digest", _("Overdue supplier refunds digest")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")


class Notification(models.Model):
    """The outbox: a message to send, recorded in the same transaction as its cause.

    ``key`` is unique per cause × channel × template (for example
    ``refund:42:email:refund_confirmation``), so recording it twice is impossible and the
    delivery task can be run any number of times.
    """

    key = models.CharField(_("key"), max_length=200, unique=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    refund = models.ForeignKey(
        Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    template = models.CharField(_("template"), max_length=32, choices=NotificationTemplate.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=NotificationChannel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    language = models.CharField(_("language"), max_length=16, default="en")
    context = models.JSONField(_("context"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text sent"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
        ]
        permissions = [("retry_notification", _("Can retry a failed notification"))]

    def __str__(self) -> str:
        return self.key


class FollowupStatus(models.TextChoices):
    NONE = "", _("No follow-up needed")
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Buyer contacted")
    RESOLVED = "resolved", _("Resolved")
    UNRESOLVED = "unresolved", _("Unresolved")


class Feedback(FSMModelMixin, models.Model):
    """A buyer's rating of an order; low ratings open a follow-up."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="feedback")
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    followup_status = FSMField(
        _("follow-up"), max_length=16, choices=FollowupStatus.choices, default=FollowupStatus.NONE, blank=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    followup_notes = models.TextField(_("follow-up notes"), blank=True)
    followup_opened_at = models.DateTimeField(_("follow-up opened"), null=True, blank=True)
    followup_closed_at = models.DateTimeField(_("follow-up closed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["followup_status", "received_at"], name="feedback_followup")]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="feedback_rating_1_5"),
            models.UniqueConstraint(
                fields=["order", "received_at", "rating"], name="feedback_unique_per_order_time"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.order_id} ★{self.rating}"

    # --- follow-up transitions: rules only; orders.feedback runs them -------------------------

    @transition(field=followup_status, source=FollowupStatus.NONE, target=FollowupStatus.NEW)
    def open_followup(self, at):
        self.followup_opened_at = at

    @transition(
        field=followup_status,
        source=FollowupStatus.NEW,
        target=FollowupStatus.CONTACTED,
        permission="orders.change_feedback",
    )
    def mark_contacted(self):
        pass

    @transition(
        field=followup_status,
        source=FollowupStatus.CONTACTED,
        target=FollowupStatus.RESOLVED,
        permission="orders.change_feedback",
    )
    def resolve(self, at):
        self.followup_closed_at = at

    @transition(
        field=followup_status,
        source=FollowupStatus.CONTACTED,
        target=FollowupStatus.UNRESOLVED,
        permission="orders.change_feedback",
    )
    def mark_unresolved(self, at):
        self.followup_closed_at = at


class OrderImport(AppendOnlyModel):
    """One order file applied by the CSV import: who imported which file, when, and the outcome.

    The import history, written once per import that was not a dry run and had no invalid row.
    It also lets a re-import of the very same bytes be recognised without reading a row: after
    an import that refused nothing, every order of the file is as the file says. ``order_ranges``
    are those orders (primary keys, as ``[first, last]`` runs) and ``checksum`` sums a hash of
    their ``updated_at``; while it is the same, none of them has changed and the file changes
    nothing — exactly what checking each row would find (``orders.importing``).
    """

    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, db_index=True)
    # The import's parsing rules and platform time zone: the same bytes mean the same orders
    # only under the same rules.
    rules = models.CharField(_("rules"), max_length=100)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    imported_at = models.DateTimeField(_("imported"), default=timezone.now, db_index=True)
    rows = models.PositiveIntegerField(_("rows"))
    new = models.PositiveIntegerField(_("new"))
    updated = models.PositiveIntegerField(_("updated"))
    unchanged = models.PositiveIntegerField(_("unchanged"))
    refused = models.PositiveIntegerField(_("refused"))
    moves = models.PositiveIntegerField(_("status moves"))
    # Empty when the import cannot vouch for the file (rows refused, or too scattered orders).
    order_ranges = models.JSONField(_("orders"), default=list, blank=True, editable=False)
    checksum = models.CharField(_("checksum"), max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("order import")
        verbose_name_plural = _("order imports")
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"
