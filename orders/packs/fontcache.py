"""The summary's fonts parsed once per process, not once per PDF.

fpdf2 reads a TrueType file when a font is added: the width and glyph id of every character
(about 30,000 in WenQuanYi Micro Hei), its metrics and names: 0.3–0.5 s for the CJK font, more
than the rest of a summary. The parsed font is kept here, per process, for the files as they are
now (a file replaced on disk is read again). Each PDF gets fpdf2's own copy of it
(``TTFFont.__deepcopy__``), with two changes:

- the tables fpdf2 only reads after parsing — each character's width and glyph id — are shared
  by the copies instead of copied (``deepcopy``'s memo). The widths' ``defaultdict`` may gain an
  entry for a character the font lacks, always the font's missing width: the same for every PDF;
- the font file itself is opened afresh (lazily, as fpdf2 does): when fpdf2 writes the PDF it
  subsets that object in place, down to the glyphs the PDF used.

A font fpdf2 changes while parsing (a TrueType font without a ``.notdef`` glyph, to which fpdf2
adds one) is parsed for every PDF, as before.
"""

from __future__ import annotations

import threading
from copy import deepcopy
from pathlib import Path

from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import TTFFont

_lock = threading.Lock()
# {(path, modified, size) of each file, in order: {fpdf2's font key: the parsed font}}
_kept: dict[tuple, dict[str, TTFFont]] = {}


def _signature(fonts: list[tuple[str, Path]]) -> tuple:
    signature = []
    for name, path in fonts:
        stat = path.stat()
        signature.append((name, str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(signature)


def _open(font: TTFFont) -> ttLib.TTFont:
    return ttLib.TTFont(
        font.ttffile, recalcTimestamp=False, fontNumber=font.collection_font_number, lazy=True
    )


def _unchanged_by_parsing(font: TTFFont) -> bool:
    """Whether the file, opened afresh, is what fpdf2 parsed (it adds a missing ``.notdef``)."""
    fresh = _open(font)
    try:
        return "glyf" not in fresh or ".notdef" in fresh["glyf"]
    finally:
        fresh.close()


def parsed(fonts: list[tuple[str, Path]]) -> dict[str, TTFFont]:
    """The fonts (fpdf2 family name, file) as fpdf2 parses them, once per process."""
    signature = _signature(fonts)
    with _lock:
        kept = _kept.get(signature)
        if kept is None:
            holder = FPDF()
            for name, path in fonts:
                holder.add_font(name, fname=str(path))
            kept = {
                key: font
                for key, font in holder.fonts.items()
                if isinstance(font, TTFFont) and _unchanged_by_parsing(font)
            }
            for font in kept.values():
                font.ttfont.close()  # each PDF opens its own
            _kept.clear()  # the files changed: what was parsed before is not read again
            _kept[signature] = kept
    return kept


def add_fonts(pdf: FPDF, fonts: list[tuple[str, Path]]) -> None:
    """``pdf.add_font`` for each (family name, file), from the fonts parsed once per process."""
    kept = parsed(fonts)
    for name, path in fonts:
        font = kept.get(name.lower())
        if font is None:
            pdf.add_font(name, fname=str(path))
            continue
        copy = deepcopy(font, {id(font.cw): font.cw, id(font.glyph_ids): font.glyph_ids})
        copy.i = len(pdf.fonts) + 1
        copy.ttfont = _open(font)
        pdf.fonts[name.lower()] = copy
