"""Evidence pack (issue 15): ``/admin/orders/order/<pk>/evidence-pack/?target=aliexpress|1688``.

A small pack answers the ZIP itself: the summary first (``summary.pdf``; a PNG a page for 1688),
the attachments numbered in timeline order and converted to what the platform takes,
``manifest.txt`` / ``manifest.json`` naming what was left out and why. More files than the
platform takes: the operator chooses. Building a pack records one history event and changes no
evidence.
"""

import hashlib
import io
import json
import os
import re
import time
import zipfile
from pathlib import Path

import pytest
from django.test import Client
from django.urls import reverse
from PIL import Image

from evidence.models import Attachment, Communication
from orders.models import OrderEvent, Status
from orders.packs import jobs, store
from tests.evidence_pack_support import attach, big_photo, pack_url, photo, say, unzip
from tests.factories import OrderFactory, staff
from tests.workflow_support import private_media  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]


def stored_evidence(order) -> list[tuple]:
    rows = []
    for a in Attachment.objects.filter(order=order).order_by("pk"):
        with a.file.open("rb") as f:
            rows.append((a.pk, a.original_name, a.sha256, hashlib.sha256(f.read()).hexdigest()))
    comms = list(
        Communication.objects.filter(order=order).order_by("pk").values_list("pk", "body", "summary")
    )
    return rows + comms


@pytest.fixture
def operator(client):
    user = staff("Operator")
    client.force_login(user)
    return user


def test_a_small_pack_is_the_zip_itself_with_summary_files_and_manifest(client, operator):
    # given: an order with a conversation, a JPEG, a WebP screenshot and a text note, in that order
    order = OrderFactory(status=Status.SHIPPED, buyer_name="Иван Петров")
    chat = say(order, "买家说：商品破损，要求退款。", summary="Buyer reports damage")
    attach(order, photo(800, 600), "damage photo.jpg", communication=chat)
    attach(order, photo(300, 200, kind="WEBP"), "chat screenshot.webp")
    attach(order, b"notes taken on the phone\n", "notes.txt")
    before = stored_evidence(order)

    # when: the operator asks for the AliExpress pack (the order page's button posts)
    response = client.post(pack_url(order, "aliexpress"))

    # then: a ZIP, summary first, the images numbered in timeline order, the WebP as JPEG
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    assert "attachment" in response["Content-Disposition"]
    pack = unzip(response)
    names = pack.namelist()
    assert names == [
        "summary.pdf",
        "01-damage photo.jpg",
        "02-chat screenshot.jpg",
        "manifest.txt",
        "manifest.json",
    ]
    assert pack.read("summary.pdf").startswith(b"%PDF-")
    assert Image.open(io.BytesIO(pack.read("02-chat screenshot.jpg"))).format == "JPEG"
    # and: the manifest says what is in and what was left out, with why
    manifest = json.loads(pack.read("manifest.json"))
    assert [f["name"] for f in manifest["files"]] == names[:3]
    assert manifest["left_out"] == [
        {
            "attachment": manifest["left_out"][0]["attachment"],
            "original_name": "notes.txt",
            "why": "a text file: the platform does not take text files",
        }
    ]
    text = pack.read("manifest.txt").decode()
    assert (
        "notes.txt — a text file" in text
        and "02-chat screenshot.jpg — chat screenshot.webp; converted to JPEG" in text
    )
    # and: one history event names who, the target and the files; the evidence is as it was
    event = OrderEvent.objects.get(order=order, transition="build_evidence_pack")
    assert event.actor == operator
    assert event.data["target"] == "aliexpress"
    assert event.data["files"] == names[:3]
    assert event.data["left_out"] == ["notes.txt: a text file: the platform does not take text files"]
    assert stored_evidence(order) == before
    # and: the order page offers both packs, and its timeline shows the event
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert pack_url(order, "aliexpress") in page and pack_url(order, "1688") in page
    assert "Evidence pack built" in page
    assert "<dt>For</dt><dd>AliExpress dispute</dd>" in page
    assert "<dt>Files in the pack</dt>" in page and "<dt>Left out</dt>" in page


