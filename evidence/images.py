"""Is this file the image its first bytes say it is? Decoded in full, within a budget.

An evidence file whose bytes start like a PNG, a JPEG or a WebP is opened with Pillow's plugin
for that format only, its size read from the header and checked against
``SHOPOPS_IMAGE_MAX_PIXELS`` before anything is decoded, then decoded in full (``load()``; for
a PNG every chunk's checksum to the end, and its metadata read) within
``SHOPOPS_IMAGE_MAX_MEMORY_MB``: a JPEG larger than that is decoded at 1/2, 1/4 or 1/8 scale
(libjpeg's scaled decoding still reads every byte of it), a PNG or WebP larger than that is not
opened. Whatever Pillow raises on hostile bytes (``SyntaxError``, ``OSError``, ``struct.error``,
a decompression bomb, …) is a ``NotAnImage`` with the reason, never an error.

Used on upload (``evidence.services.attach_file`` records the reason on the attachment, which is
kept as evidence all the same) and again before a file goes into an evidence pack
(``orders.packs.images``): no image's bytes reach a pack unverified.
"""

from __future__ import annotations

import io
import logging
import math
import warnings

from django.conf import settings
from django.utils.translation import gettext as _
from PIL import Image, ImageFile

from .models import ImageProblem

logger = logging.getLogger(__name__)

# The Pillow plugin that may read each detected type, and nothing else.
FORMATS = {"image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WEBP"}
# Bytes a decoded pixel takes in Pillow's memory, by mode (four for every other mode).
_BYTES_PER_PIXEL = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2, "I;16N": 2}
# libjpeg's scaled decoding: the factors Image.draft can choose.
_JPEG_SCALES = (1, 2, 4, 8)


class NotAnImage(Exception):
    """The bytes are not a readable image within the budget: ``problem`` (an ``ImageProblem``)
    and ``str(exc)``, the reason for a person."""

    def __init__(self, problem: str, reason: str):
        super().__init__(reason)
        self.problem = problem


def max_pixels() -> int:
    return int(settings.SHOPOPS_IMAGE_MAX_PIXELS)


def max_memory() -> int:
    return int(float(settings.SHOPOPS_IMAGE_MAX_MEMORY_MB) * 1024 * 1024)


def _memory(size: tuple[int, int], mode: str) -> int:
    return size[0] * size[1] * _BYTES_PER_PIXEL.get(mode, 4)


def _unreadable() -> NotAnImage:
    return NotAnImage(ImageProblem.UNREADABLE, _("it is damaged or not an image of its type"))


def _check_header(image: Image.Image, content_type: str) -> tuple[int, int] | None:
    """The size to decode at (``None``: as it is), or ``NotAnImage`` from the header alone."""
    width, height = image.size
    if width < 1 or height < 1:
        raise _unreadable()
    if width * height > max_pixels():
        raise NotAnImage(
            ImageProblem.PIXELS,
            _("%(w)d×%(h)d pixels is %(mp)s megapixels; an image may have at most %(max)s megapixels")
            % {
                "w": width,
                "h": height,
                "mp": f"{width * height / 1e6:.1f}",
                "max": f"{max_pixels() / 1e6:g}",
            },
        )
    budget = max_memory()
    if _memory(image.size, image.mode) <= budget:
        return None
    if content_type == "image/jpeg":
        for scale in _JPEG_SCALES[1:]:
            reduced = (math.ceil(width / scale), math.ceil(height / scale))
            if _memory(reduced, image.mode) <= budget:
                return reduced
    raise _too_much_memory(image)


def _too_much_memory(image: Image.Image) -> NotAnImage:
    return NotAnImage(
        ImageProblem.MEMORY,
        _("opening it would take %(mb)d MB of memory; an image may take at most %(max)s MB")
        % {
            "mb": math.ceil(_memory(image.size, image.mode) / (1024 * 1024)),
            "max": f"{max_memory() / (1024 * 1024):g}",
        },
    )


def _open(data: bytes, content_type: str) -> Image.Image:
    if content_type not in FORMATS:
        raise _unreadable()
    with warnings.catch_warnings():
        # Pillow warns above its own limit; ours (below) refuses, with the reason, instead.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        image = Image.open(io.BytesIO(data), formats=[FORMATS[content_type]])
    try:
        reduced = _check_header(image, content_type)
        if reduced is not None:
            image.draft(None, reduced)
            if _memory(image.size, image.mode) > max_memory():  # no scaled decoding for this one
                raise _too_much_memory(image)
    except BaseException:
        image.close()
        raise
    return image


def decoded(data: bytes, content_type: str) -> Image.Image:
    """The first frame of ``data`` decoded in full, or ``NotAnImage``; the caller closes it."""
    if ImageFile.LOAD_TRUNCATED_IMAGES:  # a setting of the whole process: never ours to accept
        raise RuntimeError("PIL.ImageFile.LOAD_TRUNCATED_IMAGES must stay False")
    image = None
    try:
        if content_type == "image/png":
            # Every chunk to IEND, with its checksum (load() stops at the image data's end).
            with _open(data, content_type) as checked:
                checked.verify()
        image = _open(data, content_type)
        image.load()
        image.getexif()  # the metadata a conversion reads (EXIF orientation)
        return image
    except NotAnImage:
        if image is not None:
            image.close()
        raise
    except Exception as exc:  # hostile bytes: whatever Pillow raises is a refusal
        if image is not None:
            image.close()
        logger.debug("Not a readable %s: %r", content_type, exc)
        if isinstance(exc, Image.DecompressionBombError):
            raise NotAnImage(ImageProblem.PIXELS, str(exc)) from None
        raise _unreadable() from None


def problem(data: bytes, content_type: str) -> tuple[str, str]:
    """(``ImageProblem`` code, reason) of an image's bytes; ("", "") when it is a readable image
    within the budget."""
    try:
        decoded(data, content_type).close()
    except NotAnImage as exc:
        return exc.problem, str(exc)
    return "", ""
