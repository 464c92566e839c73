"""Images are verified on upload and before they go into a pack (issue 24, "Images").

A file that starts like a PNG, JPEG or WebP is decoded in full within a pixel budget and a memory
budget (``SHOPOPS_IMAGE_MAX_PIXELS``, ``SHOPOPS_IMAGE_MAX_MEMORY_MB``; ``evidence.images``). One
that fails is kept as evidence, marked with why (``Attachment.image_check``), and left out of
packs with the reason in the manifest; no image's bytes reach a pack unverified.
"""

import io
import json
import time
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone
from PIL import Image

from evidence.models import Attachment, ImageProblem
from orders.models import OrderEvent, Status
from orders.packs import jobs, store
from orders.packs.images import LeftOut, fit
from orders.packs.limits import limits_for
from tests.evidence_pack_support import (
    UNREADABLE_IMAGES,
    attach,
    broken_png,
    huge_png,
    legacy_attachment,
    pack_url,
    photo,
    unzip,
)
from tests.factories import OrderFactory, staff
from tests.workflow_support import private_media  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

DAMAGED = "not a readable image: damaged, or not an image of its type"


@pytest.fixture
def operator(client):
    user = staff("Operator")
    client.force_login(user)
    return user


def _type_of(data: bytes) -> str:
    return "image/png" if data.startswith(b"\x89PNG") else "image/jpeg"


def _left_out(pack) -> dict[str, str]:
    return {e["original_name"]: e["why"] for e in json.loads(pack.read("manifest.json"))["left_out"]}


@pytest.mark.parametrize("name", UNREADABLE_IMAGES)
def test_an_unreadable_image_is_kept_as_evidence_marked_and_left_out_of_the_pack(client, operator, name):
    # given: an order with a good photo and a file that starts like an image and is none
    order = OrderFactory(status=Status.DISPUTED)
    attach(order, photo(640, 480), "good.jpg")
    data = UNREADABLE_IMAGES[name]()

    # when: it is uploaded
    hostile = attach(order, data, name)

    # then: it is kept (it is evidence), with its type from its magic bytes, marked unreadable
    stored = Attachment.objects.get(pk=hostile.pk)
    assert stored.content_type == _type_of(data)
    assert stored.image_check == ImageProblem.UNREADABLE and not stored.is_image
    with stored.file.open("rb") as f:
        assert f.read() == data

    # when: the AliExpress pack is built
    response = client.post(pack_url(order, "aliexpress"))

    # then: the pack is built, without its bytes, and the manifest and the event say why
    assert response["Content-Type"] == "application/zip"
    pack = unzip(response)
    assert [n for n in pack.namelist() if n[:2].isdigit()] == ["01-good.jpg"]
    assert all(data not in pack.read(n) for n in pack.namelist())
    assert _left_out(pack) == {name: DAMAGED}
    event = OrderEvent.objects.get(order=order, transition="build_evidence_pack")
    assert event.data["left_out"] == [f"{name}: {DAMAGED}"]


@pytest.mark.parametrize("name", UNREADABLE_IMAGES)
def test_an_image_uploaded_before_the_check_is_verified_before_it_goes_in(client, operator, name):
    # given: the same file recorded before images were checked (no mark), as a PNG or JPEG that
    # AliExpress takes and that fits its limit: it used to be copied into the ZIP byte for byte
    order = OrderFactory(status=Status.DISPUTED)
    data = UNREADABLE_IMAGES[name]()
    legacy_attachment(order, data, name, _type_of(data))

    response = client.post(pack_url(order, "aliexpress"))

    # then: a pack with the summary only (no 500); the file is named with why
    assert response.status_code == 200 and response["Content-Type"] == "application/zip"
    pack = unzip(response)
    assert pack.namelist() == ["summary.pdf", "manifest.txt", "manifest.json"]
    assert _left_out(pack) == {name: "not a readable image: it is damaged or not an image of its type"}


def test_a_pack_of_several_orders_is_built_for_every_order_around_a_broken_png(operator):
    # given: two orders, the first with a PNG broken after its image data (recorded before the
    # check), the second with a good photo; and a pack of both (what the order list's action asks)
    broken_order = OrderFactory(status=Status.DISPUTED, platform_order_id="8100000000000101")
    legacy_attachment(broken_order, broken_png(), "broken.png", "image/png")
    good_order = OrderFactory(status=Status.DISPUTED, platform_order_id="8100000000000102")
    attach(good_order, photo(640, 480), "good.jpg")
    token = store.new_job(
        user_id=operator.pk, target="aliexpress", orders=[broken_order.pk, good_order.pk], chosen=None
    )

    # when: the worker runs it (the task's body, in this process)
    job = jobs.run_job(token)

    # then: done, each order in its folder, the broken file left out with why
    assert job["state"] == "done", job
    with store.zip_path(token).open("rb") as f:
        pack = zipfile.ZipFile(io.BytesIO(f.read()))
    names = pack.namelist()
    assert "8100000000000101/summary.pdf" in names and "8100000000000102/01-good.jpg" in names
    assert not any(n.startswith("8100000000000101/01") for n in names)
    manifest = json.loads(pack.read("8100000000000101/manifest.json"))
    assert manifest["left_out"][0]["why"].startswith("not a readable image")
    assert OrderEvent.objects.filter(transition="build_evidence_pack").count() == 2


