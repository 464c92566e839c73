"""Evidence for the evidence pack tests: photos of a given size, recorded through evidence.services."""

from __future__ import annotations

import io
import os
import zipfile
from datetime import timedelta

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

