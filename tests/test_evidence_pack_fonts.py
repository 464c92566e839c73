"""The summary's fonts are parsed once per process (``orders/packs/fontcache.py``) and every PDF
written from them is the PDF fpdf2 writes from the font files: the same bytes, whatever the PDFs
before it held; a font file replaced on disk is read again; a font fpdf2 completes while parsing
is kept as fpdf2 completed it."""

import io
import re
import shutil
from datetime import UTC, datetime
from pathlib import Path

import pytest
from fontTools.fontBuilder import FontBuilder
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fpdf import FPDF
from pypdf import PdfReader

from orders.packs import fontcache
from shopops.fonts import default_pdf_fonts

WRITTEN = datetime(2026, 12, 7, 9, 0, tzinfo=UTC)
FONTS = [(f"f{index}", Path(path)) for index, path in enumerate(default_pdf_fonts())]
TEXTS = [
    "买家说手机壳破损了，要求全额退款。Покупатель говорит المشتري يوافق הקונה מסכים 구매자 購入者",
    "a character no font has: \U0001f9ff \U000e0041 and then 订单 1688退款申请",
    "Order 8100234567 refunded 21.50 USD",
]


def _pdf(text: str, fonts, *, kept: bool) -> bytes:
    """A page of ``text`` in the summary's fonts (the first, the others as fallbacks)."""
    pdf = FPDF()
    if kept:
        fontcache.add_fonts(pdf, fonts)
    else:
        for name, path in fonts:
            pdf.add_font(name, fname=str(path))
    names = [name for name, _path in fonts]
    pdf.set_fallback_fonts(names[1:], exact_match=False)
    pdf.set_text_shaping(True)
    pdf.set_creation_date(WRITTEN)
    pdf.add_page()
    pdf.set_font(names[0], size=10)
    pdf.multi_cell(0, 5, text)
    return bytes(pdf.output())


def _without_id(data: bytes) -> bytes:
    # the file identifier is a hash over the time of writing
    return re.sub(rb"/ID \[<[0-9A-F]+><[0-9A-F]+>\]", b"", data)


@pytest.mark.skipif(len(FONTS) < 2, reason="needs DejaVu Sans and the CJK font (fonts-dejavu-core)")
def test_each_pdf_from_the_kept_fonts_is_the_pdf_fpdf2_writes_from_the_files():
    kept = fontcache.parsed(FONTS)
    assert all(font is kept[key] for key, font in fontcache.parsed(FONTS).items())  # parsed once
    pdf = FPDF()
    fontcache.add_fonts(pdf, FONTS)
    # each PDF reads the kept widths and glyph ids, and subsets a font object of its own
    assert pdf.fonts["f1"].cw is kept["f1"].cw and pdf.fonts["f1"].glyph_ids is kept["f1"].glyph_ids
    assert pdf.fonts["f1"].ttfont is not kept["f1"].ttfont
    # In turn, and the first again: each PDF from the kept fonts follows others that subset
    # their own copies.
    for text in TEXTS + TEXTS[:1]:
        kept = _pdf(text, FONTS, kept=True)
        assert _without_id(kept) == _without_id(_pdf(text, FONTS, kept=False)), text
        assert PdfReader(io.BytesIO(kept)).pages[0].extract_text().split()[0] == text.split()[0]


def test_a_font_file_replaced_on_disk_is_read_again(tmp_path):
    path = tmp_path / "font.ttf"
    shutil.copyfile(default_pdf_fonts()[-1], path)
    first = FPDF()
    fontcache.add_fonts(first, [("f0", path)])
    path.unlink()
    _font_without_notdef(path)  # another font at the same path
    second = FPDF()
    fontcache.add_fonts(second, [("f0", path)])
    assert first.fonts["f0"].name != second.fonts["f0"].name == "ShopopsTest"


def _font_without_notdef(path: Path) -> None:
    """A TrueType font of a space and an "A", and no ``.notdef`` (fpdf2 draws one in when parsing;
    the first glyph is the one shown for a missing character, whatever its name)."""
    builder = FontBuilder(1000, isTTF=True)
    builder.setupGlyphOrder(["space", "A"])
    builder.setupCharacterMap({ord(" "): "space", ord("A"): "A"})
    pen = TTGlyphPen(None)
    pen.moveTo((0, 0))
    pen.lineTo((500, 700))
    pen.lineTo((1000, 0))
    pen.closePath()
    builder.setupGlyf({"space": TTGlyphPen(None).glyph(), "A": pen.glyph()})
    builder.setupHorizontalMetrics({"space": (500, 0), "A": (1000, 0)})
    builder.setupHorizontalHeader(ascent=800, descent=-200)
    builder.setupNameTable({"familyName": "ShopopsTest", "styleName": "Regular"})
    builder.setupOS2()
    builder.setupPost()
    builder.save(str(path))


def test_a_font_fpdf2_completes_while_parsing_is_kept_completed(tmp_path):
    path = tmp_path / "no-notdef.ttf"
    _font_without_notdef(path)
    fonts = [("f0", path)]
    assert ".notdef" in fontcache.parsed(fonts)["f0"].ttfont["glyf"]
    for _ in range(2):
        data = _pdf("A A", fonts, kept=True)
        assert _without_id(data) == _without_id(_pdf("A A", fonts, kept=False))
