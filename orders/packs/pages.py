"""The summary as images, for a platform that takes images only (1688 takes 1–5 JPEG or PNG
vouchers): each page of the summary PDF drawn by PDFium (pypdfium2, a wheel with PDFium inside:
no system library), so the image shows exactly what the PDF does — the same fonts, the same
shaping, Latin and Chinese each in their own font.

A page is drawn at ``DPI`` (A4: 1241 × 1754 pixels, text legible when the platform shows it
full size), in greys, and saved as PNG (sharp text, small) or as JPEG when the platform takes no
PNG; a page that would not fit the platform's size limit is drawn smaller, down to ``MIN_DPI``.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pypdfium2
from django.utils.translation import gettext as _
from PIL import Image

from shopops.errors import Refused

from .limits import Limits

DPI = 150
MIN_DPI = 96
JPEG_QUALITY = 90


@dataclass(frozen=True)
class PageImage:
    data: bytes
    content_type: str
    width: int
    height: int

    @property
    def extension(self) -> str:
        return ".png" if self.content_type == "image/png" else ".jpg"


def _encode(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    if content_type == "image/png":
        # Text in greys: a palette of 16 keeps it sharp at a fraction of the bytes.
        image.quantize(16, dither=Image.Dither.NONE).save(out, "PNG", optimize=True)
    else:
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


def image_type(limits: Limits) -> str:
    """The type a summary page goes in as: PNG when the platform takes it, else JPEG."""
    return "image/png" if limits.accepts("image/png") else "image/jpeg"


def as_images(pdf: bytes, limits: Limits) -> list[PageImage]:
    """Every page of ``pdf`` as an image ``limits`` take, in page order."""
    content_type = image_type(limits)
    document = pypdfium2.PdfDocument(pdf)
    try:
        images = []
        for index in range(len(document)):
            page = document[index]
            try:
                images.append(_page_image(page, content_type, limits, index + 1))
            finally:
                page.close()
        return images
    finally:
        document.close()


def _page_image(page: pypdfium2.PdfPage, content_type: str, limits: Limits, number: int) -> PageImage:
    dpi = DPI
    while True:
        bitmap = page.render(scale=dpi / 72, grayscale=True)
        try:
            image = bitmap.to_pil().convert("L")
        finally:
            bitmap.close()
        data = _encode(image, content_type)
        if len(data) <= limits.max_bytes:
            return PageImage(data, content_type, image.width, image.height)
        if dpi <= MIN_DPI:
            raise Refused(
                _("Page %(page)d of the summary cannot be drawn legibly within %(mb)s MB.")
                % {"page": number, "mb": limits.max_mb}
            )
        dpi = max(MIN_DPI, int(dpi * (limits.max_bytes / len(data)) ** 0.5 * 0.9))