def test_an_image_over_the_size_limit_is_scaled_down_to_fit(client, operator, settings):
    # given: a 9.5 MB photo of noise (barely compressible), and 1688 set to take at most 1 MB a file
    settings.SHOPOPS_EVIDENCE_PACK_1688_MAX_MB = 1
    order = OrderFactory(status=Status.RETURN_RECEIVED)
    attach(order, big_photo(9.5), "unboxing.png")

    response = client.post(pack_url(order, "1688"))

    # then: the photo is in, as a JPEG within 1 MB, and the manifest says it was scaled
    pack = unzip(response)
    info = pack.getinfo("01-unboxing.jpg")
    assert 0.5 * 1024 * 1024 < info.file_size <= 1024 * 1024
    assert Image.open(io.BytesIO(pack.read("01-unboxing.jpg"))).format == "JPEG"
    entry = json.loads(pack.read("manifest.json"))["files"][1]
    assert "converted to JPEG, scaled from" in entry["note"]


def test_a_pdf_goes_to_aliexpress_but_not_to_1688(client, operator):
    order = OrderFactory(status=Status.DISPUTED)
    attach(order, b"%PDF-1.4\n% a courier's statement\n%%EOF\n", "courier statement.pdf")

    ali = unzip(client.post(pack_url(order, "aliexpress")))
    assert "01-courier statement.pdf" in ali.namelist()
    refund = unzip(client.post(pack_url(order, "1688")))
    assert [n for n in refund.namelist() if n.startswith("01")] == []
    assert json.loads(refund.read("manifest.json"))["left_out"][0]["why"] == (
        "the platform takes images only, not PDF documents"
    )


def test_more_files_than_1688_takes_the_operator_chooses(client, operator):
    # given: seven photos; 1688 takes five files, the summary being one
    order = OrderFactory(status=Status.RETURN_RECEIVED)
    photos = [attach(order, photo(64, 64), f"photo {n}.jpg") for n in range(1, 8)]

    # when: the pack is asked for, a chooser answers, not a ZIP, and no event is written
    response = client.get(pack_url(order, "1688"))
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"choose the files" in response.content
    assert not OrderEvent.objects.filter(transition="build_evidence_pack").exists()

    # when: five are chosen, the operator is told at most four
    url = reverse("admin:orders_order_evidence_pack", args=[order.pk])
    too_many = client.post(url, {"target": "1688", "files": [p.pk for p in photos[:5]]})
    assert too_many.status_code == 400
    assert "Choose at most 4 files" in too_many.content.decode()
    assert not OrderEvent.objects.filter(transition="build_evidence_pack").exists()

    # when: four are chosen (not in timeline order), they go in, numbered in timeline order
    chosen = [photos[6], photos[1], photos[3], photos[4]]
    response = client.post(url, {"target": "1688", "files": [p.pk for p in chosen]})
    assert response["Content-Type"] == "application/zip"
    pack = unzip(response)
    assert [n for n in pack.namelist() if n.endswith(".jpg")] == [
        "01-photo 2.jpg",
        "02-photo 4.jpg",
        "03-photo 5.jpg",
        "04-photo 7.jpg",
    ]
    left = json.loads(pack.read("manifest.json"))["left_out"]
    assert [e["original_name"] for e in left] == ["photo 1.jpg", "photo 3.jpg", "photo 6.jpg"]
    assert all(e["why"].startswith("not chosen: the platform takes at most 5 files") for e in left)


def test_a_script_chooses_with_files_in_its_post(client, operator):
    order = OrderFactory(status=Status.RETURN_RECEIVED)
    photos = [attach(order, photo(32, 32), f"p{n}.jpg") for n in range(6)]
    response = client.post(pack_url(order, "1688"), {"files": [photos[0].pk, photos[5].pk]})
    assert response["Content-Type"] == "application/zip"
    assert [n for n in unzip(response).namelist() if n.endswith(".jpg")] == ["01-p0.jpg", "02-p5.jpg"]
    # the same files= in a link only tick them on the page
    page = client.get(pack_url(order, "1688") + f"&files={photos[0].pk}&files={photos[5].pk}")
    assert page["Content-Type"].startswith("text/html")
    assert f'value="{photos[5].pk}" id="pack-file-{photos[5].pk}" checked' in page.content.decode()
    assert f'value="{photos[1].pk}" id="pack-file-{photos[1].pk}">' in page.content.decode()
    assert OrderEvent.objects.filter(transition="build_evidence_pack").count() == 1


def test_a_file_of_another_order_cannot_be_chosen(client, operator):
    order, other = OrderFactory(status=Status.SHIPPED), OrderFactory(status=Status.SHIPPED)
    foreign = attach(other, photo(32, 32), "theirs.jpg")
    response = client.get(pack_url(order, "aliexpress") + f"&files={foreign.pk}")
    assert response.status_code == 400
    assert f"File {foreign.pk} is not evidence of order {order}" in response.content.decode()
    assert not OrderEvent.objects.filter(transition="build_evidence_pack").exists()


