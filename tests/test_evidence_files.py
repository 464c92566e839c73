"""Evidence files (issue 12, part 5): named by what they are, never by what the uploader called
them, and judged on every byte: markup hidden after the first 8 KB is still markup."""

from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evidence import services
from evidence.models import Attachment
from shopops.errors import Refused
from tests.factories import OrderFactory, staff
from tests.workflow_support import png_bytes, private_media  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

TEXT = b"Buyer: OK, please cancel the order.\nSeller: done, refund on its way.\n"


def _upload(name: str, data: bytes) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="application/octet-stream")


@pytest.mark.parametrize(
    ("name", "data", "shown"),
    [
        ("invoice.bat", TEXT, "invoice.txt"),
        ("screenshot.png.hta", png_bytes(), "screenshot.png"),
        ("receipt.html", TEXT, "receipt.txt"),
        ("payload.svg", png_bytes(), "payload.png"),
        ("chat.exe.txt", TEXT, "chat.txt"),
        (".htaccess", TEXT, "htaccess.txt"),
        ('a"b<c>.pdf', b"%PDF-1.7\n", "a_b_c.pdf"),
    ],
)
def test_a_file_is_shown_and_downloaded_under_the_extension_of_its_detected_type(client, name, data, shown):
    operator = staff("Operator")
    attachment = services.attach_file(OrderFactory(), by=operator, file=_upload(name, data))

    assert attachment.download_name == shown
    assert Path(attachment.file.name).suffix == Path(shown).suffix
    client.force_login(operator)
    response = client.get(f"/admin/evidence/attachment/{attachment.pk}/download/")
    assert response.status_code == 200
    assert response["Content-Disposition"] == f'attachment; filename="{shown}"'
    assert response["Content-Type"] == attachment.content_type
    listing = client.get("/admin/evidence/attachment/").content.decode()
    assert shown in listing


@pytest.mark.parametrize(
    "markup",
    [
        b"<html><script>alert(1)</script></html>",
        b"<svg onload=alert(1)>",
        b"<img src=x onerror=alert(1)>",
        b"<object data=evil.swf></object>",
        b"<iframe src=//evil>",
        b"< script >alert(1)</script>",
        b"<META http-equiv=refresh content='0;url=//evil'>",
        b"<embed src=evil>",
    ],
)
def test_markup_anywhere_in_a_text_file_is_refused(settings, markup):
    # given: 20 KB of honest chat, then the markup (the old sniff read only the first 8 KB)
    data = TEXT * 300 + markup + b"\n" + TEXT

    with pytest.raises(Refused, match="web page or markup") as refused:
        services.attach_file(OrderFactory(), by=staff("Operator"), file=_upload("chat.txt", data))

    assert refused.value.field == "file"
    assert not Attachment.objects.exists()
    assert [p for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()] == []


def test_a_control_byte_after_8_kb_makes_a_text_file_not_text():
    data = TEXT * 300 + b"\x00\x01binary tail"
    with pytest.raises(Refused, match="not an accepted type"):
        services.attach_file(OrderFactory(), by=None, file=_upload("chat.txt", data))
    assert not Attachment.objects.exists()


def test_a_long_honest_text_with_angle_brackets_in_prose_is_accepted():
    data = TEXT * 1000 + b"Price went from <10 to >12, buyer said 3<4 :)\n"
    attachment = services.attach_file(OrderFactory(), by=None, file=_upload("chat.log", data))
    assert (attachment.content_type, attachment.download_name) == ("text/plain", "chat.txt")
