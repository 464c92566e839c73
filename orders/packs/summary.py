"""The summary: the case (``case``) as a platform's reviewer reads it, in any script the evidence
has; ``summary.pdf``, or the pages drawn as images (``pages``) for a platform that takes images only.

fpdf2 writes the PDF and embeds subsets of TrueType fonts (``SHOPOPS_PDF_FONTS``, by default
``shopops.fonts``: Debian's DejaVu Sans for Latin, Cyrillic, Greek, Arabic and Hebrew when
installed; WenQuanYi Micro Hei, from a pinned wheel, for Chinese, Japanese and Korean, as the
fallback for what the first lacks). With its HarfBuzz
shaping (uharfbuzz) Arabic letters join and Arabic and Hebrew run right to left. Embedded fonts
mean the reviewer's viewer needs no Asian font pack, and the text stays text: it can be searched
and copied. Lays out only: what the case says, and to whom, is ``case`` and ``audience``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from shopops.errors import Refused

from .case import Case, Section, when
from .fontcache import add_fonts
from .limits import Limits

# fontTools logs each subset glyph by glyph at INFO: a page of noise per PDF in the worker's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

# Control characters, and the explicit bidi overrides and isolates: a message must not be able
# to reverse how the text after it reads (the shaper lays out right-to-left scripts by itself).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# fpdf2's alias for the number of pages ("{nb}" by default, which a message may well contain).
PAGE_COUNT = "\x00pages\x00"
MARGIN = 15
A4_WIDTH, A4_HEIGHT = 210, 297
LINE = 5.2
LABEL_WIDTH = 50


def _clean(text: Any) -> str:
    """Text as fpdf2 lays it out: newlines kept, tabs as spaces, other control characters dropped."""
    text = (
        str(text if text is not None else "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    )
    return _CONTROLS.sub("", text)


def fonts_checked() -> list[Path]:
    """The summary's fonts (``SHOPOPS_PDF_FONTS``); ``Refused`` naming the files that are missing."""
    fonts = [Path(p) for p in settings.SHOPOPS_PDF_FONTS]
    missing = [str(p) for p in fonts if not p.is_file()]
    if missing or not fonts:
        raise Refused(
            _(
                "The PDF summary cannot be written: font file %(fonts)s is missing. Set "
                "SHOPOPS_PDF_FONTS to TrueType files that exist, or leave it unset: DejaVu Sans "
                "(Debian's fonts-dejavu-core) and the CJK font that requirements.txt installs."
            )
            % {"fonts": ", ".join(missing) or "—"}
        )
    return fonts


