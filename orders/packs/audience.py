"""Who reads a pack, and what each reader may see: a whitelist per audience, never a blacklist.

**AliExpress** judges the buyer's case: the sale, its shipment and tracking, what was said with
the buyer (and with AliExpress's support), the photos and the inspection of goods that came back,
the refunds to the buyer. Never the supplier, what the goods cost us, what was said with the
supplier, or our own bookkeeping (a supplier asked, chased or refusing, a refund marked received
by Finance, a pack built, a contact corrected).

**1688** (the supplier, and 1688's reviewer) judges the purchase's case: the 1688 order id and
its entries, what was bought and paid, what came back and its inspection, the photos, what was
said with the supplier, the refunds asked of the supplier and their answers. Never the buyer
(name, email, phone, country, language), the sale's order or its price, or what the buyer got
back.

Only what is named here goes in: a step, an input of a step or a counterparty that is not listed
is in no pack until someone decides which audience may read it. Notes typed by our staff and who
did a step are ours and in no pack.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import TextChoices
from django.utils.translation import gettext_noop

from evidence.models import Attachment, Channel, Communication, Counterparty

from ..models import (
    CloseReason,
    DisputeWith,
    Outcome,
    PurchaseOnClose,
    PurchaseStatus,
    RefundDirection,
    ReturnCondition,
    SupplierRefundKind,
)


@dataclass(frozen=True)
class Field:
    """One input of a step that an audience may read: where it is, its label and how it reads
    (``text``, ``when``, ``money``, ``count``, ``list``, or the choices whose label it is)."""

    key: str  # in the event's data; ``close_reason`` is the event's own close reason
    label: str  # gettext_noop
    kind: str | type[TextChoices] = "text"


@dataclass(frozen=True)
class Step:
    """A history step an audience may read, the inputs of it it may read, and when it may read it
    (``only``: a test of the event's data, e.g. the direction of a refund)."""

    fields: tuple[Field, ...] = ()
    only: Callable[[dict[str, Any]], bool] | None = None
    label: str = ""  # gettext_noop; empty: the step's own label


def _to_buyer(data: dict[str, Any]) -> bool:
    return data.get("direction") == RefundDirection.TO_BUYER


def _from_supplier(data: dict[str, Any]) -> bool:
    return data.get("direction") == RefundDirection.FROM_SUPPLIER


def dispute_counterparty(data: dict[str, Any]) -> str:
    """Whose dispute a ``resolve_dispute`` event decided (an event from before this was recorded:
    the supplier's when it moved a supplier refund)."""
    if data.get("counterparty"):
        return data["counterparty"]
    return DisputeWith.SUPPLIER if _from_supplier(data) else DisputeWith.BUYER


def _buyers_dispute(data: dict[str, Any]) -> bool:
    return dispute_counterparty(data) == DisputeWith.BUYER


def _suppliers_dispute(data: dict[str, Any]) -> bool:
    return dispute_counterparty(data) == DisputeWith.SUPPLIER


def _cancelled_on_1688(data: dict[str, Any]) -> bool:
    return data.get("purchase") == PurchaseOnClose.CANCEL_ON_1688


CLOSE_REASON = Field("close_reason", gettext_noop("Close reason"), CloseReason)
BUYER_REFUND = Field("amount", gettext_noop("Refund to the buyer"), "money")
QUANTITY_RECEIVED = Field("quantity", gettext_noop("Quantity received"), "count")
CONDITION = Field("condition", gettext_noop("Condition"), ReturnCondition)
OUTCOME = Field("outcome", gettext_noop("Outcome"), Outcome)
SENT_BACK = Field("to_supplier", gettext_noop("Units sent back to the supplier"), "count")
KIND = Field("kind", gettext_noop("Kind of refund"), SupplierRefundKind)
UNITS = Field("units", gettext_noop("Units the refund covers"), "count")
REFUND_REFERENCE = Field("reference", gettext_noop("1688 refund reference"))

# The buyer's case, for AliExpress.
BUYER_STEPS: dict[str, Step] = {
    "mark_paid": Step((Field("paid_at", gettext_noop("Paid at"), "when"),)),
    "mark_shipped": Step(
        (
            Field("tracking_number", gettext_noop("Tracking number")),
            Field("carrier", gettext_noop("Carrier")),
            Field("shipped_at", gettext_noop("Shipped at"), "when"),
        )
    ),
    "mark_completed": Step(),
    "close_unpaid": Step((CLOSE_REASON,)),
    "send_payment_reminder": Step(),
    "request_cancellation": Step(),
    "record_buyer_refusal": Step(),
    "record_buyer_consent": Step((CLOSE_REASON, BUYER_REFUND)),
    "escalate_to_support": Step((Field("reference", gettext_noop("Platform support ticket reference")),)),
    "confirm_refund": Step((Field("reference", gettext_noop("Platform refund reference")),)),
    "create_refund": Step((BUYER_REFUND,), only=_to_buyer),
    "propose_return": Step(),
    "record_return_refusal": Step(),
    "record_return_agreement": Step(
        (CLOSE_REASON, Field("tracking_number", gettext_noop("Return tracking number")))
    ),
    "receive_return": Step((QUANTITY_RECEIVED, CONDITION, BUYER_REFUND)),
    "open_buyer_dispute": Step((Field("reference", gettext_noop("Buyer's dispute reference")),)),
    "resolve_dispute": Step(
        (OUTCOME, Field("amount", gettext_noop("Refunded to the buyer"), "money")), only=_buyers_dispute
    ),
}

# The purchase's case, for the supplier on 1688.
SUPPLIER_STEPS: dict[str, Step] = {
    "record_buyer_consent": Step(
        (Field("purchase_amount", gettext_noop("Amount asked of the supplier (CNY)"), "money"),),
        only=_cancelled_on_1688,
        label=gettext_noop("Purchase cancelled on 1688: refund of the unshipped goods asked"),
    ),
    "update_purchase": Step(
        (
            Field("supplier_order_id", gettext_noop("1688 order id")),
            Field("status", gettext_noop("Purchase status"), PurchaseStatus),
            Field("entry_ids", gettext_noop("1688 order entry ids"), "list"),
            Field("quantity", gettext_noop("Units bought"), "count"),
            Field("amount", gettext_noop("Amount (CNY)"), "money"),
            Field("return_tracking_number", gettext_noop("Return tracking number (to the supplier)")),
        )
    ),
    "receive_return": Step((QUANTITY_RECEIVED, CONDITION, SENT_BACK)),
    "request_supplier_refund": Step(
        (
            KIND,
            UNITS,
            Field("amount", gettext_noop("Amount asked of the supplier (CNY)"), "money"),
            Field("reason", gettext_noop("Why the supplier should refund")),
            REFUND_REFERENCE,
            Field("respond_by", gettext_noop("Answer by"), "when"),
        )
    ),
    "create_refund": Step(
        (KIND, UNITS, Field("amount", gettext_noop("Amount (CNY)"), "money")), only=_from_supplier
    ),
    "chase_supplier": Step((Field("chase_number", gettext_noop("Reminder number"), "count"),)),
    "record_supplier_approval": Step(
        (Field("amount", gettext_noop("Amount approved (CNY)"), "money"), REFUND_REFERENCE)
    ),
    "record_supplier_refusal": Step((Field("reference", gettext_noop("1688 dispute reference")),)),
    "purchase_refund_approved": Step(
        (KIND, Field("amount", gettext_noop("Amount approved (CNY)"), "money"), REFUND_REFERENCE)
    ),
    "purchase_refund_refused": Step((KIND, REFUND_REFERENCE)),
    "resolve_dispute": Step(
        (OUTCOME, Field("amount", gettext_noop("Refunded by the supplier"), "money")), only=_suppliers_dispute
    ),
}


def _buyer_side(communication: Communication) -> bool:
    # AliExpress's support is written to on any channel but 1688's.
    return communication.channel != Channel.WANGWANG


def _supplier_side(communication: Communication) -> bool:
    # 1688's support only on 1688's own channel; the supplier on any.
    return communication.counterparty == Counterparty.SUPPLIER or communication.channel == Channel.WANGWANG


@dataclass(frozen=True)
class Audience:
    target: str
    side: str  # whose case it reads: the sale's (``sale``) or the purchase's (``purchase``)
    language: str  # the summary's: the reviewer's
    counterparties: frozenset[str]  # the communications it reads (then ``reads`` decides)
    reads: Callable[[Communication], bool]
    steps: dict[str, Step] = field(default_factory=dict)
    currency: str = ""  # of the amounts in its steps; empty: the sale's

    def sees(self, communication: Communication) -> bool:
        return communication.counterparty in self.counterparties and self.reads(communication)

    def withheld(self, attachment: Attachment) -> bool:
        """A file of a communication this audience does not read (a screenshot of the chat with
        the supplier is not AliExpress's; one of the buyer's chat is not the supplier's). Files
        of no communication (photos, the inspection) go to either."""
        return attachment.communication is not None and not self.sees(attachment.communication)


AUDIENCES: dict[str, Audience] = {
    "aliexpress": Audience(
        "aliexpress",
        "sale",
        "en",
        frozenset({Counterparty.BUYER, Counterparty.PLATFORM_SUPPORT}),
        _buyer_side,
        BUYER_STEPS,
    ),
    "1688": Audience(
        "1688",
        "purchase",
        "zh-hans",
        frozenset({Counterparty.SUPPLIER, Counterparty.PLATFORM_SUPPORT}),
        _supplier_side,
        SUPPLIER_STEPS,
        currency="CNY",
    ),
}
