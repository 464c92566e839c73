"""The close workflow: the only code that changes an order's business state.

One function per transition of SPEC section 7, the same name everywhere::

    from orders import workflow
    workflow.close_unpaid(order, by=user, reason="out_of_stock", note="")

Each takes the order (an ``Order`` or its primary key), the acting user as ``by=`` (``None`` is
the system) and its inputs by name; it checks the permission, locks the order, checks the
source state and the evidence its declaration (``orders.transitions``) requires, checks its own
rules, moves the order, writes one history event and schedules side effects after commit, all
in one transaction (``core.transition``), and returns the updated order. A refusal raises
``shopops.errors.Refused`` with a message for an operator, and writes nothing. Every step also
takes ``take_over=True``: run it on an order a colleague is handling, which becomes the caller's
(without it, ``assignment.HandledByOther``); an unassigned order becomes the caller's anyway.

The modules follow the order's life: ``fulfilment`` (paid, shipped, completed), ``unpaid``,
``cancellation``, ``returns``, ``supplier``, ``disputes``; ``purchase`` is the 1688 purchase's
own life (what each close does with it, its refunds' answers); ``refunds`` and ``stock`` are the
money and goods those transitions move; ``team`` who handles an order (``claim_order``,
``assign_order``, SPEC §11) and ``handoffs`` who is told of work waiting on them; ``inputs``
parses what operators type; ``events`` writes history rows.
"""

# A read, kept here for callers that knew it as the workflow's (orders.selectors holds it).
from ..selectors.refunds import refundable
from ..transitions import TRANSITIONS
from .cancellation import (
    confirm_refund,
    escalate_to_support,
    record_buyer_consent,
    record_buyer_refusal,
    request_cancellation,
)
from .contacts import correct_contact as correct_contact
from .core import status_label
from .disputes import open_buyer_dispute, resolve_dispute
from .fulfilment import mark_completed, mark_paid, mark_shipped
from .imported import apply_import_changes, apply_import_changes_batch
from .purchase import record_purchase_refund_approval, record_purchase_refund_refusal, update_purchase
from .refund_filing import retry_filing
from .refunds import cancel_refund, create_refund, mark_refund_received
from .returns import propose_return, receive_return, record_return_agreement, record_return_refusal
from .stock import adjust_stock, mark_out_of_stock, record_movement
from .supplier import (
    close_return,
    record_supplier_approval,
    record_supplier_refusal,
    request_supplier_refund,
)
from .team import assign_order, assign_orders, claim_order
from .unpaid import close_unpaid, send_payment_reminder

__all__ = [
    "TRANSITIONS",
    "adjust_stock",
    "apply_import_changes",
    "apply_import_changes_batch",
    "assign_order",
    "assign_orders",
    "cancel_refund",
    "claim_order",
    "close_return",
    "close_unpaid",
    "confirm_refund",
    "create_refund",
    "escalate_to_support",
    "mark_completed",
    "mark_out_of_stock",
    "mark_paid",
    "mark_refund_received",
    "mark_shipped",
    "open_buyer_dispute",
    "propose_return",
    "receive_return",
    "record_buyer_consent",
    "record_buyer_refusal",
    "record_movement",
    "record_purchase_refund_approval",
    "record_purchase_refund_refusal",
    "record_return_agreement",
    "record_return_refusal",
    "record_supplier_approval",
    "record_supplier_refusal",
    "refundable",
    "request_cancellation",
    "request_supplier_refund",
    "resolve_dispute",
    "retry_filing",
    "send_payment_reminder",
    "status_label",
    "update_purchase",
]
