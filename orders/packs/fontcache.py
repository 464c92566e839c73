"""The summary's fonts parsed once per process, not once per PDF.

fpdf2 reads a TrueType file when a font is added: the width and glyph id of every character
(about 30,000 in WenQuanYi Micro Hei), its metrics and names: 0.3–0.5 s for the CJK font, more
than the rest of a summary. The parsed font is kept here, per process, for the files as they are
now (a file replaced on disk is read again). Each PDF gets fpdf2's own copy of it
(``TTFFont.__deepcopy__``), with two changes:

- the tables fpdf2 only reads after parsing — each character's width and glyph id — are shared
  by the copies instead of copied (``deepcopy``'s memo). The widths' ``defaultdict`` may gain an
  entry for a character the font lacks, always the font's missing width: the same for every PDF;
- the font object fpdf2 subsets in place when it writes the PDF (down to the glyphs the PDF
  used) is the PDF's own: a copy of the parsed one, its tables as fpdf2 read them, made from a
  pickle of it taken once (fontTools pickles a lazily read font: the copy opens the file again
  for the tables not read yet). Unpickling is about half of reading those tables again. What
  fpdf2 changed while parsing (the ``.notdef`` glyph it draws into a font that lacks one) is in
  the pickle too.
"""

from __future__ import annotations

import pickle
import threading
from copy import deepcopy
from pathlib import Path

from fpdf import FPDF
from fpdf.fonts import TTFFont

_lock = threading.Lock()
# {(name, path, modified, size) of each file, in order:
#  {fpdf2's font key: (the parsed font, the pickle of its fontTools font as fpdf2 left it)}}
_kept: dict[tuple, dict[str, tuple[TTFFont, bytes]]] = {}


def _signature(fonts: list[tuple[str, Path]]) -> tuple:
    signature = []
    for name, path in fonts:
        stat = path.stat()
        signature.append((name, str(path), stat.st_mtime_ns, stat.st_size))
    return tuple(signature)


def _parsed(fonts: list[tuple[str, Path]]) -> dict[str, tuple[TTFFont, bytes]]:
    signature = _signature(fonts)
    with _lock:
        kept = _kept.get(signature)
        if kept is None:
            holder = FPDF()
            for name, path in fonts:
                holder.add_font(name, fname=str(path))
            kept = {}
            for key, font in holder.fonts.items():  # each a TTFFont: fpdf2's key is the name lowered
                kept[key] = (font, pickle.dumps(font.ttfont, protocol=pickle.HIGHEST_PROTOCOL))
                font.ttfont.close()  # each PDF has its own copy
            _kept.clear()  # the files changed: what was parsed before is not read again
            _kept[signature] = kept
    return kept


def parsed(fonts: list[tuple[str, Path]]) -> dict[str, TTFFont]:
    """The fonts (fpdf2 family name, file) as fpdf2 parses them, once per process."""
    return {key: font for key, (font, _pickled) in _parsed(fonts).items()}


def add_fonts(pdf: FPDF, fonts: list[tuple[str, Path]]) -> None:
    """``pdf.add_font`` for each (family name, file), from the fonts parsed once per process."""
    kept = _parsed(fonts)
    for name, _path in fonts:
        font, pickled = kept[name.lower()]
        copy = deepcopy(font, {id(font.cw): font.cw, id(font.glyph_ids): font.glyph_ids})
        copy.i = len(pdf.fonts) + 1
        # Our own bytes, pickled in this process by _parsed(), never read from outside it;
        # deepcopy would be the same copy at eight times the cost.
        copy.ttfont = pickle.loads(pickled)  # noqa: S301
        pdf.fonts[name.lower()] = copy
