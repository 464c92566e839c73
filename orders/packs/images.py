"""An attachment as the platform takes it: JPEG or PNG within the size limit, or left out with why.

Every image is first decoded in full within the budget (``evidence.images``): one that is not a
readable image is left out with why, never copied. Images (PNG, JPEG, WebP) that the platform
takes as they are pass through byte for byte (a still, within the size limit); the others are
converted (JPEG preferred when the platform takes it: photos, small; PNG otherwise)
and scaled down until they fit. A PDF passes when the platform takes PDFs and it fits; other
types are never included. The stored evidence itself is only read.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass

from django.utils.translation import gettext as _
from PIL import Image, ImageOps

from evidence.images import FORMATS, NotAnImage, decoded
from evidence.models import IMAGE_TYPES, ImageProblem

from .limits import Limits

EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png", "application/pdf": ".pdf"}
# Below this many pixels on the long side a photo no longer proves anything: leave it out instead.
MIN_LONG_SIDE = 480
JPEG_QUALITY = 85
# A larger image is first reduced by a whole factor (cheap) before it is converted and scaled.
MAX_CONVERT_PIXELS = 16_000_000


class LeftOut(Exception):
    """The attachment cannot go into the pack; ``str(exc)`` says why, for the manifest."""


@dataclass(frozen=True)
class Converted:
    data: bytes
    content_type: str
    note: str  # what was done to it ("" when it is the stored file unchanged)

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.content_type]


def _encode(image: Image.Image, content_type: str) -> bytes:
    out = io.BytesIO()
    if content_type == "image/jpeg":
        if image.mode != "RGB":
            # Transparency on white, as a screenshot on a page looks.
            rgba = image.convert("RGBA")
            background = Image.new("RGB", rgba.size, "white")
            background.paste(rgba, mask=rgba.getchannel("A"))
            image = background
        image.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    else:
        if image.mode not in ("RGB", "RGBA", "L", "LA", "P"):
            image = image.convert("RGBA")
        image.save(out, "PNG", optimize=True)
    return out.getvalue()


def _header_size(data: bytes, content_type: str) -> tuple[int, int]:
    with Image.open(io.BytesIO(data), formats=[FORMATS[content_type]]) as image:
        return image.size


def _fit_image(data: bytes, content_type: str, limits: Limits) -> Converted:
    # Decoded in full within the budget first, whatever happens next: never a byte unverified.
    try:
        opened = decoded(data, content_type)
    except NotAnImage as exc:
        raise LeftOut(_("not a readable image: %(why)s") % {"why": exc}) from None
    with opened:
        animated = getattr(opened, "is_animated", False)
        if limits.accepts(content_type) and len(data) <= limits.max_bytes and not animated:
            return Converted(data, content_type, "")
        target = "image/jpeg" if "image/jpeg" in limits.types else "image/png"
        kind = "JPEG" if target == "image/jpeg" else "PNG"
        try:
            return _convert(opened, _header_size(data, content_type), target, kind, limits)
        except (OSError, ValueError, TypeError, SyntaxError):
            raise LeftOut(_("it cannot be converted to %(kind)s") % {"kind": kind}) from None


def _convert(
    opened: Image.Image, original_size: tuple[int, int], target: str, kind: str, limits: Limits
) -> Converted:
    image = ImageOps.exif_transpose(opened)
    if image.width * image.height > MAX_CONVERT_PIXELS:
        # No platform takes a file this large: halve it cheaply before the careful scaling.
        image = image.reduce(math.ceil((image.width * image.height / MAX_CONVERT_PIXELS) ** 0.5))
    encoded = _encode(image, target)
    while len(encoded) > limits.max_bytes:
        # Bytes grow with the area: shrink the sides by the square root of the excess, a bit more.
        scale = (limits.max_bytes / len(encoded)) ** 0.5 * 0.9
        size = (max(1, int(image.width * scale)), max(1, int(image.height * scale)))
        if max(size) < MIN_LONG_SIDE:
            raise LeftOut(
                _("it cannot be made smaller than %(mb)s MB and still be legible") % {"mb": limits.max_mb}
            )
        image = image.resize(size, Image.Resampling.LANCZOS)
        encoded = _encode(image, target)
    if image.size != original_size:
        note = _("converted to %(kind)s, scaled from %(w0)d×%(h0)d to %(w1)d×%(h1)d") % {
            "kind": kind,
            "w0": original_size[0],
            "h0": original_size[1],
            "w1": image.width,
            "h1": image.height,
        }
    else:
        note = _("converted to %(kind)s") % {"kind": kind}
    return Converted(encoded, target, note)


def why_not(content_type: str, size: int, limits: Limits, image_check: str = "") -> str:
    """Why a file of ``content_type`` and ``size`` can never go into a pack for ``limits``; ""
    when it may (an image may still prove unreadable or impossible to shrink: :func:`fit` says
    so). ``image_check``: the attachment's mark from its upload (``Attachment.image_check``)."""
    if content_type in IMAGE_TYPES and image_check:
        label = dict(ImageProblem.choices).get(image_check, image_check)
        return _("not a readable image: %(why)s") % {"why": label}
    if content_type in IMAGE_TYPES:
        if "image/jpeg" in limits.types or "image/png" in limits.types:
            return ""
        return _("the platform takes no images")
    if content_type == "application/pdf":
        if not limits.accepts(content_type):
            return _("the platform takes images only, not PDF documents")
        if size > limits.max_bytes:
            return _("a PDF larger than %(mb)s MB; PDFs are not reduced") % {"mb": limits.max_mb}
        return ""
    if content_type == "text/plain":
        return _("a text file: the platform does not take text files")
    return _("the platform does not take this type (%(type)s)") % {"type": content_type}


def fit(data: bytes, content_type: str, limits: Limits) -> Converted:
    """``data`` (of ``content_type``, as detected on upload) as ``limits`` take it, or ``LeftOut``."""
    why = why_not(content_type, len(data), limits)
    if why:
        raise LeftOut(why)
    if content_type in IMAGE_TYPES:
        return _fit_image(data, content_type, limits)
    return Converted(data, content_type, "")
