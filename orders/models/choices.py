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


class DisputeWith(models.TextChoices):
    """Whose dispute an order is in: it says where it is decided and in which currency."""

    BUYER = "buyer", _("The buyer, on AliExpress")
    SUPPLIER = "supplier", _("The supplier, on 1688")


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


class SupplierRefundKind(models.TextChoices):
    """1688's own two kinds of refund request (``disputeRequest`` of ``createRefund``)."""

    REFUND = "refund", _("Money only (goods not shipped, or not back with us)")
    RETURN_REFUND = "return_refund", _("Goods sent back")


# 1688's name for each kind (``disputeRequest``).
REFUND_KIND_1688 = {SupplierRefundKind.REFUND: "refund", SupplierRefundKind.RETURN_REFUND: "returnRefund"}


class PurchaseStatus(models.TextChoices):
    """Where the 1688 purchase behind a sale stands (``SupplierOrder.status``)."""

    NOT_BOUGHT = "not_bought", _("Not bought yet")
    PLACED = "placed", _("Placed, not shipped by the supplier")
    SHIPPED = "shipped", _("Shipped by the supplier")
    RECEIVED = "received", _("Received in our warehouse")
    FORWARDED = "forwarded", _("Sent straight on to the buyer")
    CANCELLED = "cancelled", _("Cancelled on 1688")


# Purchases whose money was paid to the supplier (a purchase not bought yet cost nothing).
BOUGHT_STATUSES = (
    PurchaseStatus.PLACED,
    PurchaseStatus.SHIPPED,
    PurchaseStatus.RECEIVED,
    PurchaseStatus.FORWARDED,
    PurchaseStatus.CANCELLED,
)
# The moves a purchase may make by hand (``workflow.purchase.update_purchase``); the closes make
# their own (goods kept → received; a cancellation refunded → cancelled).
PURCHASE_MOVES = {
    PurchaseStatus.NOT_BOUGHT: (PurchaseStatus.PLACED, PurchaseStatus.CANCELLED),
    PurchaseStatus.PLACED: (PurchaseStatus.SHIPPED, PurchaseStatus.RECEIVED, PurchaseStatus.FORWARDED),
    PurchaseStatus.SHIPPED: (PurchaseStatus.RECEIVED, PurchaseStatus.FORWARDED),
    PurchaseStatus.RECEIVED: (),
    PurchaseStatus.FORWARDED: (),
    PurchaseStatus.CANCELLED: (),
}


# The sale's statuses in which the goods have left us.
SHIPPED_SALES = (
    "shipped",
    "completed",
    "return_requested",
    "return_in_transit",
    "return_received",
    "supplier_refund_pending",
    "disputed",
)


def choice_label(choices: type[models.TextChoices], value: str) -> str:
    """The label of ``value`` among ``choices``, in the active language; the value itself when
    it is not one of them (a row written before a choice was renamed).

    Cheaper than a model's ``get_FOO_display()``, which makes every choice of the field hashable
    again on each call (4 % of the order list's rendering)."""
    try:
        return str(choices(value).label)
    except ValueError:
        return value


def purchase_status_for(sale_status: str, *, bought: bool) -> str:
    """The status of a purchase that arrives with its sale (an import): not bought without a 1688
    id or amount; received in our warehouse behind a sale that shipped; placed otherwise."""
    if not bought:
        return PurchaseStatus.NOT_BOUGHT
    return PurchaseStatus.RECEIVED if sale_status in SHIPPED_SALES else PurchaseStatus.PLACED


class PurchaseOnClose(models.TextChoices):
    """What a paid, not shipped close does with the purchase (``record_buyer_consent``'s ``purchase``)."""

    NOT_BOUGHT = "not_bought", _("Not bought yet: nothing to undo")
    TO_STOCK = "to_stock", _("Goods in our warehouse: they go to our stock")
    CANCEL_ON_1688 = "cancel_on_1688", _("Cancel on 1688: ask the supplier to refund the unshipped goods")


# Refunds in these states no longer count against what may still be refunded.
REFUND_RELEASED_STATUSES = (RefundStatus.REJECTED, RefundStatus.CANCELLED)


class MovementReason(models.TextChoices):
    OUT_OF_STOCK = "out_of_stock", _("Closed for out of stock")
    RETURN_RESELLABLE = "return_resellable", _("Resellable return")
    ADJUSTMENT = "adjustment", _("Stock count adjustment")
    RESTOCK = "restock", _("Goods received from supplier")
    PURCHASE_KEPT = "purchase_kept", _("Sale cancelled, its goods kept in stock")


# The movements that put an order's goods in our stock: the loss ledger's "goods back".
GOODS_BACK_REASONS = (MovementReason.RETURN_RESELLABLE, MovementReason.PURCHASE_KEPT)


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
