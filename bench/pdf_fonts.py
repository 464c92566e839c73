"""Benchmark: a one-page PDF summary in the summary's fonts, the fonts parsed by fpdf2 for the PDF
against the fonts kept per process (``orders/packs/fontcache.py``), in the same run.

    .venv/bin/python bench/pdf_fonts.py            # ROUNDS=20 for more

No database. Each round writes the page both ways, in turn, with Latin, Chinese, Cyrillic and
Arabic text (DejaVu Sans, then WenQuanYi Micro Hei as the fallback), and checks they are the
same bytes apart from the file identifier. Prints the median and the fastest of each, and their
ratio, which reads through the machine's load better than the seconds do.
"""

from __future__ import annotations

import logging
import os
import re
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

TEXT = "Order 8100234567 · 买家说收到的手机壳破损了，要求全额退款。 Покупатель говорит المشتري يوافق " * 4


def page(fonts: list[tuple[str, Path]], *, kept: bool) -> bytes:
    from fpdf import FPDF

    from orders.packs.fontcache import add_fonts

    pdf = FPDF()
    if kept:
        add_fonts(pdf, fonts)
    else:
        for name, path in fonts:
            pdf.add_font(name, fname=str(path))
    pdf.set_fallback_fonts([name for name, _path in fonts[1:]], exact_match=False)
    pdf.set_text_shaping(True)
    pdf.add_page()
    pdf.set_font(fonts[0][0], size=10)
    pdf.multi_cell(0, 5, TEXT)
    return bytes(pdf.output())


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopops.settings")
    os.environ.setdefault("DEBUG", "1")
    import django

    django.setup()
    logging.getLogger("fontTools").setLevel(logging.WARNING)
    from shopops.fonts import default_pdf_fonts

    fonts = [(f"f{index}", Path(path)) for index, path in enumerate(default_pdf_fonts())]
    print("fonts:", ", ".join(str(path) for _name, path in fonts))
    rounds = int(os.environ.get("ROUNDS", "10"))
    started = time.perf_counter()
    page(fonts, kept=True)
    print(f"first PDF from the kept fonts (parses them): {time.perf_counter() - started:.3f} s")
    seconds: dict[bool, list[float]] = {False: [], True: []}
    for _ in range(rounds):
        written = {}
        for kept in (False, True):
            started = time.perf_counter()
            written[kept] = page(fonts, kept=kept)
            seconds[kept].append(time.perf_counter() - started)
        same = [
            re.sub(rb"/ID \[<[0-9A-F]+><[0-9A-F]+>\]|/CreationDate \([^)]*\)", b"", data)
            for data in written.values()
        ]
        assert same[0] == same[1], "the kept fonts wrote another PDF"
    parsed, kept = statistics.median(seconds[False]), statistics.median(seconds[True])
    print(f"{rounds} rounds, load {os.getloadavg()[0]:.2f}")
    print(f"fonts parsed for the PDF: median {parsed:.3f} s, fastest {min(seconds[False]):.3f} s")
    print(f"fonts kept per process:   median {kept:.3f} s, fastest {min(seconds[True]):.3f} s")
    print(f"kept / parsed: {kept / parsed:.2f}")


if __name__ == "__main__":
    main()