def test_a_huge_png_is_refused_from_its_header_before_anything_is_decoded(client, operator):
    # given: a valid 12000×14000 PNG of 500 KB (500 MB decoded; under Pillow's own bomb limit):
    # it took 18 s and 3.2 GB of a web worker
    data = huge_png(12000, 14000)
    order = OrderFactory(status=Status.DISPUTED)

    # when: it is uploaded, and (recorded before the check) packed
    started = time.monotonic()
    marked = attach(order, data, "huge.png")
    legacy_attachment(order, data, "old huge.png", "image/png")
    response = client.post(pack_url(order, "1688"))
    elapsed = time.monotonic() - started

    # then: marked as over the pixel budget, left out of the pack with the sizes, at once
    assert marked.image_check == ImageProblem.PIXELS
    left = _left_out(unzip(response))
    assert left["huge.png"] == "not a readable image: more pixels than an image may have"
    assert left["old huge.png"] == (
        "not a readable image: 12000×14000 pixels is 168.0 megapixels; "
        "an image may have at most 50 megapixels"
    )
    assert elapsed < 5, f"{elapsed:.1f} s"  # decoding it took 18 s


def test_the_pixel_budget_is_a_setting(settings):
    settings.SHOPOPS_IMAGE_MAX_PIXELS = 100 * 100
    order = OrderFactory()
    assert attach(order, photo(100, 100, kind="PNG"), "fits.png").image_check == ""
    assert attach(order, photo(101, 100, kind="PNG"), "over.png").image_check == ImageProblem.PIXELS


def test_the_memory_budget_refuses_a_png_and_decodes_a_jpeg_at_a_smaller_scale(settings):
    # given: at most 1 MB decoded (a 1000×1000 image takes 4 MB: four bytes a pixel)
    settings.SHOPOPS_IMAGE_MAX_MEMORY_MB = 1
    order = OrderFactory(status=Status.DISPUTED)

    # then: a PNG over it is not opened; a JPEG is decoded at 1/2 scale (libjpeg), within it
    png = attach(order, photo(1000, 1000, kind="PNG"), "screenshot.png")
    jpeg = attach(order, photo(1000, 1000), "photo.jpg")
    assert png.image_check == ImageProblem.MEMORY
    assert jpeg.image_check == ""

    # and: the JPEG goes into a pack; the PNG is left out with what it would take
    limits = limits_for("aliexpress")
    assert fit(photo(1000, 1000), "image/jpeg", limits).note == ""
    with pytest.raises(LeftOut, match="would take 4 MB of memory; an image may take at most 1 MB"):
        fit(photo(1000, 1000, kind="PNG"), "image/png", limits)


def test_a_jpeg_too_large_for_even_an_eighth_scale_is_not_opened(settings):
    settings.SHOPOPS_IMAGE_MAX_MEMORY_MB = 0.001  # 1 KB: 1600×1600 at 1/8 is 200×200, 160 KB
    order = OrderFactory()
    assert attach(order, photo(1600, 1600), "photo.jpg").image_check == ImageProblem.MEMORY


def test_an_image_converted_for_the_pack_is_a_whole_image(client, operator):
    # given: a WebP (AliExpress takes no WebP: converted) and an animated PNG (never copied)
    order = OrderFactory(status=Status.DISPUTED)
    attach(order, photo(640, 480, kind="WEBP"), "screen.webp")
    frames = [Image.new("RGB", (600, 600), colour) for colour in ("red", "blue")]
    animated = io.BytesIO()
    frames[0].save(animated, "PNG", save_all=True, append_images=frames[1:])
    attach(order, animated.getvalue(), "animated.png")

    pack = unzip(client.post(pack_url(order, "aliexpress")))

    # then: both are stills converted to JPEG, each decodes in full
    images = [n for n in pack.namelist() if n[:2].isdigit()]
    assert images == ["01-screen.jpg", "02-animated.jpg"]
    for name in images:
        with Image.open(io.BytesIO(pack.read(name))) as image:
            image.load()
            assert image.format == "JPEG"


def test_the_operator_is_told_when_an_upload_is_not_a_readable_image(client, operator):
    order = OrderFactory(status=Status.DISPUTED)
    url = reverse("admin:orders_order_evidence", args=[order.pk])
    response = client.post(
        url,
        {
            "counterparty": "buyer",
            "channel": "aliexpress_message",
            "direction": "inbound",
            "kind": "message",
            "summary": "Buyer's photo",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "files": [SimpleUploadedFile("photo.png", broken_png())],
        },
        follow=True,
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "is kept as evidence, but it is not a readable image" in page
    assert "it will not go into evidence packs" in page
    assert Attachment.objects.get(order=order).image_check == ImageProblem.UNREADABLE
