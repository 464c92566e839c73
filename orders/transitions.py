"""One declaration per transition of SPEC section 7: the single source of what a transition is.

Each :class:`Transition` names the workflow function (``orders.workflow.<name>``), its label,
its inputs (the function's keyword arguments: kind, label, help text, default rule), the
evidence that must be recorded first, the permission and the groups that hold it. From these
declarations come:

- the model permissions (``Order.Meta.permissions``) and the groups (``orders.groups``, applied
  by the migrations through ``resync_groups``),
- the transition forms, their initial values and the "record it now" evidence form
  (``orders.forms``),
- the order page's buttons and the timeline labels (``orders.workflow.events.event_label``),
- ``docs/workflow.md`` (``python manage.py workflow_diagram --write``).

This module is plain data: it imports no model (``orders.models`` imports it), so choice values
are written as strings ("buyer", "consent", ...). ``tests/test_transitions.py`` checks every
declaration against the models, the groups, the forms and the workflow functions.

Adding a transition: its function in ``orders/workflow/``, its ``@transition`` rule on the model,
its declaration here, and a migration (``AlterModelOptions`` for the new permission plus a
``RunPython`` of ``orders.groups.resync_groups``). See ``docs/changes.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_noop

OPERATOR = "Operator"
SUPERVISOR = "Supervisor"
# The Supervisor holds every Operator permission as well (SPEC section 5).
BY_OPERATORS = (OPERATOR, SUPERVISOR)
BY_SUPERVISORS = (SUPERVISOR,)

# Input kinds: what the form (orders.forms) makes of each.
KINDS = {
    "text": "one line of text (at most `max_length`)",
    "note": "several lines of text",
    "money": "an amount with two decimals, more than 0 (0 allowed with `allow_zero`)",
    "datetime": "a date and time",
    "close_reason": "a close reason",
    "outcome": "won, partial or lost",
    "condition": "resellable, damaged or missing",
    "quantity": "a whole number from 0 to the order's quantity",
    "stock_count": "a whole number, 0 or more: the units of the order's SKU really in stock",
    "purchase_on_close": "not_bought, to_stock or cancel_on_1688: what a paid, not shipped close does "
    "with the 1688 purchase (docs/purchase.md)",
    "refund_kind": "refund (money only) or return_refund (goods sent back): 1688's two kinds of refund",
    "counterparty": "buyer (on AliExpress, in the sale's currency) or supplier (on 1688, in CNY)",
}

# What an amount's currency is (``Input.currency``), shown after its label on the form.
CURRENCY_RULES = {
    "order": "the sale's currency",
    "dispute": "the sale's currency for a buyer's dispute, CNY for a supplier's",
}

# Default rules: an input's initial value on the form (orders.forms.transition_initial).
DEFAULT_RULES = {
    "refundable": "what may still be refunded to the buyer",
    "supplier_refundable": "what the units asked for cost, within what may still be asked of the supplier",
    "pending_supplier_amount": "the amount of the supplier refund waiting for an answer",
    "respond_by": "now + the store's supplier respond-by days (`SHOPOPS_SUPPLIER_RESPOND_DAYS`)",
    "order_quantity": "the order's quantity",
    "none_in_stock": "0: nothing left in stock",
    "order_close_reason": "the close reason already recorded on the order",
    "order_carrier": "the carrier already recorded on the order",
    "purchase_on_close": "from the purchase: placed or on its way → cancel_on_1688; received → to_stock; "
    "none bought → not_bought",
    "supplier_refund_kind": "return_refund when units went back to the supplier and are not asked for yet, "
    "else refund",
    "supplier_refund_units": "all the units the kind may still cover (never units in our stock)",
    "dispute_with": "whose dispute the order is in: the supplier after “Supplier refused”, the buyer "
    "after “Buyer opened a dispute”",
}
# The default rules that show a field of the order which the transition may change: its form
# carries the version of those fields (orders.workflow.versions), and a submit from a form read
# before someone else changed them is refused (409) rather than overwrite the change.
SHOWN_ORDER_FIELDS = {"order_close_reason": "close_reason", "order_carrier": "carrier"}


@dataclass(frozen=True)
class Input:
    """One keyword input of a workflow function, as a form field shows it."""

    name: str
    kind: str  # a KINDS key
    label: str
    required: bool = False
    help: str = ""
    max_length: int | None = None
    default: str = ""  # a DEFAULT_RULES name, or "" for no initial value
    allow_zero: bool = False  # money: 0.00 is a valid amount
    currency: str = ""  # money: a CURRENCY_RULES name, shown after the label ("Refund (USD)")
    # The label and help when the order's dispute is with the supplier (resolve_dispute).
    supplier_label: str = ""
    supplier_help: str = ""


@dataclass(frozen=True)
class Evidence:
    """What must be recorded on the order (since its current status began) before the transition.

    ``kind`` "" means any communication with ``counterparty``; ``attachment`` means a file
    attached to the order. ``direction`` / ``channel`` / ``kind`` are also the defaults of the
    "record it now" form that the order page offers for this transition.
    """

    counterparty: str  # evidence Counterparty value: "buyer", "supplier", "platform_support"
    sentence: str  # what the operator must record, in words (docs/workflow.md)
    message: str  # the refusal when it is missing (orders.workflow)
    kind: str = ""  # evidence Kind value: "consent", "refusal" or "" (any)
    direction: str = ""  # evidence Direction value, form default only
    channel: str = ""  # evidence Channel value, form default only
    attachment: bool = False

    def form_initial(self) -> dict[str, str]:
        """The communication form's defaults for this evidence."""
        values = {
            "counterparty": self.counterparty,
            "kind": self.kind,
            "direction": self.direction,
            "channel": self.channel,
        }
        return {k: v for k, v in values.items() if v}


