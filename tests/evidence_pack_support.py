"""Evidence for the evidence pack tests: photos of a given size, recorded through evidence.services."""

from __future__ import annotations

import hashlib
import io
import os
import struct
import unicodedata
import zipfile
import zlib
from datetime import timedelta
from decimal import Decimal

from django.core.files.base import ContentFile
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image
from pypdf import PdfReader

from evidence import services
from evidence.models import Attachment, Communication
from orders import workflow
from orders.models import Order, Refund, Status
from tests.factories import OrderFactory, SupplierOrderFactory, staff


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


# --- the walk's case (issue 21): a damaged return sent back to a supplier who refused --------

# What each audience must never read in the other's pack.
BUYER_FIELDS = {
    "buyer's name": "John Smith",
    "buyer's email": "john.0013@example.com",
    "buyer's phone": "+12129403269",
    "buyer's country": "United States",
    "sale amount": "43.00",
    "sale currency": "USD",
    "the buyer's message": "The bag arrived torn",
}
SUPPLIER_FIELDS = {
    "supplier's name": "深圳市华强电子有限公司",
    "supplier's contact": "sales@huaqiang.example.cn",
    "purchase amount": "17.50",
    "purchase currency": "CNY",
    "1688 order id": "3000000000000013",
    "the supplier's Wangwang refusal": "包装完好",
    "the refund asked of the supplier": "拉链损坏",
    "1688 dispute reference": "1688-DSP-13",
}
# Steps of ours that no platform reads.
INTERNAL_STEPS = (
    "Supplier refused",
    "Refund marked received",
    "Ask the supplier for a refund",
    "finance",
    "supervisor",
    "operator",
)


def walk_case() -> Order:
    """The order the browser walk found leaking (issue 21): a canvas bag sold for 43.00 USD to John
    Smith, bought for 17.50 CNY from 深圳市华强电子有限公司 on 1688; it came back torn, went back to
    the supplier, the buyer got 43.00 USD back (Finance marked it received), and the supplier
    refused on Wangwang, so the dispute is with the supplier. A photo of the damage (no
    communication), a screenshot of the buyer's chat and one of the supplier's chat."""
    operator, supervisor, finance = staff("Operator"), staff("Supervisor"), staff("Finance")
    order = OrderFactory(
        status=Status.SHIPPED,
        platform_order_id="8100000000000013",
        buyer_name="John Smith",
        buyer_email="john.0013@example.com",
        buyer_phone="+12129403269",
        buyer_country="US",
        product_title="帆布包",
        quantity=1,
        unit_price=Decimal("43.00"),
        total_amount=Decimal("43.00"),
        carrier="YunExpress",
        tracking_number="LP385483179096CN",
    )
    SupplierOrderFactory(
        order=order,
        supplier_name="深圳市华强电子有限公司",
        supplier_contact="sales@huaqiang.example.cn",
        supplier_order_id="3000000000000013",
        entry_ids=["3000000000000113"],
        amount=Decimal("17.50"),
        status="received",
    )
    buyer = {"counterparty": "buyer", "channel": "aliexpress_message"}
    services.record_communication(
        order,
        by=operator,
        direction="outbound",
        summary="Return offered",
        body="Please send it back.",
        **buyer,
    )
    workflow.propose_return(order, by=operator)
    chat = services.record_communication(
        order,
        by=operator,
        direction="inbound",
        kind="consent",
        summary="Buyer agrees to return",
        body="The bag arrived torn, I will send it back.",
        **buyer,
    )
    attach(order, photo(800, 600, kind="PNG"), "buyer chat.png", by=operator, communication=chat)
    workflow.record_return_agreement(order, by=operator, reason="quality_issue", tracking_number="RT13CN")
    attach(order, photo(1024, 768), "damage.jpg", by=operator)
    workflow.receive_return(order, by=operator, quantity=1, condition="damaged", to_supplier=1)
    refund = Refund.objects.get(order=order, direction="to_buyer")
    workflow.mark_refund_received(refund, by=finance)
    workflow.request_supplier_refund(
        order, by=supervisor, amount="17.50", reason="拉链损坏，已退回", reference="1688-RF-13"
    )
    refusal = services.record_communication(
        order,
        by=supervisor,
        counterparty="supplier",
        channel="1688_wangwang",
        direction="inbound",
        kind="refusal",
        summary="供应商拒绝退款",
        body="包装完好，不同意退款。",
    )
    attach(order, photo(640, 480, kind="PNG"), "wangwang.png", by=supervisor, communication=refusal)
    workflow.record_supplier_refusal(order, by=supervisor, reference="1688-DSP-13")
    return Order.objects.get(pk=order.pk)


# --- reading a pack back, as its reader would ----------------------------------------------

MANIFESTS = ("manifest.txt", "manifest.json")


def drawn_summaries(monkeypatch) -> list[bytes]:
    """The summary PDFs that packs drew as images (1688) from now on, in the order drawn: the text
    the images show, to read back with pypdf (``drawn = drawn_summaries(monkeypatch)``)."""
    from orders.packs import pages

    drawn: list[bytes] = []
    draw = pages.as_images

    def spy(pdf: bytes, limits):
        drawn.append(pdf)
        return draw(pdf, limits)

    monkeypatch.setattr(pages, "as_images", spy)
    return drawn


def pdf_text(data: bytes) -> str:
    return unicodedata.normalize(
        "NFKC", "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)
    )


def readable(pack: zipfile.ZipFile, drawn: list[bytes]) -> dict[str, str]:
    """Everything a pack's reader can read, by where: the files' names, each manifest, and the
    summary (``summary.pdf``'s text, or that of the PDF its images were drawn from)."""
    texts = {"names": "\n".join(pack.namelist())}
    for name in pack.namelist():
        if name.rsplit("/", 1)[-1] in MANIFESTS:
            texts[name] = pack.read(name).decode()
        elif name.endswith("summary.pdf"):
            texts[name] = pdf_text(pack.read(name))
    for number, pdf in enumerate(drawn, start=1):
        texts[f"summary drawn as images ({number})"] = pdf_text(pdf)
    return texts


def upload_files(pack: zipfile.ZipFile) -> list[str]:
    """The files of a pack to upload: all but its manifests."""
    return [n for n in pack.namelist() if n.rsplit("/", 1)[-1] not in MANIFESTS]


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
