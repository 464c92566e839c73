"""A Supervisor's edits of the buyer messages (``BuyerMessageTemplate``)."""

from __future__ import annotations

from ..models import BuyerMessageTemplate


def edited_texts(message_id: str) -> dict[str, str]:
    """``{language: text}`` of the languages in which a Supervisor rewrote ``message_id``."""
    return dict(BuyerMessageTemplate.objects.filter(message=message_id).values_list("language", "text"))


def all_edited_texts() -> dict[tuple[str, str], str]:
    """``{(message id, language): text}`` of every edit."""
    return {
        (message, language): text
        for message, language, text in BuyerMessageTemplate.objects.values_list("message", "language", "text")
    }