@pytest.mark.parametrize("target", ["", "ebay", "ALIEXPRESS"])
def test_an_unknown_target_is_refused_by_name(client, operator, target):
    order = OrderFactory()
    response = client.get(reverse("admin:orders_order_evidence_pack", args=[order.pk]) + f"?target={target}")
    assert response.status_code == 400
    assert "is not a target for an evidence pack: use aliexpress or 1688" in response.content.decode()


def test_who_may_not_record_evidence_may_not_build_a_pack(client):
    client.force_login(staff("Analyst"))
    order = OrderFactory()
    assert client.get(pack_url(order, "aliexpress")).status_code == 403
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    assert "evidence-pack" not in page


def test_limits_are_settings(client, operator, settings):
    # given: 1688 set to take two files, PNG only
    settings.SHOPOPS_EVIDENCE_PACK_1688_MAX_FILES = 2
    settings.SHOPOPS_EVIDENCE_PACK_1688_TYPES = ["png"]
    order = OrderFactory(status=Status.RETURN_RECEIVED)
    attach(order, photo(40, 40), "only.jpg")

    pack = unzip(client.post(pack_url(order, "1688")))

    assert pack.namelist()[:2] == ["summary-1.png", "01-only.png"]
    assert "at most 2 files (the summary included), 5 MB each, PNG" in pack.read("manifest.txt").decode()


def test_a_platform_that_takes_jpeg_only_gets_the_summary_as_jpeg(client, operator, settings):
    settings.SHOPOPS_EVIDENCE_PACK_1688_TYPES = ["jpeg"]
    order = OrderFactory(status=Status.RETURN_RECEIVED)

    pack = unzip(client.post(pack_url(order, "1688")))

    assert pack.namelist() == ["summary-1.jpg", "manifest.txt", "manifest.json"]
    assert Image.open(io.BytesIO(pack.read("summary-1.jpg"))).format == "JPEG"
    assert json.loads(pack.read("manifest.json"))["files"][0]["content_type"] == "image/jpeg"


def test_a_large_pack_is_handed_to_a_worker_and_the_operator_sees_its_progress(client, operator, settings):
    # given: packs above 1 KB of chosen files are built in the background (no worker runs here)
    settings.SHOPOPS_EVIDENCE_PACK_INLINE_MAX_MB = 0.001
    order = OrderFactory(status=Status.SHIPPED)
    attach(order, photo(200, 200, noise=True), "large.jpg")

    response = client.post(pack_url(order, "aliexpress"))

    # then: the operator is sent to the pack's progress page; nothing is recorded yet
    assert response.status_code == 302
    progress = client.get(response["Location"])
    assert progress.status_code == 200
    assert b'id="pack-progress"' in progress.content
    state = client.get(response["Location"] + "?format=json").json()
    assert state["state"] == "queued" and state["download"] == ""
    assert not OrderEvent.objects.filter(transition="build_evidence_pack").exists()
    # and: another operator cannot follow or download it, nor learn that it exists (its orders
    # may be of a store they do not work for)
    client.force_login(staff("Operator", "someone_else"))
    assert client.get(response["Location"]).status_code == 404


def test_old_packs_are_swept_when_a_new_one_is_asked_for(settings):
    settings.SHOPOPS_EVIDENCE_PACK_KEEP_HOURS = 1
    old = store.zip_path("a" * 32)
    old.write_bytes(b"PK")
    two_hours_ago = time.time() - 7200
    os.utime(old, (two_hours_ago, two_hours_ago))
    fresh = store.zip_path("b" * 32)
    fresh.write_bytes(b"PK")

    token = store.new_job(user_id=1, target="1688", orders=[1], chosen=None)

    assert not old.exists() and fresh.exists()
    assert Path(store.pack_dir(), f"{token}.json").exists()


def test_a_missing_pdf_font_is_named_and_nothing_is_recorded(client, operator, settings):
    settings.SHOPOPS_PDF_FONTS = ["/nonexistent/DejaVuSans.ttf"]
    order = OrderFactory(status=Status.SHIPPED)

    response = client.post(pack_url(order, "aliexpress"), follow=True)

    assert response.redirect_chain[-1][0] == reverse("admin:orders_order_change", args=[order.pk])
    assert "font file /nonexistent/DejaVuSans.ttf is missing" in response.content.decode()
    assert not OrderEvent.objects.filter(transition="build_evidence_pack").exists()


