"""The operator's ready texts: what to write to the buyer in the platform chat at a step.

The transition forms of "ask to cancel", "propose a return" and "resolve the dispute" show the
text in the buyer's language with the order's facts filled in, and its meaning in the operator's
language (Chinese for a Chinese interface, English otherwise) beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.utils.translation import gettext_lazy as _

from ..models import DisputeWith, Order, PurchaseOnClose
from ..selectors.purchase import default_purchase_on_close, dispute_with
from ..selectors.refunds import refundable
from . import supplier_chat
from .catalogue import render_text
from .spec import CHAT_MESSAGES, FALLBACK, LANGUAGES, MESSAGES, buyer_language, is_rtl

BUYER, SUPPLIER = "buyer", "supplier"


@dataclass(frozen=True)
class ReadyText:
    message: str  # the message id, e.g. "chat.ask_cancel"
    label: str
    language: str  # the language the text is in
    language_name: str
    rtl: bool
    text: str
    meaning_language: str
    meaning: str  # the same text in the operator's language ("" when it is the same language)
    fell_back: bool  # the buyer's language had no text: this one is English
    audience: str = BUYER  # who it is for: the buyer (AliExpress chat) or the supplier (1688 Wangwang)
    # Why it cannot be sent ("" when it can): a fact it needs is missing (:func:`unsendable`).
    blocked: str = ""

    @property
    def dom_id(self) -> str:
        """``chat.ask_cancel`` → ``ready-chat-ask_cancel``: the form's id on the page."""
        return "ready-" + self.message.replace(".", "-")

    @property
    def outcome(self) -> str:
        """The dispute outcome (won, partial, lost) this text is for; "" for other texts."""
        for prefix in ("chat.dispute_", "supplier.dispute_"):
            if self.message.startswith(prefix):
                return self.message.removeprefix(prefix)
        return ""


def order_facts(order: Order) -> dict[str, Any]:
    """The facts of ``order`` every buyer message may name, raw (formatted per language by
    ``formatting``): the ready texts add the return address, the outbox's messages their own."""
    return {
        "order_id": order.platform_order_id,
        "buyer_name": order.buyer_name,
        "product_title": order.product_title,
        "amount": str(order.total_amount),
        "currency": order.currency,
    }


# A fact a ready text needs that is the store's to give, and who gives it: said to the operator
# instead of offering a text the buyer could not act on ("1. Send the item to:" with no address).
MISSING_FACTS = {
    "return_address": _(
        "This store has no return address yet, so this text cannot be sent: the buyer would not "
        "know where to send the item. A superuser sets the return address in the store's settings."
    ),
}


def buyer_facts(order: Order) -> dict[str, Any]:
    """The facts a ready text for ``order``'s buyer may name: the order's, and where the goods go
    back (the order's store's return address)."""
    return {**order_facts(order), "return_address": order.store.option("return_address")}


def unsendable(message_id: str, facts: dict[str, Any]) -> str:
    """Why the buyer text ``message_id`` cannot be sent with ``facts``, in words; "" when it can."""
    for name in sorted(MESSAGES[message_id].required):
        if name in MISSING_FACTS and not facts.get(name):
            return str(MISSING_FACTS[name])
    return ""


def operator_language(ui_language: str | None) -> str:
    """Chinese for an operator whose interface is Chinese, English otherwise."""
    return "zh-hans" if (ui_language or "").lower().startswith("zh") else FALLBACK


def audience(transition: str, order: Order) -> str:
    """Whom the ready texts of ``transition`` on ``order`` are for: a dispute's counterparty, the
    supplier for the 1688 steps, the buyer otherwise ("" for a step with none)."""
    if transition == "resolve_dispute":
        return SUPPLIER if dispute_with(order) == DisputeWith.SUPPLIER else BUYER
    if transition == "record_buyer_consent":
        # Only when there is a 1688 purchase to cancel.
        return SUPPLIER if default_purchase_on_close(order) == PurchaseOnClose.CANCEL_ON_1688 else ""
    if transition in supplier_chat.SUPPLIER_CHAT:
        return SUPPLIER
    return BUYER if transition in CHAT_MESSAGES else ""


def ready_texts(transition: str, order: Order, *, ui_language: str | None) -> list[ReadyText]:
    """The ready texts the form of ``transition`` offers for ``order`` (none for other steps): the
    buyer's in their language, or the supplier's in Chinese (a dispute with the supplier on 1688
    offers only the supplier's)."""
    if audience(transition, order) == SUPPLIER:
        return _supplier_texts(transition, order, ui_language)
    facts = buyer_facts(order)
    if transition == "resolve_dispute":
        # What the buyer still gets back, not what they paid: part may be back already.
        facts["amount"] = str(refundable(order))
    asked = buyer_language(order.buyer_language)
    meaning_language = operator_language(ui_language)
    found = []
    for message_id in CHAT_MESSAGES.get(transition, ()):
        text, rendered = render_text(message_id, asked, facts)
        meaning = ""
        if text.language != meaning_language:
            meaning = render_text(message_id, meaning_language, facts)[1]
        found.append(
            ReadyText(
                message=message_id,
                label=str(MESSAGES[message_id].label),
                language=text.language,
                language_name=LANGUAGES[text.language][0],
                rtl=is_rtl(text.language),
                text=rendered,
                meaning_language=LANGUAGES[meaning_language][0],
                meaning=meaning,
                fell_back=text.fell_back,
                blocked=unsendable(message_id, facts),
            )
        )
    return found


def _supplier_texts(transition: str, order: Order, ui_language: str | None) -> list[ReadyText]:
    language = supplier_chat.SUPPLIER_LANGUAGE
    meaning_language = operator_language(ui_language)
    facts = supplier_chat.supplier_facts(order)
    found = []
    for message_id in supplier_chat.SUPPLIER_CHAT.get(transition, ()):
        text, meaning = supplier_chat.render(message_id, facts)
        found.append(
            ReadyText(
                message=message_id,
                label=str(supplier_chat.SUPPLIER_MESSAGES[message_id].label),
                language=language,
                language_name=LANGUAGES[language][0],
                rtl=False,
                text=text,
                meaning_language=LANGUAGES[meaning_language][0],
                meaning="" if meaning_language == language else meaning,
                fell_back=False,
                audience=SUPPLIER,
            )
        )
    return found