@dataclass(frozen=True)
class Transition:
    name: str  # the workflow function, the model method, the permission codename, the event name
    label: str  # the button, the form title, the timeline entry
    permission_label: str  # Order.Meta.permissions text
    groups: tuple[str, ...]  # the groups holding the permission
    inputs: tuple[Input, ...] = ()
    evidence: Evidence | None = None

    @property
    def codename(self) -> str:
        return self.name

    @property
    def permission(self) -> str:
        return f"orders.{self.name}"

    @property
    def required(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.inputs if i.required)

    @property
    def optional(self) -> tuple[str, ...]:
        return tuple(i.name for i in self.inputs if not i.required)

    @property
    def shown_fields(self) -> tuple[str, ...]:
        """The order's fields its form shows and the transition may change (``SHOWN_ORDER_FIELDS``)."""
        return tuple(SHOWN_ORDER_FIELDS[i.default] for i in self.inputs if i.default in SHOWN_ORDER_FIELDS)

    @property
    def supervisor(self) -> bool:
        """Only a Supervisor may run it."""
        return OPERATOR not in self.groups

    def input(self, name: str) -> Input:
        for item in self.inputs:
            if item.name == name:
                return item
        raise KeyError(name)


# --- the inputs that recur ------------------------------------------------------------------

# Said on the form of a close that sets the SKU's stock for "Out of stock", before the operator
# confirms (orders.workflow.stock.mark_out_of_stock): the bulk close sets it to 0, a step's form
# asks for the real count (STOCK_COUNT).
OUT_OF_STOCK_HELP = gettext_noop("“Out of stock” also sets this SKU's stock to 0 and marks it out of stock.")
OUT_OF_STOCK_COUNT_HELP = gettext_noop(
    "“Out of stock” also sets this SKU's stock to the units really in stock, below, and marks it "
    "out of stock when there are none."
)
STOCK_COUNT = Input(
    "stock_count",
    "stock_count",
    gettext_noop("Units really in stock"),
    help=gettext_noop(
        "Only for “Out of stock”: how many units of this SKU are really on the shelf now (0 when none); "
        "the SKU's stock is set to it."
    ),
    default="none_in_stock",
)

NOTE = Input("note", "note", gettext_noop("Note"))
# A note completes a close reason: "Other" needs one.
REASON_NOTE = Input(
    "note", "note", gettext_noop("Note"), help=gettext_noop("Required when the reason is “Other”.")
)