def test_a_missing_pdf_font_is_named_on_the_1688_pack_page_too(client, operator, settings):
    # given: the 1688 summary is written when the pack is planned (its pages count in the five)
    settings.SHOPOPS_PDF_FONTS = ["/nonexistent/DejaVuSans.ttf"]
    order = OrderFactory(status=Status.RETURN_RECEIVED)

    for response in (
        client.get(pack_url(order, "1688"), follow=True),
        client.post(pack_url(order, "1688"), follow=True),
    ):
        assert response.redirect_chain[-1][0] == reverse("admin:orders_order_change", args=[order.pk])
        assert "font file /nonexistent/DejaVuSans.ttf is missing" in response.content.decode()
    assert not OrderEvent.objects.filter(transition="build_evidence_pack").exists()


def test_the_order_list_offers_the_action_only_to_who_may_build_packs(client):
    changelist = reverse("admin:orders_order_changelist")
    client.force_login(staff("Operator"))
    assert b'value="evidence_pack"' in client.get(changelist).content
    client.force_login(staff("Analyst"))
    assert b'value="evidence_pack"' not in client.get(changelist).content


def test_a_link_builds_nothing_only_a_post_with_the_csrf_token_does(operator):
    # given: an order whose pack needs no choice, and a browser that checks CSRF as a real one does
    order = OrderFactory(status=Status.DISPUTED)
    proof = attach(order, photo(64, 64), "proof.jpg")
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(operator)

    # when: a page on another site links to the pack (a GET), or posts to it without the token
    page = browser.get(pack_url(order, "aliexpress"))
    forged = browser.post(pack_url(order, "aliexpress"), {"target": "aliexpress"})

    # then: the link shows what the pack holds, ticked, with the button; the forged post is refused
    assert page.status_code == 200 and page["Content-Type"].startswith("text/html")
    assert f'value="{proof.pk}" id="pack-file-{proof.pk}" checked' in page.content.decode()
    assert 'id="evidence-pack-form"' in page.content.decode()
    assert forged.status_code == 403
    assert not OrderEvent.objects.filter(transition="build_evidence_pack").exists()

    # when: the operator presses the button (the form's POST, with its token)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.content.decode()).group(1)
    built = browser.post(
        pack_url(order, "aliexpress"),
        {"csrfmiddlewaretoken": token, "target": "aliexpress", "choose": "1", "files": [proof.pk]},
    )

    # then: the ZIP, and one event
    assert built["Content-Type"] == "application/zip"
    assert "01-proof.jpg" in unzip(built).namelist()
    assert OrderEvent.objects.filter(transition="build_evidence_pack").count() == 1


def test_the_order_page_offers_the_packs_as_buttons_that_post(client, operator):
    order = OrderFactory(status=Status.DISPUTED)
    page = client.get(reverse("admin:orders_order_change", args=[order.pk])).content.decode()
    for target in ("aliexpress", "1688"):
        form = re.search(
            rf'<form method="post" action="{re.escape(pack_url(order, target))}"[^>]*>(.*?)</form>',
            page,
            re.S,
        )
        assert form is not None, target
        assert 'name="csrfmiddlewaretoken"' in form.group(1)
        assert f'data-pack-target="{target}"' in form.group(1)
    assert '<a class="button evidence-pack-button"' not in page


def test_a_pack_of_several_orders_gives_each_order_its_own_folder(operator):
    # given: order ids that make the same folder name once made safe ("/" is not a file name),
    # one of them only by case (one folder on Windows and macOS)
    ids = ["RT/1", "RT_1", "rt_1", "RT:1"]
    orders = [OrderFactory(status=Status.DISPUTED, platform_order_id=i) for i in ids]
    token = store.new_job(
        user_id=operator.pk, target="aliexpress", orders=[o.pk for o in orders], chosen=None
    )

    assert jobs.run_job(token)["state"] == "done"

    # then: four folders, each with its own summary, and each manifest names its order
    with store.zip_path(token).open("rb") as f:
        pack = zipfile.ZipFile(io.BytesIO(f.read()))
    summaries = [n for n in pack.namelist() if n.endswith("/summary.pdf")]
    assert len(summaries) == len(set(summaries)) == 4
    assert len({n.casefold() for n in summaries}) == 4
    named = {json.loads(pack.read(n.replace("summary.pdf", "manifest.json")))["order"] for n in summaries}
    assert named == set(ids)
