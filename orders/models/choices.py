"""The choices and constants the models share: statuses, reasons, outcomes, directions."""

from django.db import models
from django.utils.translation import gettext_lazy as _

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


class MovementReason(models.TextChoices):
    OUT_OF_STOCK = "out_of_stock", _("Closed for out of stock")
    RETURN_RESELLABLE = "return_resellable", _("Resellable return")
    ADJUSTMENT = "adjustment", _("Stock count adjustment")
    RESTOCK = "restock", _("Goods received from supplier")


class NotificationChannel(models.TextChoices):
    EMAIL = "email", _("Email")
    SMS = "sms", _("SMS")
    # The team's chat robot (SHOPOPS_STAFF_WEBHOOK_URL): a hand-off said in the staff group chat.
    WEBHOOK = "webhook", _("Team chat")


class NotificationTemplate(models.TextChoices):
    REFUND_CONFIRMATION = "refund_confirmation", _("Refund confirmation")
    PAYMENT_REMINDER = "payment_reminder", _("Payment reminder")
    SUPPLIER_REMINDER = "supplier_reminder", _("Supplier refund reminder")
    OVERDUE_DIGEST = "overdue_digest", _("Overdue supplier refunds digest")
    STAFF_HANDOFF = "staff_handoff", _("Work handed to staff")
    STAFF_DIGEST = "staff_digest", _("Daily digest of work handed to staff")


class NotificationStatus(models.TextChoices):
    PENDING = "pending", _("Pending")
    SENDING = "sending", _("Sending")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    # A hand-off to someone who chose the daily digest: never sent alone, listed in the digest.
    HELD = "held", _("Held for the daily digest")
    DIGESTED = "digested", _("Sent in a daily digest")


class HandoffKind(models.TextChoices):
    """What waits, in a hand-off to staff (``orders.workflow.handoffs``)."""

    REFUND_TO_CONFIRM = "refund_to_confirm", _("A refund to confirm")
    RETURN_TO_CLAIM = "return_to_claim", _("A return received: ask the supplier for the refund")
    SUPPLIER_ANSWER_DUE = "supplier_answer_due", _("A supplier answer due")
    DISPUTE_TO_RESOLVE = "dispute_to_resolve", _("A dispute to resolve")
    FOLLOWUP_ASSIGNED = "followup_assigned", _("A feedback follow-up to handle")


class HandoffDelivery(models.TextChoices):
    """How a person is told of work handed to them (``StaffPreference.handoffs``)."""

    EACH = "each", _("An email for each, as it happens")
    DIGEST = "digest", _("One email a day listing them")


class FollowupStatus(models.TextChoices):
    NONE = "", _("No follow-up needed")
    NEW = "new", _("New")
    CONTACTED = "contacted", _("Buyer contacted")
    RESOLVED = "resolved", _("Resolved")
    UNRESOLVED = "unresolved", _("Unresolved")
