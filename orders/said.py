"""What the system writes in a communication's summary: kept as codes, told in the reader's language.

A summary Shopops writes (a ready text sent, the buyer's cancellation request read from the
platform, the supplier's refusal read from 1688, a refund reminder to the supplier) is recorded
with what it says as codes in ``Communication.data`` — ``{"said": "ready_text", "message":
"chat.propose_return", "language": "pl"}`` — and ``summary`` keeps the words of the moment (for
search, and for any reader that does not tell them again). The pages show :func:`summary_of`:
the codes told in the active language, so a Chinese reader reads Chinese whoever wrote it.

Evidence is append-only, so rows written before the codes are never rewritten: a ready text's
summary of then ("Ready text sent: Chat: propose a return (Polski)", or its Chinese) is
recognised and told again; anything else, and whatever a person typed, is shown as stored.
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from .buyer_messages.spec import LANGUAGES, MESSAGES
from .buyer_messages.supplier_chat import SUPPLIER_MESSAGES

READY_TEXT = "ready_text"
BUYER_ASKED_TO_CANCEL = "buyer_asked_to_cancel"
SUPPLIER_REFUSED_ON_1688 = "supplier_refused_on_1688"
REFUND_REMINDER = "refund_reminder"

# Each code's sentence (a msgid: translated when shown) and the values it names.
SENTENCES = {
    READY_TEXT: gettext_noop("Ready text sent: %(label)s (%(language)s)"),
    BUYER_ASKED_TO_CANCEL: gettext_noop("The buyer asked to cancel the order on %(platform)s."),
    SUPPLIER_REFUSED_ON_1688: gettext_noop(
        "The supplier refused the refund request on 1688 (%(id)s): %(reason)s"
    ),
    REFUND_REMINDER: gettext_noop("Refund reminder %(n)d sent to %(contact)s"),
}


# Ready texts renamed since summaries named them: their former names, in English and Chinese.
FORMER_LABELS = {
    "Chat: ask the buyer to cancel": "chat.ask_cancel",
    "聊天：请买家取消订单": "chat.ask_cancel",
}


def ready_text(message: str, language: str) -> dict[str, Any]:
    """A ready text ``message`` (a buyer's or a supplier's) sent in ``language``."""
    return {"said": READY_TEXT, "message": message, "language": language}


def buyer_asked_to_cancel(platform: str) -> dict[str, Any]:
    """The buyer asked ``platform`` (its name: "AliExpress") to cancel the order."""
    return {"said": BUYER_ASKED_TO_CANCEL, "platform": platform}


def supplier_refused_on_1688(refund_id: str, reason: str) -> dict[str, Any]:
    """1688 says the supplier refused the refund request ``refund_id``, for ``reason``."""
    return {"said": SUPPLIER_REFUSED_ON_1688, "id": refund_id, "reason": reason}


def refund_reminder(number: int, contact: str) -> dict[str, Any]:
    """The ``number``-th refund reminder sent to the supplier at ``contact``."""
    return {"said": REFUND_REMINDER, "n": number, "contact": contact}


def message_label(message: str) -> str:
    """A ready text's name in the active language ("Chat: propose a return"); its id when unknown."""
    found = MESSAGES.get(message) or SUPPLIER_MESSAGES.get(message)
    return str(found.label) if found is not None else message


def language_name(code: str) -> str:
    """A buyer language's name in the active language ("Polish", "波兰语"); its code when unknown."""
    try:
        return str(translation.get_language_info(code)["name_translated"])
    except KeyError:
        return code


def told(data: dict[str, Any] | None) -> str:
    """What ``data`` says, in the active language; "" when it holds no code this module knows."""
    data = data or {}
    sentence = SENTENCES.get(data.get("said"))
    if sentence is None:
        return ""
    values = dict(data)
    if data["said"] == READY_TEXT:
        values["label"] = message_label(str(data.get("message", "")))
        values["language"] = language_name(str(data.get("language", "")))
    try:
        return _(sentence) % values
    except (KeyError, TypeError, ValueError):
        return ""


def summary_of(communication: Any) -> str:
    """A communication's summary as its reader reads it: its codes told in the active language,
    an older ready text's summary recognised, else the summary as stored."""
    return (
        told(getattr(communication, "data", None))
        or told(_recognised(communication.summary))
        or (communication.summary)
    )


@cache
def _older_forms() -> tuple[list[re.Pattern[str]], dict[str, str], dict[str, str]]:
    """How ready texts were summarised before the codes, in English and Chinese: the patterns,
    the messages by their label, and the languages by their own name ("Polski")."""
    patterns, labels = [], dict(FORMER_LABELS)
    for language in ("en", "zh-hans"):
        with translation.override(language):
            sentence = re.escape(_(SENTENCES[READY_TEXT]))
            sentence = sentence.replace(re.escape("%(label)s"), "(?P<label>.+)")
            sentence = sentence.replace(re.escape("%(language)s"), "(?P<language>[^()（）]+)")
            patterns.append(re.compile(f"^{sentence}$"))
            for message in (*MESSAGES.values(), *SUPPLIER_MESSAGES.values()):
                labels[str(message.label)] = message.id
    languages = {name: code for code, (name, _locale, _rtl) in LANGUAGES.items()}
    return patterns, labels, languages


def _recognised(summary: str) -> dict[str, Any] | None:
    """The codes of an older ready text's summary, when it is one."""
    patterns, labels, languages = _older_forms()
    for pattern in patterns:
        found = pattern.match(summary or "")
        if found and found["label"] in labels and found["language"].strip() in languages:
            return ready_text(labels[found["label"]], languages[found["language"].strip()])
    return None
