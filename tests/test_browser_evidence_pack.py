"""The operator clicks "Evidence pack" on the order page and gets the ZIP; with more files than the
platform takes, picks them in the chooser first (Chromium through Playwright)."""

import io
import json
import zipfile

import pytest
from django.apps import apps
from playwright.sync_api import Page

from orders.groups import sync_groups
from orders.models import OrderEvent, Status
from tests.axe_support import assert_accessible
from tests.evidence_pack_support import attach, photo, say
from tests.factories import OrderFactory, staff
from tests.workflow_support import private_media  # noqa: F401

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("private_media"),
]

PASSWORD = "correct-horse-9"  # tests.factories.UserFactory's


@pytest.fixture(autouse=True)
def groups(transactional_db):
    sync_groups(apps)


def _zip_of(download) -> zipfile.ZipFile:
    return zipfile.ZipFile(io.BytesIO(open(download.path(), "rb").read()))


def test_the_button_gives_the_zip(page: Page, live_server, admin_login):
    # given: a disputed order with a chat in Chinese and a photo
    operator = staff("Operator")
    order = OrderFactory(status=Status.DISPUTED)
    chat = say(order, "买家说收到的商品破损。", summary="Damage reported")
    attach(order, photo(400, 300), "damage.jpg", communication=chat)
    admin_login(page, operator.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")

    # when: the operator clicks the AliExpress pack
    with page.expect_download() as info:
        page.click("button.evidence-pack-button[data-pack-target=aliexpress]")
    download = info.value

    # then: the ZIP, named for the order and target, with the summary, the photo and the manifest
    assert download.suggested_filename == f"evidence-{order.platform_order_id}-aliexpress.zip"
    pack = _zip_of(download)
    assert pack.namelist() == ["summary.pdf", "01-damage.jpg", "manifest.txt", "manifest.json"]
    assert OrderEvent.objects.get(order=order, transition="build_evidence_pack").actor == operator


def test_over_the_count_the_operator_chooses_then_downloads(page: Page, live_server, admin_login):
    operator = staff("Operator")
    order = OrderFactory(status=Status.RETURN_RECEIVED)
    photos = [attach(order, photo(64, 64), f"box {n}.jpg") for n in range(6)]
    admin_login(page, operator.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")

    page.click("button.evidence-pack-button[data-pack-target='1688']")
    page.wait_for_selector("#evidence-pack-form")
    assert_accessible(page)  # the files to choose: WCAG 2.1 A/AA (axe-core)
    for chosen in (photos[5], photos[0]):
        page.check(f"#pack-file-{chosen.pk}")
    with page.expect_download() as info:
        page.click("#evidence-pack-form input[type=submit]")

    pack = _zip_of(info.value)
    assert [n for n in pack.namelist() if n.endswith(".jpg")] == ["01-box 0.jpg", "02-box 5.jpg"]
    left = json.loads(pack.read("manifest.json"))["left_out"]
    assert [e["original_name"] for e in left] == ["box 1.jpg", "box 2.jpg", "box 3.jpg", "box 4.jpg"]


@pytest.mark.timeout(120)
def test_a_large_pack_shows_its_progress_then_the_download(
    page: Page, live_server, admin_login, celery_worker, settings
):
    # given: packs of more than 1 KB of files are built by the (real) worker
    settings.SHOPOPS_EVIDENCE_PACK_INLINE_MAX_MB = 0.001
    operator = staff("Operator")
    order = OrderFactory(status=Status.DISPUTED)
    for n in range(3):
        attach(order, photo(300, 300, noise=True), f"scratch {n}.jpg")
    admin_login(page, operator.username, PASSWORD)
    page.goto(f"{live_server.url}/admin/orders/order/{order.pk}/change/")

    # when: the operator clicks the pack, the progress page follows the worker until the link shows
    page.click("button.evidence-pack-button[data-pack-target=aliexpress]")
    page.wait_for_selector("#pack-progress")
    page.wait_for_selector("#pack-download:not([hidden])", timeout=60_000)
    assert page.inner_text("#pack-count") == "4 / 4"
    assert_accessible(page)
    with page.expect_download() as info:
        page.click("#pack-download")

    # then: the ZIP of the three photos and the summary
    pack = _zip_of(info.value)
    assert [n for n in pack.namelist() if n.endswith(".jpg")] == [
        f"0{n + 1}-scratch {n}.jpg" for n in range(3)
    ]