def _close_reason(*, required: bool = True, help: str = "") -> Input:
    return Input(
        "reason",
        "close_reason",
        gettext_noop("Close reason"),
        required=required,
        help=help,
        default="order_close_reason",
    )


def _reference(label: str, *, required: bool = True, name: str = "reference") -> Input:
    return Input(name, "text", label, required=required, max_length=100)


def _buyer_evidence(kind: str, sentence: str, message: str) -> Evidence:
    if kind:
        return Evidence("buyer", sentence, message, kind=kind)
    return Evidence("buyer", sentence, message, direction="outbound")


# --- the declarations, in the order the article walks through them ----------------------------

_DECLARATIONS = [
    Transition(
        "mark_paid",
        gettext_noop("Mark paid"),
        gettext_noop("Can mark an order paid"),
        BY_OPERATORS,
        (
            Input(
                "paid_at",
                "datetime",
                gettext_noop("Paid at"),
                help=gettext_noop("Leave empty for now."),
            ),
        ),
    ),
    Transition(
        "mark_shipped",
        gettext_noop("Mark shipped"),
        gettext_noop("Can mark an order shipped"),
        BY_OPERATORS,
        (
            Input("tracking_number", "text", gettext_noop("Tracking number"), required=True, max_length=64),
            Input("carrier", "text", gettext_noop("Carrier"), max_length=64, default="order_carrier"),
            Input(
                "shipped_at",
                "datetime",
                gettext_noop("Shipped at"),
                help=gettext_noop("Leave empty for now."),
            ),
        ),
    ),
    Transition(
        "mark_completed",
        gettext_noop("Mark completed"),
        gettext_noop("Can mark an order completed"),
        BY_OPERATORS,
    ),
    Transition(
        "close_unpaid",
        gettext_noop("Close unpaid order"),
        gettext_noop("Can close an unpaid order"),
        BY_OPERATORS,
        (_close_reason(help=OUT_OF_STOCK_COUNT_HELP), REASON_NOTE, STOCK_COUNT),
    ),
    Transition(
        "request_cancellation",
        gettext_noop("Ask the buyer to cancel"),
        gettext_noop("Can ask the buyer to cancel"),
        BY_OPERATORS,
        (NOTE,),
        _buyer_evidence(
            "",
            gettext_noop("A communication with the buyer (your message asking them to cancel)."),
            gettext_noop("Record your message to the buyer before asking them to cancel a paid order."),
        ),
    ),
    Transition(
        "record_buyer_refusal",
        gettext_noop("Buyer refuses to cancel"),
        gettext_noop("Can record the buyer's refusal to cancel"),
        BY_OPERATORS,
        (NOTE,),
        _buyer_evidence(
            "refusal",
            gettext_noop("The buyer's refusal (a communication of kind “Refusal”)."),
            gettext_noop("Record the buyer's refusal before going back to “Paid”."),
        ),
    ),
    Transition(
        "record_buyer_consent",
        gettext_noop("Buyer agrees to cancel"),
        gettext_noop("Can record the buyer's consent to cancel"),
        BY_OPERATORS,
        (
            _close_reason(help=OUT_OF_STOCK_COUNT_HELP),
            Input(
                "amount", "money", gettext_noop("Refund to the buyer"), default="refundable", currency="order"
            ),
            Input(
                "purchase",
                "purchase_on_close",
                gettext_noop("The 1688 purchase"),
                default="purchase_on_close",
                help=gettext_noop(
                    "Not bought yet: nothing to undo. Goods in our warehouse: they go to our stock. "
                    "Cancel on 1688: the supplier is asked to refund the whole purchase (chased until "
                    "it answers, even after the sale is closed)."
                ),
            ),
            _reference(
                gettext_noop("1688 refund reference (cancellation)"),
                required=False,
                name="purchase_reference",
            ),
            REASON_NOTE,
            STOCK_COUNT,
        ),
        _buyer_evidence(
            "consent",
            gettext_noop("The buyer's consent (a communication of kind “Consent”)."),
            gettext_noop("Record the buyer's consent before closing a paid order."),
        ),
    ),
    Transition(
        "escalate_to_support",
        gettext_noop("Escalate to platform support"),
        gettext_noop("Can escalate to platform support"),
        BY_SUPERVISORS,
        (_reference(gettext_noop("Platform support ticket reference")), NOTE),
        Evidence(
            "platform_support",
            gettext_noop("A file attached to the order (screenshots of the buyer's consent)."),
            gettext_noop(
                "Attach the evidence (screenshots of the buyer's consent) before escalating to support."
            ),
            direction="outbound",
            channel="other",
            attachment=True,
        ),
    ),
    Transition(
        "confirm_refund",
        gettext_noop("Confirm refund and close"),
        gettext_noop("Can confirm the buyer refund"),
        BY_SUPERVISORS,
        (_reference(gettext_noop("Platform refund reference")), NOTE),
    ),
    Transition(
        "propose_return",
        gettext_noop("Propose a return"),
        gettext_noop("Can propose a return"),
        BY_OPERATORS,
        (NOTE,),
        _buyer_evidence(
            "",
            gettext_noop("A communication with the buyer (your message proposing the return)."),
            gettext_noop("Record your message to the buyer before proposing a return."),
        ),
    ),
    Transition(
        "record_return_refusal",
        gettext_noop("Buyer refuses to return"),
        gettext_noop("Can record the buyer's refusal to return"),
        BY_OPERATORS,
        (NOTE,),
        _buyer_evidence(
            "refusal",
            gettext_noop("The buyer's refusal (a communication of kind “Refusal”)."),
            gettext_noop("Record the buyer's refusal before going back to “Shipped”."),
        ),
    ),
    Transition(
        "record_return_agreement",
        gettext_noop("Buyer agrees to return"),
        gettext_noop("Can record the buyer's agreement to return"),
        BY_OPERATORS,
        (
            _close_reason(),
            Input("tracking_number", "text", gettext_noop("Return tracking number"), max_length=64),
            REASON_NOTE,
        ),
        _buyer_evidence(
            "consent",
            gettext_noop("The buyer's agreement to return the goods (a communication of kind “Consent”)."),
            gettext_noop("Record the buyer's agreement to return the goods first."),
        ),
    ),
    Transition(
        "receive_return",
        gettext_noop("Receive returned goods"),
        gettext_noop("Can receive returned goods"),
        BY_OPERATORS,
        (
            Input(
                "quantity",
                "quantity",
                gettext_noop("Quantity received"),
                required=True,
                default="order_quantity",
            ),
            Input("condition", "condition", gettext_noop("Condition"), required=True),
            # No initial amount: it follows the quantity received, which the form cannot know
            # before it is sent (orders.workflow.returns.receive_return computes it).
            Input(
                "amount",
                "money",
                gettext_noop("Refund to the buyer"),
                currency="order",
                help=gettext_noop(
                    "Leave empty to refund what the items received are worth: unit price × "
                    "quantity received, or all that remains refundable when every item came back."
                ),
            ),
            Input(
                "to_supplier",
                "quantity",
                gettext_noop("Units sent back to the supplier"),
                help=gettext_noop(
                    "Of the units received, how many go back to the 1688 supplier; the others of a "
                    "resellable return go to our stock. Leave empty: resellable units to our stock, "
                    "damaged ones back to the supplier."
                ),
            ),
            NOTE,
        ),
    ),
    Transition(
        "request_supplier_refund",
        gettext_noop("Ask the supplier for a refund"),
        gettext_noop("Can ask the supplier for a refund"),
        BY_SUPERVISORS,
        (
            Input(
                "amount",
                "money",
                gettext_noop("Amount asked of the supplier (CNY)"),
                required=True,
                default="supplier_refundable",
            ),
            Input(
                "reason",
                "note",
                gettext_noop("Why the supplier should refund"),
                required=True,
                help=gettext_noop(
                    "When Shopops files the request on 1688, this is its description for the supplier "
                    "(1688 takes 2 to 150 characters: a longer text is cut)."
                ),
            ),
            Input(
                "reference",
                "text",
                gettext_noop("1688 refund reference"),
                max_length=100,
                help=gettext_noop(
                    "The 1688 refund id of a request filed by hand. Leave it empty when the store is "
                    "connected to 1688 and the purchase has its 1688 order id: Shopops files the "
                    "request on 1688 itself and records 1688's refund id."
                ),
            ),
            Input("respond_by", "datetime", gettext_noop("Supplier must answer by"), default="respond_by"),
            Input(
                "kind",
                "refund_kind",
                gettext_noop("Kind of refund"),
                default="supplier_refund_kind",
                help=gettext_noop(
                    "Goods sent back: covers only units sent back to the supplier. Money only: units "
                    "neither in our stock nor sent back. Goods in our stock are never refunded."
                ),
            ),
            Input(
                "units",
                "quantity",
                gettext_noop("Units the refund covers"),
                default="supplier_refund_units",
            ),
            NOTE,
        ),
    ),
    Transition(
        "close_return",
        gettext_noop("Close without a supplier refund"),
        gettext_noop("Can close a return without a supplier refund"),
        BY_SUPERVISORS,
        (
            Input(
                "note",
                "note",
                gettext_noop("Note"),
                help=gettext_noop(
                    "The goods are in our stock: the supplier owes nothing. Required when units "
                    "that are not in our stock could still be asked of the supplier: say why not."
                ),
            ),
        ),
    ),
    Transition(
        "record_supplier_approval",
        gettext_noop("Supplier approved"),
        gettext_noop("Can record the supplier's approval"),
        BY_SUPERVISORS,
        (
            Input(
                "amount", "money", gettext_noop("Amount approved (CNY)"), default="pending_supplier_amount"
            ),
            _reference(gettext_noop("1688 refund reference"), required=False),
            NOTE,
        ),
    ),
    Transition(
        "record_supplier_refusal",
        gettext_noop("Supplier refused"),
        gettext_noop("Can record the supplier's refusal"),
        BY_SUPERVISORS,
        (_reference(gettext_noop("1688 dispute reference")), NOTE),
        Evidence(
            "supplier",
            gettext_noop("The supplier's refusal (a communication of kind “Refusal”)."),
            gettext_noop("Record the supplier's refusal before opening a dispute."),
            kind="refusal",
            channel="1688_wangwang",
        ),
    ),
    Transition(
        "open_buyer_dispute",
        gettext_noop("Buyer opened a dispute"),
        gettext_noop("Can record a buyer dispute"),
        BY_OPERATORS,
        (_reference(gettext_noop("Buyer's dispute reference")), NOTE),
    ),
    Transition(
        "resolve_dispute",
        gettext_noop("Resolve the dispute"),
        gettext_noop("Can resolve a dispute"),
        BY_SUPERVISORS,
        (
            Input(
                "outcome",
                "outcome",
                gettext_noop("Outcome"),
                required=True,
                help=gettext_noop(
                    "Won: the buyer gets nothing more back. Lost: the buyer gets back all that remains. "
                    "Partly won: the amount below."
                ),
                supplier_help=gettext_noop(
                    "Won: the supplier refunds all that remains asked. Lost: the supplier refunds "
                    "nothing. Partly won: the amount below."
                ),
            ),
            Input(
                "counterparty",
                "counterparty",
                gettext_noop("Dispute with"),
                default="dispute_with",
            ),
            Input(
                "amount",
                "money",
                gettext_noop("Refunded to the buyer"),
                allow_zero=True,
                currency="dispute",
                supplier_label=gettext_noop("Refunded by the supplier"),
            ),
            _close_reason(
                required=False,
                help=gettext_noop(
                    "Needed only if the buyer opened the dispute before a close reason was recorded."
                ),
            ),
            REASON_NOTE,
        ),
    ),
]

TRANSITIONS: dict[str, Transition] = {t.name: t for t in _DECLARATIONS}


def transitions_held_by(group: str) -> list[str]:
    """The names of the transitions whose permission ``group`` holds, in declaration order."""
    return [t.name for t in TRANSITIONS.values() if group in t.groups]


def permissions() -> list[tuple[str, str]]:
    """``(codename, label)`` of every transition permission, for ``Order.Meta.permissions``."""
    return [(t.codename, t.permission_label) for t in TRANSITIONS.values()]
