"""A Supervisor's edits of the buyer messages (``BuyerMessageTemplate``)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from ..models import BuyerMessageTemplate

# Inside ``edits_read_once()``: every edit, read by the first lookup (None until then).
_read_once: ContextVar[list[dict[tuple[str, str], str] | None] | None] = ContextVar(
    "buyer_message_edits", default=None
)


@contextmanager
def edits_read_once() -> Iterator[None]:
    """Within the block, the edits are read at most once, whatever the number of messages
    rendered (a delivery batch: one query instead of one per message and part)."""
    token = _read_once.set([None])
    try:
        yield
    finally:
        _read_once.reset(token)


def edited_texts(message_id: str) -> dict[str, str]:
    """``{language: text}`` of the languages in which a Supervisor rewrote ``message_id``."""
    held = _read_once.get()
    if held is None:
        return dict(BuyerMessageTemplate.objects.filter(message=message_id).values_list("language", "text"))
    if held[0] is None:
        held[0] = all_edited_texts()
    return {language: text for (message, language), text in held[0].items() if message == message_id}


def all_edited_texts() -> dict[tuple[str, str], str]:
    """``{(message id, language): text}`` of every edit."""
    return {
        (message, language): text
        for message, language, text in BuyerMessageTemplate.objects.values_list("message", "language", "text")
    }
