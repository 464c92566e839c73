"""The fonts the evidence pack's PDF summary embeds, when ``SHOPOPS_PDF_FONTS`` does not name them.

A fresh machine has what ``make`` installs and nothing else: the CJK font comes from the Python
package index — WenQuanYi Micro Hei (TrueType; Apache-2.0 or GPL-3+ with the font exception),
byte for byte Debian's ``fonts-wqy-microhei`` 0.2.0-beta, in the pinned wheel
``paperang-p2-fonts-cjk`` (requirements.txt says why that one). Only the font file is read, and
only when its SHA-256 is the one below: the package's own code is never imported. DejaVu Sans
(Latin, Cyrillic, Greek, Arabic, Hebrew) is Debian's ``fonts-dejavu-core`` when installed; without
it the summary is set in WenQuanYi Micro Hei alone (Latin, Cyrillic, Greek and CJK, no Arabic or
Hebrew), and ``manage.py check`` says so (``shopops.W001``).
"""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

DEJAVU_SANS = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DEBIAN_WQY = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
WQY_PACKAGE = "paperang_p2_fonts_cjk"
WQY_IN_PACKAGE = "fonts/wqy-microhei.ttc"
# WenQuanYi Micro Hei 0.2.0-beta, as Debian ships it (fonts-wqy-microhei 0.2.0-beta-3.1).
WQY_SHA256 = "2420e8078af796b19a3f6ef13de527a1a91c1e7171eea115926c614ced1009b3"


def packaged_cjk_font() -> Path | None:
    """The wheel's WenQuanYi Micro Hei, when it is installed and is the font we pinned."""
    spec = importlib.util.find_spec(WQY_PACKAGE)  # finds the package without running it
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))) / WQY_IN_PACKAGE
    try:
        digest = hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None
    return path if digest == WQY_SHA256 else None


def default_pdf_fonts() -> list[str]:
    """DejaVu Sans first when the system has it, then WenQuanYi Micro Hei (the wheel's, else the
    system's): the fallback for every character the first lacks."""
    fonts = [str(DEJAVU_SANS)] if DEJAVU_SANS.is_file() else []
    cjk = packaged_cjk_font() or (DEBIAN_WQY if DEBIAN_WQY.is_file() else None)
    if cjk is not None:
        fonts.append(str(cjk))
    return fonts


def check_pdf_fonts(app_configs, **kwargs) -> list:
    """``manage.py check``: a font file that is missing, or no font for Arabic and Hebrew."""
    from django.conf import settings  # this module is read by the settings themselves
    from django.core import checks

    fonts = [Path(p) for p in settings.SHOPOPS_PDF_FONTS]
    found = []
    missing = [str(p) for p in fonts if not p.is_file()]
    if missing or not fonts:
        found.append(
            checks.Warning(
                f"SHOPOPS_PDF_FONTS: font file {', '.join(missing) or '(none)'} is missing; evidence "
                "packs cannot be built.",
                hint="Install fonts-dejavu-core, or point SHOPOPS_PDF_FONTS at TrueType files.",
                id="shopops.W002",
            )
        )
    elif DEJAVU_SANS not in fonts and fonts == [Path(p) for p in default_pdf_fonts()]:
        found.append(
            checks.Warning(
                "DejaVu Sans is not installed: Arabic and Hebrew will not show in evidence pack "
                "summaries (Latin, Cyrillic, Greek, Chinese, Japanese and Korean do).",
                hint="apt-get install fonts-dejavu-core, or set SHOPOPS_PDF_FONTS.",
                id="shopops.W001",
            )
        )
    return found
