"""The buyer texts: shipped per language in ``texts/<language>.toml``, editable per language.

A text is looked up for (message, language) in this order: a Supervisor's edit
(``BuyerMessageTemplate``), the shipped file of that language, then the same two in English.
A text that is missing or broken (unknown placeholder, stray brace) is skipped, so the buyer
reads English rather than a broken message, and :func:`report` lists it for
``manage.py check_buyer_messages``.
"""

from __future__ import annotations

import html
import tomllib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pycountry

from ..selectors.buyer_messages import edited_texts
from ..sms import Segments, segments
from .formatting import format_amount, format_facts, format_moment, gsm_spaces
from .spec import (
    FALLBACK,
    LANGUAGES,
    LONGEST_FACTS,
    LONGEST_ORDER_ID_LENGTH,
    MAX_SMS_SEGMENTS,
    MESSAGES,
    PLATFORM_ORDER_ID_LENGTH,
    SMS,
    braced,
    is_rtl,
    placeholders,
    problems,
)

TEXTS_DIR = Path(__file__).resolve().parent / "texts"


class MissingText(LookupError):
    """Not even English has a usable text for this message (a broken installation)."""


@cache
def _load(directory: Path) -> dict[str, dict[str, str]]:
    texts: dict[str, dict[str, str]] = {}
    for language in LANGUAGES:
        path = directory / f"{language}.toml"
        try:
            data = tomllib.loads(path.read_text(encoding="utf-8"))
        except (OSError, tomllib.TOMLDecodeError):
            continue
        texts[language] = {
            f"{group}.{part}": text
            for group, parts in data.items()
            if isinstance(parts, dict)
            for part, text in parts.items()
            if isinstance(text, str)
        }
    return texts


def shipped_texts() -> dict[str, dict[str, str]]:
    """``{language: {message id: text}}`` from the files shipped with the code."""
    return _load(TEXTS_DIR)


def shipped_text(message_id: str, language: str) -> str:
    return shipped_texts().get(language, {}).get(message_id, "")


def _usable(message_id: str, text: str | None) -> bool:
    return bool(text) and not problems(MESSAGES[message_id], text)


@dataclass(frozen=True)
class Text:
    message: str
    language: str  # the language the text is in (English when the asked one had none)
    asked: str  # the language asked for
    text: str

    @property
    def fell_back(self) -> bool:
        return self.language != self.asked


def text_for(message_id: str, language: str) -> Text:
    """The raw text of ``message_id`` for ``language``: edited, shipped, else English."""
    edited = edited_texts(message_id)
    for candidate in dict.fromkeys((language, FALLBACK)):
        for text in (edited.get(candidate), shipped_text(message_id, candidate)):
            if _usable(message_id, text):
                return Text(message_id, candidate, language, text)
    raise MissingText(f"No usable text for {message_id!r}, not even in English.")


def fill(text: str, values: dict[str, str]) -> str:
    """Put the values in. A line whose placeholders are all empty is left out (``Item: {product}``
    for an order without a product title), so that no buyer reads a label with nothing after it."""
    lines = []
    for line in text.split("\n"):
        names = placeholders(line)
        if names and not any(values.get(name) for name in names):
            continue
        for name in names:
            line = line.replace(braced(name), values.get(name, ""))
        lines.append(line)
    return "\n".join(lines)


def render_text(message_id: str, language: str, facts: dict[str, Any]) -> tuple[Text, str]:
    """``(which text, the text with the facts filled in for its language)``.

    An SMS longer than ``MAX_SMS_SEGMENTS`` in the buyer's language (an order id longer than the
    platforms' own: the column holds 64 characters) is the English text, which fits any id.
    """
    found = text_for(message_id, language)
    is_sms = MESSAGES[message_id].kind == SMS
    rendered = fill(found.text, format_facts(facts, found.language, sms=is_sms)).strip()
    if is_sms and found.language != FALLBACK and segments(rendered).count > MAX_SMS_SEGMENTS:
        english = text_for(message_id, FALLBACK)
        found = Text(message_id, english.language, language, english.text)
        rendered = fill(found.text, format_facts(facts, FALLBACK, sms=True)).strip()
    return found, rendered


