"""Evidence (SPEC section 3): uploads judged by their bytes, size-limited, stored under a
generated name with their SHA-256; communications validated. A refusal stores nothing."""

import hashlib
from datetime import timedelta
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from evidence import services
from evidence.models import Attachment, Communication
from shopops.errors import NotPermitted, Refused
from tests.factories import OrderFactory, UserFactory, staff
from tests.workflow_support import png_bytes, private_media  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

ELF = b"\x7fELF\x02\x01\x01\x00" + b"\x00" * 8 + b"\x02\x00\x3e\x00" + b"\x00" * 100
PE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 100
PE_PRINTABLE = b"MZThis program cannot be run in DOS mode. Hello there, nothing to see."


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="image/png")  # what the browser claims


def _files(root: Path) -> list[Path]:
    return [p for p in root.rglob("*") if p.is_file()]


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (PE, "it is a program"),
        (PE_PRINTABLE, "it is a program"),
        (ELF, "it is a program"),
        (b"#!/bin/sh\nrm -rf /\n", "it is a program"),
        (b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>", "web page or markup"),
        (b"<svg xmlns='http://www.w3.org/2000/svg' onload='alert(1)'/>", "web page or markup"),
        (b"PK\x03\x04" + b"\x00" * 40, "archive"),
    ],
    ids=["windows-exe", "exe-with-printable-header", "elf", "script", "html", "svg", "zip"],
)
def test_files_that_are_not_evidence_are_refused_whatever_their_name(settings, data, why):
    order = OrderFactory()

    with pytest.raises(Refused) as refused:
        services.attach_file(order, by=staff("Operator"), file=_upload("receipt.png", data))

    message = str(refused.value)
    assert "“receipt.png” was refused" in message and why in message
    assert "PNG, JPEG or WebP" in message
    assert refused.value.field == "file"
    assert not Attachment.objects.exists()
    assert _files(Path(settings.MEDIA_ROOT)) == []


def test_a_file_over_10_mb_is_refused(settings):
    order = OrderFactory()
    big = png_bytes() + b"\x00" * (11 * 1024 * 1024)

    with pytest.raises(Refused, match="larger than 10 MB") as refused:
        services.attach_file(order, by=None, file=_upload("photo.png", big))

    assert refused.value.field == "file"
    assert not Attachment.objects.exists()
    assert _files(Path(settings.MEDIA_ROOT)) == []


def test_exactly_10_mb_is_accepted():
    data = b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024 - 9)
    attachment = services.attach_file(OrderFactory(), by=None, file=_upload("statement.pdf", data))
    assert (attachment.content_type, attachment.size) == ("application/pdf", 10 * 1024 * 1024)


def test_a_path_in_the_file_name_is_kept_only_as_a_label(settings):
    # given: a PNG whose name tries to climb out of the media directory
    order = OrderFactory()
    data = png_bytes()

    # when
    attachment = services.attach_file(order, by=staff("Operator"), file=_upload("../../etc/passwd.png", data))

    # then: accepted (its bytes are PNG), stored under a generated name inside MEDIA_ROOT/evidence/
    assert attachment.original_name == "passwd.png"
    assert attachment.content_type == "image/png"
    stored = Path(attachment.file.path).resolve()
    assert stored.is_relative_to((Path(settings.MEDIA_ROOT) / "evidence").resolve())
    assert "passwd" not in stored.name and stored.suffix == ".png"
    assert stored.read_bytes() == data
    assert attachment.size == len(data)
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert not Path("/etc/passwd.png").exists()