class SummaryPDF(FPDF):
    def __init__(self, title: str, *, tall: int = 1):
        # ``tall``: pages that many A4 pages long (a summary that must fit in fewer images).
        super().__init__(format=(A4_WIDTH, A4_HEIGHT * tall))
        self.footer_title = title
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)
        fonts = [(f"f{index}", path) for index, path in enumerate(fonts_checked())]
        add_fonts(self, fonts)  # parsed once per process (fontcache)
        names = [name for name, _path in fonts]
        self.set_fallback_fonts(names[1:], exact_match=False)
        self.set_text_shaping(True)
        self.font_name = names[0]
        self.set_font(self.font_name, size=10)
        # Only the footer's count of pages is replaced by the number, never recorded text: the
        # alias holds a NUL, which _clean takes out of everything else written.
        self.alias_nb_pages(PAGE_COUNT)
        self.set_title(title)
        self.set_creator("Shopops")

    def settle_font(self) -> None:
        """Set the current font for the page before text is written, when fpdf2 has not.

        fpdf2 2.8.9: a line whose first run is in a fallback font (a Chinese label) sets the main
        font only inside that line's own ``q … Q`` yet records it as set for the page; the next line
        that starts in the main font (``1688退款申请``, a date, an id) is then drawn with no font
        or the fallback's, its Latin squeezed, overlapping or missing. Set for the page first, it is
        what fpdf2 believes it is. (fpdf2's own private helpers: there is no public way to write
        the font to the page; tests/test_evidence_pack_pdf.py measures the Latin glyphs.)
        """
        if self.page and not self.current_font_is_set_on_page and self.current_font is not None:
            self._out(self._set_font_for_page(self.current_font, self.font_size_pt))

    def cell(self, *args: Any, **kwargs: Any) -> Any:
        self.settle_font()
        return super().cell(*args, **kwargs)

    def multi_cell(self, *args: Any, **kwargs: Any) -> Any:
        self.settle_font()
        return super().multi_cell(*args, **kwargs)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(self.font_name, size=8)
        self.cell(0, 5, f"{_clean(self.footer_title)} · {self.page_no()}/{PAGE_COUNT}", align="C")
        self.set_font(self.font_name, size=10)

    def heading(self, text: str, size: int = 13) -> None:
        if self.get_y() > self.h - 40:
            self.add_page()
        self.ln(2)
        self.set_font(self.font_name, size=size)
        self.multi_cell(0, size * 0.55, _clean(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(160, 160, 160)
        self.line(MARGIN, self.get_y() + 0.5, self.w - MARGIN, self.get_y() + 0.5)
        self.ln(2)
        self.set_font(self.font_name, size=10)

    def fields(self, rows: list[tuple[str, Any]]) -> None:
        for label, value in rows:
            if value in (None, ""):
                continue
            label = _clean(label)
            lines = self.multi_cell(LABEL_WIDTH, LINE, label, dry_run=True, output="LINES")
            top, page = self.get_y(), self.page
            self.set_text_color(90, 90, 90)
            self.multi_cell(LABEL_WIDTH, LINE, label, align="L", new_x="RIGHT", new_y="TOP")
            self.set_text_color(0, 0, 0)
            self.multi_cell(0, LINE, _clean(value), align="L", new_x="LMARGIN", new_y="NEXT")
            if self.page == page:  # a label longer than its value: the next row starts below it
                self.set_y(max(self.get_y(), top + len(lines) * LINE))

    def paragraph(self, text: str, *, grey: bool = False, size: int = 10) -> None:
        if grey:
            self.set_text_color(90, 90, 90)
        self.set_font(self.font_name, size=size)
        self.multi_cell(0, LINE, _clean(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.set_font(self.font_name, size=10)


def _section(pdf: SummaryPDF, section: Section) -> None:
    pdf.heading(section.heading)
    pdf.fields(section.rows)
    for block in section.blocks:
        if block.line:
            pdf.paragraph(block.line)
        pdf.fields(block.rows)
        pdf.ln(1.5)
    if section.empty and not section.blocks and not any(value for _label, value in section.rows):
        pdf.paragraph(section.empty, grey=True)


@dataclass(frozen=True)
class Summary:
    data: bytes  # the PDF
    pages: int


def write_summary(
    case: Case,
    limits: Limits,
    *,
    files: list[tuple[str, str]] | None = None,
    left_out: list[tuple[str, str]] | None = None,
    tall: int = 1,
) -> Summary:
    """The PDF of ``case`` for ``limits.target``, in the active language. With ``files`` (name in
    the pack, original name) and ``left_out`` (original name, why) it ends with what the pack holds:
    the summary that goes in as a PDF. A summary that goes in as images (``pages``) says only the
    case: the images that go with it speak for themselves, and the manifest lists them."""
    pdf = SummaryPDF(case.title, tall=tall)
    pdf.add_page()
    pdf.heading(case.title, size=16)
    pdf.fields([(_("For"), limits.label), (_("Prepared"), when(timezone.now()))])
    for section in case.sections:
        _section(pdf, section)
    if files is not None:
        pdf.heading(_("Files in this pack"))
        pdf.paragraph(f"summary.pdf — {_('this summary')}")
        for name, original in files:
            pdf.paragraph(f"{name} — {original}")
        if left_out:
            pdf.heading(_("Left out"))
            for original, why in left_out:
                pdf.paragraph(f"{original}: {why}")
    data = bytes(pdf.output())
    return Summary(data, pdf.pages_count)