def html_document(body: str, *, language: str, subject: str = "") -> str:
    """An email's text as a small HTML document: ``lang`` and ``dir`` (``rtl`` for Arabic and
    Hebrew) on the root, paragraphs kept. Derived from the text kept on the outbox row, so every
    retry sends the same words in both parts."""
    direction = "rtl" if is_rtl(language) else "ltr"
    paragraphs = "\n".join(
        f'<p dir="{direction}">' + "<br>".join(html.escape(line) for line in block.split("\n")) + "</p>"
        for block in body.strip().split("\n\n")
        if block.strip()
    )
    return (
        f'<!DOCTYPE html>\n<html lang="{html.escape(language)}" dir="{direction}">\n'
        f'<head><meta charset="utf-8"><title>{html.escape(subject)}</title></head>\n'
        f'<body dir="{direction}" style="text-align: {"right" if direction == "rtl" else "left"}">\n'
        f"{paragraphs}\n</body>\n</html>\n"
    )


# --- what is missing ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    message: str
    language: str
    what: str

    def __str__(self) -> str:
        return f"{self.message} [{self.language}]: {self.what}"


@cache
def sms_currencies() -> tuple[str, ...]:
    """Every currency an order may have (the import accepts any ISO 4217 code)."""
    return tuple(sorted(currency.alpha_3 for currency in pycountry.currencies))


@cache
def _worst_values(language: str, id_length: int) -> tuple[dict[str, str], ...]:
    """The facts of an SMS in ``language`` at their longest: an order id of ``id_length``
    characters, the largest amount in every currency, and every month's last minute."""
    base = format_facts({**LONGEST_FACTS, "order_id": "8" * id_length}, language, sms=True)
    amounts = {
        format_amount(LONGEST_FACTS["amount"], currency, language, sms=True) for currency in sms_currencies()
    }
    moments = {
        gsm_spaces(format_moment(f"2026-{month:02d}-28T23:59:00+00:00", language)) for month in range(1, 13)
    }
    return tuple(
        {**base, "amount": amount, "pay_by": moment}
        for amount in sorted(amounts)
        for moment in sorted(moments)
    )


def sms_worst_case(text: str, language: str, *, id_length: int = PLATFORM_ORDER_ID_LENGTH) -> Segments:
    """The most segments ``text`` takes in ``language`` with any currency, amount, date or id."""
    return max(
        (segments(fill(text, values).strip()) for values in _worst_values(language, id_length)),
        key=lambda counted: (counted.count, counted.units),
    )


def _sms_problems(message_id: str, language: str, text: str) -> list[str]:
    # Every language with the platforms' longest id; English, which an SMS falls back to when an
    # id is longer (render_text), with the longest id the column holds.
    lengths = [PLATFORM_ORDER_ID_LENGTH] + ([LONGEST_ORDER_ID_LENGTH] if language == FALLBACK else [])
    for length in lengths:
        counted = sms_worst_case(text, language, id_length=length)
        if counted.count > MAX_SMS_SEGMENTS:
            return [
                f"{counted.count} SMS segments ({counted.encoding}, {counted.units} units) at worst: an "
                f"order id of {length} characters, the largest amount, every currency and date; "
                f"at most {MAX_SMS_SEGMENTS}."
            ]
    return []


def text_problems(message_id: str, language: str, text: str) -> list[str]:
    """Everything wrong with one text: placeholders, and for an SMS its length in segments."""
    message = MESSAGES[message_id]
    found = problems(message, text)
    if not found and message.kind == SMS:
        found = _sms_problems(message_id, language, text)
    return found


def report(*, edited: dict[tuple[str, str], str] | None = None) -> list[Problem]:
    """Each (message, language) that is missing or unusable, shipped or edited."""
    found = []
    texts = shipped_texts()
    for language in LANGUAGES:
        if language not in texts:
            found.append(Problem("*", language, f"no readable file texts/{language}.toml"))
            continue
        for message_id in MESSAGES:
            text = texts[language].get(message_id, "")
            if not text:
                found.append(Problem(message_id, language, "missing: the buyer gets English"))
                continue
            found += [
                Problem(message_id, language, what) for what in text_problems(message_id, language, text)
            ]
        for message_id in sorted(set(texts[language]) - set(MESSAGES)):
            found.append(Problem(message_id, language, "not a buyer message (a typo in the key?)"))
    for (message_id, language), text in sorted((edited or {}).items()):
        found += [
            Problem(message_id, language, f"edited text: {what}")
            for what in text_problems(message_id, language, text)
        ]
    return found