@pytest.mark.parametrize(
    ("name", "data", "content_type", "suffix"),
    [
        ("chat.txt", b"Buyer: OK, please cancel.\nSeller: thanks!\n", "text/plain", ".txt"),
        ("微信记录.txt", "买家同意取消订单\uff0c谢谢\uff01\r\n".encode("gbk"), "text/plain", ".txt"),
        ("utf8-bom.txt", "\ufeffCliente: de acuerdo".encode(), "text/plain", ".txt"),
        ("photo.jpeg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32, "image/jpeg", ".jpg"),
        ("shot.webp", b"RIFF\x24\x00\x00\x00WEBPVP8 " + b"\x00" * 32, "image/webp", ".webp"),
        ("scan.pdf", b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n", "application/pdf", ".pdf"),
        ("named-wrong.pdf", png_bytes(), "image/png", ".png"),
    ],
    ids=["text", "gbk-text", "utf8-bom", "jpeg", "webp", "pdf", "png-named-pdf"],
)
def test_accepted_types_are_judged_from_the_bytes(name, data, content_type, suffix):
    order = OrderFactory()
    attachment = services.attach_file(order, by=staff("Operator"), file=_upload(name, data))
    assert (attachment.content_type, attachment.original_name) == (content_type, name)
    assert attachment.file.name.startswith("evidence/") and attachment.file.name.endswith(suffix)
    assert attachment.sha256 == hashlib.sha256(data).hexdigest()
    assert attachment.size == len(data)


def test_an_empty_file_is_refused():
    with pytest.raises(Refused, match="is empty"):
        services.attach_file(OrderFactory(), by=None, file=_upload("blank.png", b""))


def test_attaching_needs_the_permission_and_the_right_order():
    order, other = OrderFactory(), OrderFactory()
    with pytest.raises(NotPermitted):
        services.attach_file(order, by=UserFactory(), file=_upload("a.png", png_bytes()))
    message = services.record_communication(
        other, by=None, counterparty="buyer", channel="email", direction="inbound", summary="hi"
    )
    with pytest.raises(Refused, match="another order"):
        services.attach_file(order, by=None, file=_upload("a.png", png_bytes()), communication=message)
    assert not Attachment.objects.exists()


def test_record_communication_keeps_who_and_when():
    operator = staff("Operator")
    order = OrderFactory()
    when = timezone.now() - timedelta(hours=3)
    comm = services.record_communication(
        order,
        by=operator,
        counterparty="buyer",
        channel="aliexpress_message",
        direction="inbound",
        kind="consent",
        summary="  Buyer agrees to cancel  ",
        body="Sí, cancele el pedido por favor.",
        occurred_at=when,
    )
    stored = Communication.objects.get(pk=comm.pk)
    assert (stored.summary, stored.kind, stored.recorded_by, stored.occurred_at) == (
        "Buyer agrees to cancel",
        "consent",
        operator,
        when,
    )


@pytest.mark.parametrize(
    ("override", "field_name"),
    [
        ({"counterparty": "courier"}, "counterparty"),
        ({"channel": "telegram"}, "channel"),
        ({"direction": "sideways"}, "direction"),
        ({"kind": "threat"}, "kind"),
        ({"summary": "   "}, "summary"),
        ({"summary": "x" * 256}, "summary"),
        ({"occurred_at": timezone.now() + timedelta(days=1)}, "occurred_at"),
        ({"occurred_at": timezone.now().replace(tzinfo=None)}, "occurred_at"),
    ],
)
def test_bad_communications_are_refused_and_write_nothing(override, field_name):
    order = OrderFactory()
    kwargs = {
        "counterparty": "buyer",
        "channel": "email",
        "direction": "inbound",
        "kind": "message",
        "summary": "Hello",
        **override,
    }
    with pytest.raises(Refused) as refused:
        services.record_communication(order, by=None, **kwargs)
    assert refused.value.field == field_name
    assert not Communication.objects.exists()


def test_recording_communications_needs_the_permission():
    with pytest.raises(NotPermitted):
        services.record_communication(
            OrderFactory(),
            by=staff("Finance"),
            counterparty="buyer",
            channel="email",
            direction="inbound",
            summary="Hello",
        )
    assert not Communication.objects.exists()


# --- channels by counterparty ------------------------------------------------------------------


def test_a_buyer_is_not_recorded_on_1688_wangwang_nor_a_supplier_on_aliexpress(client):
    order = OrderFactory()

    # when / then: the service refuses the wrong pairs, naming the channels that fit
    with pytest.raises(
        Refused, match="1688 Wangwang is not a channel for the buyer: choose AliExpress message"
    ) as refused:
        services.record_communication(
            order, by=None, counterparty="buyer", channel="1688_wangwang", direction="outbound", summary="hi"
        )
    assert refused.value.field == "channel"
    with pytest.raises(Refused, match="not a channel for the supplier"):
        services.record_communication(
            order,
            by=None,
            counterparty="supplier",
            channel="aliexpress_message",
            direction="outbound",
            summary="hi",
        )
    assert not Communication.objects.filter(order=order).exists()
    # the right ones are recorded
    services.record_communication(
        order, by=None, counterparty="supplier", channel="1688_wangwang", direction="outbound", summary="hi"
    )

    # and the form says whom each channel reaches, for the page to offer only those
    client.force_login(staff("Operator"))
    page = client.get(f"/admin/orders/order/{order.pk}/evidence/").content.decode()
    assert 'value="1688_wangwang" data-counterparties="supplier platform_support"' in page
    assert 'value="email" data-counterparties="buyer supplier platform_support"' in page
    assert "shopops/channels.js" in page
    # a wrong pair posted is refused on the channel field
    response = client.post(
        f"/admin/orders/order/{order.pk}/evidence/",
        {
            "counterparty": "buyer",
            "channel": "1688_wangwang",
            "direction": "outbound",
            "kind": "message",
            "summary": "Wrong channel",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )
    assert "1688 Wangwang is not a channel for the buyer" in response.content.decode()
    assert not Communication.objects.filter(order=order, summary="Wrong channel").exists()
