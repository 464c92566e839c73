"""Helpers shared by the close-workflow tests: snapshots of everything a refusal must not touch,
and small evidence files made from real bytes."""

import struct
import zlib
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.forms.models import model_to_dict

from evidence import services
from evidence.models import Attachment, Communication
from orders.models import Notification, Order, OrderEvent, Refund, Sku, StockMovement


def png_bytes(width: int = 2, height: int = 2) -> bytes:
    """A valid, tiny RGB PNG."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + b"\xff\x00\x00" * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )


def png_upload(name: str = "screenshot.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, png_bytes(), content_type="image/png")


def snapshot(order: Order) -> dict[str, Any]:
    """Everything a refused call must leave as it was: the order, its refunds, history, outbox,
    evidence and stock."""
    fresh = Order.objects.get(pk=order.pk)
    return {
        "order": model_to_dict(fresh, exclude=["updated_at"]),
        "refunds": list(Refund.objects.filter(order=order).order_by("pk").values()),
        "events": list(OrderEvent.objects.filter(order=order).order_by("pk").values_list("pk", flat=True)),
        "outbox": list(Notification.objects.order_by("pk").values()),
        "communications": Communication.objects.filter(order=order).count(),
        "attachments": Attachment.objects.filter(order=order).count(),
        "movements": StockMovement.objects.count(),
        "stock": list(Sku.objects.order_by("pk").values_list("pk", "stock_on_hand", "out_of_stock")),
    }


def say(order: Order, *, kind: str = "message", counterparty: str = "buyer", by=None) -> Communication:
    """Record a communication the way an operator does."""
    return services.record_communication(
        order,
        by=by,
        counterparty=counterparty,
        channel="aliexpress_message" if counterparty == "buyer" else "1688_wangwang",
        direction="inbound" if kind in ("consent", "refusal") else "outbound",
        kind=kind,
        summary=f"{counterparty} {kind}",
        body="…",
    )


def attach(order: Order, *, by=None) -> Attachment:
    return services.attach_file(order, by=by, file=png_upload())


@pytest.fixture
def private_media(settings, tmp_path):
    """Evidence files go to a temporary MEDIA_ROOT."""
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(tmp_path)}},
    }
    settings.MEDIA_ROOT = str(tmp_path)
    return tmp_path
