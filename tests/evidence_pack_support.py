"""Evidence for the evidence pack tests: photos of a given size, recorded through evidence.services."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zipfile
import zlib
from datetime import timedelta

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from evidence import services
from evidence.models import Attachment, Communication


def photo(width: int = 640, height: int = 480, *, kind: str = "JPEG", noise: bool = False, **save) -> bytes:
    """An image; with ``noise`` it barely compresses (a large file from few pixels)."""
    if noise:
        image = Image.frombytes("RGB", (width, height), os.urandom(width * height * 3))
    else:
        image = Image.new("RGB", (width, height), (200, 60, 40))
    out = io.BytesIO()
    image.save(out, kind, **save)
    return out.getvalue()


def big_photo(megabytes: float = 9.5) -> bytes:
    """A PNG of random pixels of about ``megabytes`` (under the 10 MB upload limit)."""
    side = int((megabytes * 1024 * 1024 / 3) ** 0.5)
    return photo(side, side, kind="PNG", noise=True, compress_level=1)


def pack_url(order, target: str) -> str:
    """The pack's page (GET: what it holds, the chooser) and where its button posts to build it."""
    return reverse("admin:orders_order_evidence_pack", args=[order.pk]) + f"?target={target}"


def unzip(response) -> zipfile.ZipFile:
    return zipfile.ZipFile(
        io.BytesIO(b"".join(response.streaming_content) if response.streaming else response.content)
    )


def attach(order, data: bytes, name: str, *, by=None, communication=None) -> Attachment:
    return services.attach_file(
        order, by=by, file=SimpleUploadedFile(name, data), communication=communication
    )


def say(
    order, body: str, *, counterparty: str = "buyer", summary: str = "", minutes_ago: int = 0
) -> Communication:
    return services.record_communication(
        order,
        by=None,
        counterparty=counterparty,
        channel="aliexpress_message" if counterparty == "buyer" else "1688_wangwang",
        direction="inbound",
        summary=summary or body[:60],
        body=body,
        occurred_at=timezone.now() - timedelta(minutes=minutes_ago),
    )


# --- hostile images (issue 24): bytes that start like an image and are not a readable one -----


def png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def broken_png() -> bytes:
    """A PNG whose pixels decode, with a chunk after its image data whose checksum is wrong."""
    good = photo(64, 64, kind="PNG")
    end = good.rindex(b"IEND") - 4
    return good[:end] + png_chunk(b"tEXt", b"note\x00broken")[:-4] + b"\xde\xad\xbe\xef" + good[end:]


def huge_png(width: int = 12000, height: int = 14000) -> bytes:
    """A valid RGB PNG of ``width``×``height`` black pixels: 500 KB that decode to 500 MB (under
    Pillow's own decompression-bomb limit of 2 × 89.5 megapixels)."""
    squeeze = zlib.compressobj(9)
    row = b"\x00" * (1 + 3 * width)
    idat = b"".join(squeeze.compress(row) for _ in range(height)) + squeeze.flush()
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return PNG_SIGNATURE + png_chunk(b"IHDR", header) + png_chunk(b"IDAT", idat) + png_chunk(b"IEND", b"")


PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# What an attacker uploaded (issue 24): each starts with an image's magic and is none.
UNREADABLE_IMAGES = {
    "broken chunk after IDAT.png": broken_png,
    "truncated.png": lambda: photo(200, 200, kind="PNG", noise=True)[:5000],
    "100 bytes.png": lambda: PNG_SIGNATURE + b"A" * 92,
    "page.jpg": lambda: b"\xff\xd8\xff\xe0" + b"<html><body><script>alert(1)</script></body></html>" * 4,
}


def legacy_attachment(order, data: bytes, name: str, content_type: str) -> Attachment:
    """An attachment as one uploaded before images were checked: its type detected from the
    magic bytes, and no mark (``image_check`` empty) whatever the bytes are."""
    attachment = Attachment(
        order=order,
        original_name=name,
        content_type=content_type,
        size=len(data),
        sha256=hashlib.sha256(data).hexdigest(),
        uploaded_at=timezone.now(),
    )
    attachment.file.save("upload", ContentFile(data), save=False)
    attachment.save()
    return attachment
