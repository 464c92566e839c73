"""Every string the Python code marks for translation has its Chinese in the catalogue.

The strings are read from the source with Babel's extractor (the same keywords Django's
``makemessages`` uses for Python), so a new ``_("…")`` without its entry in
``locale/zh_Hans/LC_MESSAGES/django.po`` fails here, naming the file and line — no gettext
needed. (Templates are Django's syntax, which Babel does not read: the browser tests in Chinese
and ``makemessages`` cover them.)
"""

from __future__ import annotations

from pathlib import Path

from babel.messages.extract import extract_from_file
from babel.messages.pofile import read_po

BASE = Path(__file__).resolve().parent.parent
CATALOGUE = BASE / "locale" / "zh_Hans" / "LC_MESSAGES" / "django.po"
# Django's gettext functions and the names the project imports them as.
KEYWORDS = {
    "_": None,
    "gettext": None,
    "gettext_lazy": None,
    "gettext_noop": None,
    "ngettext": (1, 2),
    "ngettext_lazy": (1, 2),
    "pgettext": ((1, "c"), 2),
    "pgettext_lazy": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "npgettext_lazy": ((1, "c"), 2, 3),
}


def marked_strings() -> list[tuple[str, int, str | tuple, str | None]]:
    """(file, line, message, context) of every string marked for translation in our Python code."""
    found = []
    for folder in ("orders", "evidence", "shopops"):
        for path in sorted((BASE / folder).rglob("*.py")):
            if "migrations" in path.parts:
                continue
            for line, message, _comments, context in extract_from_file(
                "python", str(path), keywords=KEYWORDS
            ):
                found.append((str(path.relative_to(BASE)), line, message, context))
    return found


def test_the_extractor_finds_the_marked_strings():
    messages = {message for _file, _line, message, _context in marked_strings()}
    # A plain gettext, a lazy one (model field labels) and a plural, from three modules.
    assert "time zone" in messages
    assert any(isinstance(message, tuple) for message in messages)
    assert len(messages) > 500


def test_every_marked_string_has_its_chinese():
    with CATALOGUE.open("rb") as handle:
        catalogue = read_po(handle)
    missing = []
    for file, line, message, context in marked_strings():
        msgid = message if isinstance(message, str) else message[0]
        if not msgid:
            continue
        entry = catalogue.get(msgid, context=context)
        translated = (
            entry is not None
            and not entry.fuzzy
            and all(entry.string if isinstance(entry.string, tuple) else [entry.string])
        )
        if not translated:
            missing.append(f"{file}:{line}: {msgid!r}")
    assert not missing, "no Chinese in locale/zh_Hans for:\n" + "\n".join(sorted(set(missing)))
