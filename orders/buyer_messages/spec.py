"""What a buyer message is: the languages, the messages, their placeholders and their checks.

Pure data and text checks, no database: the check command, the admin form's validation and the
tests share it. A text names the order's facts with placeholders in braces, ``{order_id}``;
braces mean nothing else, so a text with an unknown name or a stray brace is refused.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from shopops import inputs
from shopops.errors import Refused

FALLBACK = "en"

# The languages a buyer is written to: our code, its name in that language, the Babel locale,
# and whether it is written right to left.
LANGUAGES: dict[str, tuple[str, str, bool]] = {
    "en": ("English", "en", False),
    "es": ("Español", "es", False),
    "pt-br": ("Português (Brasil)", "pt_BR", False),
    "fr": ("Français", "fr", False),
    "de": ("Deutsch", "de", False),
    "ru": ("Русский", "ru", False),
    "pl": ("Polski", "pl", False),
    "ko": ("한국어", "ko", False),
    "ja": ("日本語", "ja", False),
    "tr": ("Türkçe", "tr", False),
    "it": ("Italiano", "it", False),
    "nl": ("Nederlands", "nl", False),
    "ar": ("العربية", "ar", True),
    "he": ("עברית", "he", True),
    "zh-hans": ("简体中文", "zh_Hans_CN", False),
}
# Codes AliExpress, browsers and spreadsheets use for the same languages.
_ALIASES = {"pt": "pt-br", "iw": "he", "zh": "zh-hans", "jp": "ja", "kr": "ko"}


def buyer_language(code: str | None) -> str:
    """The language we write to a buyer whose order says ``code``; English when we have none.

    ``es-MX`` → ``es``, ``pt_BR``/``pt-PT``/``pt`` → ``pt-br``, any Chinese → ``zh-hans``,
    ``iw`` (the old Hebrew code) → ``he``.
    """
    normalised = (code or "").strip().lower().replace("_", "-")
    if normalised in LANGUAGES:
        return normalised
    primary = normalised.split("-", 1)[0]
    primary = _ALIASES.get(primary, primary)
    return primary if primary in LANGUAGES else FALLBACK


def is_rtl(language: str) -> bool:
    return LANGUAGES.get(language, LANGUAGES[FALLBACK])[2]


def babel_locale(language: str) -> str:
    return LANGUAGES.get(language, LANGUAGES[FALLBACK])[1]


# --- the messages ------------------------------------------------------------------------------

SUBJECT, EMAIL, SMS, CHAT = "subject", "email", "sms", "chat"


@dataclass(frozen=True)
class Message:
    id: str  # "<group>.<part>", the key in texts/<language>.toml
    kind: str  # SUBJECT, EMAIL, SMS or CHAT
    label: str
    placeholders: frozenset[str]  # what the text may use
    required: frozenset[str]  # what the text must use


def _message(id: str, kind: str, label, may: str, must: str = "order_id") -> Message:
    return Message(id, kind, label, frozenset(may.split()) | frozenset(must.split()), frozenset(must.split()))


_ORDER = "order_id buyer_name product amount"
MESSAGES: dict[str, Message] = {
    m.id: m
    for m in (
        _message("refund_confirmation.subject", SUBJECT, _("Refund confirmation: email subject"), _ORDER),
        _message(
            "refund_confirmation.body",
            EMAIL,
            _("Refund confirmation: email"),
            f"{_ORDER} refunded_on refund_expected_days",
            "order_id amount refund_expected_days",
        ),
        _message(
            "refund_confirmation.sms",
            SMS,
            _("Refund confirmation: SMS"),
            "order_id amount refund_expected_days",
            "order_id amount",
        ),
        _message("payment_reminder.subject", SUBJECT, _("Payment reminder: email subject"), _ORDER),
        _message(
            "payment_reminder.body",
            EMAIL,
            _("Payment reminder: email"),
            f"{_ORDER} pay_by",
            "order_id amount",
        ),
        _message("payment_reminder.sms", SMS, _("Payment reminder: SMS"), "order_id amount pay_by"),
        # Asking to cancel: the buyer asked for it, or we cannot ship (two texts, one form).
        _message("chat.buyer_asked_cancel", CHAT, _("Chat: the buyer asked to cancel"), _ORDER),
        _message("chat.ask_cancel", CHAT, _("Chat: we cannot ship, ask the buyer to cancel"), _ORDER),
        _message(
            "chat.propose_return",
            CHAT,
            _("Chat: propose a return"),
            f"{_ORDER} return_address",
            "order_id return_address",
        ),
        _message("chat.dispute_won", CHAT, _("Chat: dispute decided for us (no refund)"), _ORDER),
        _message("chat.dispute_partial", CHAT, _("Chat: dispute decided with a partial refund"), _ORDER),
        _message("chat.dispute_lost", CHAT, _("Chat: dispute decided for the buyer (refund)"), _ORDER),
    )
}

# The operator's ready texts, by the transition whose form offers them.
CHAT_MESSAGES: dict[str, tuple[str, ...]] = {
    "request_cancellation": ("chat.buyer_asked_cancel", "chat.ask_cancel"),
    "propose_return": ("chat.propose_return",),
    "resolve_dispute": ("chat.dispute_won", "chat.dispute_partial", "chat.dispute_lost"),
}

# The platforms' longest order id: AliExpress's are 16 digits, 1688's 19. Every SMS text must fit
# MAX_SMS_SEGMENTS with an id this long; a longer id (the column holds 64 characters) is sent the
# English text, which must fit with the longest id the column holds (catalogue.render_sms).
PLATFORM_ORDER_ID_LENGTH = 20
LONGEST_ORDER_ID_LENGTH = 64  # Order.platform_order_id's max_length
# The longest facts: the largest amount an order may hold (shopops.inputs.MAX_AMOUNT), the longest
# name the column holds. The worst case of an SMS (catalogue.sms_problems) also tries every
# currency an order may have and every month's date.
LONGEST_FACTS = {
    "order_id": "8" * PLATFORM_ORDER_ID_LENGTH,
    "buyer_name": "M" * 200,
    "product": "Wireless Bluetooth Earbuds with Charging Case",
    "amount": "9999999999.99",
    "currency": "BRL",
    "refund_expected_days": "3-20",
    "refunded_at": "2026-12-30T23:59:00+00:00",
    "pay_by": "2026-12-30T23:59:00+00:00",
    "return_address": "Room 1808, Building B, 88 Huaxia Road, Guangzhou 510623, China",
}
MAX_SMS_SEGMENTS = 2

_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def braced(name: str) -> str:
    """``order_id`` → ``{order_id}``, as a text writes it."""
    return "{" + name + "}"


def placeholders(text: str) -> list[str]:
    """The names a text uses, in order (``{order_id}`` → ``order_id``)."""
    return _PLACEHOLDER.findall(text)


def problems(message: Message, text: str) -> list[str]:
    """What is wrong with ``text`` as ``message``: empty, stray braces, unknown or missing names.

    Empty when the text renders safely. The SMS length is checked apart (:func:`sms_problems`),
    as it needs the formatted facts.
    """
    if not text.strip():
        return [str(_("The text is empty."))]
    found = []
    try:  # no control or bidirectional-override character (U+202E would reverse the buyer's text)
        inputs.text(text, "text", label=str(_("The text")), max_length=len(text) + 1, multiline=True)
    except Refused as refused:
        found.append(refused.message)
    if "{" in _PLACEHOLDER.sub("", text) or "}" in _PLACEHOLDER.sub("", text):
        found.append(str(_("A brace is not part of a placeholder: write placeholders as {order_id}.")))
    names = placeholders(text)
    unknown = [name for name in dict.fromkeys(names) if name not in message.placeholders]
    if unknown:
        found.append(
            str(_("Unknown placeholder(s): %(names)s. This text may use: %(allowed)s."))
            % {
                "names": ", ".join(braced(n) for n in unknown),
                "allowed": ", ".join(braced(n) for n in sorted(message.placeholders)),
            }
        )
    missing = sorted(message.required - set(names))
    if missing:
        found.append(
            str(_("Missing placeholder(s): %(names)s.")) % {"names": ", ".join(braced(n) for n in missing)}
        )
    return found
