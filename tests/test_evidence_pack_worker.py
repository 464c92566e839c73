"""Large evidence packs are built by a real Celery worker (``orders.build_evidence_pack``) while
the operator's page follows the progress, then downloads the ZIP; several orders make one ZIP with
a folder per order (the order list's action)."""

import io
import json
import zipfile

import pytest
from django.urls import reverse

from orders.models import OrderEvent, Status
from tests.concurrency_support import wait_until
from tests.evidence_pack_support import attach, big_photo, photo
from tests.factories import OrderFactory, staff
from tests.workflow_support import private_media  # noqa: F401

pytestmark = [pytest.mark.usefixtures("private_media")]


def _follow(client, progress_url: str, timeout: float = 240) -> list[dict]:
    """Poll the progress as the page does, until the pack is done or failed; every answer seen."""
    seen = []

    def ended() -> bool:
        seen.append(client.get(progress_url + "?format=json").json())
        return seen[-1]["state"] in ("done", "failed")

    wait_until(ended, seconds=timeout, every=0.2, what="the pack to be built")
    return seen


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_thirty_photos_of_ten_megabytes_are_built_by_a_worker_with_progress(celery_worker, client, settings):
    # given: an order with 30 photos of about 9.5 MB (the upload limit is 10 MB) and an operator
    operator = staff("Operator")
    client.force_login(operator)
    order = OrderFactory(status=Status.DISPUTED)
    data = big_photo(9.5)
    photos = [attach(order, data, f"photo {n:02d}.png") for n in range(1, 31)]
    url = reverse("admin:orders_order_evidence_pack", args=[order.pk])

    # when: the pack for AliExpress (10 files with the summary) is asked for, the operator chooses 9
    chooser = client.get(url + "?target=aliexpress")
    assert b"choose the files" in chooser.content
    chosen = photos[-9:]
    response = client.post(url, {"target": "aliexpress", "files": [p.pk for p in chosen]})

    # then: 85 MB of photos are not built in the request: the operator follows the worker's progress
    assert response.status_code == 302
    progress_url = response["Location"]
    page = client.get(progress_url)
    assert b'id="pack-progress"' in page.content
    seen = _follow(client, progress_url)
    final = seen[-1]
    assert final["state"] == "done", final
    assert final["total"] == 10 and final["done"] == 10
    # the page saw the worker part way (each 9.5 MB photo takes it a good fraction of a second)
    assert any(s["state"] == "running" and 0 < s["done"] < s["total"] for s in seen), seen

    # and: the download is the ZIP: summary first, the nine chosen photos, each within 2 MB
    download = client.get(final["download"])
    assert download["Content-Type"] == "application/zip"
    pack = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = pack.namelist()
    assert names[0] == "summary.pdf"
    assert names[1:10] == [f"{n - 21:02d}-photo {n:02d}.jpg" for n in range(22, 31)]
    assert all(pack.getinfo(n).file_size <= 2 * 1024 * 1024 for n in names[1:10])
    left = json.loads(pack.read("manifest.json"))["left_out"]
    assert len(left) == 21
    # and: one history event, by the operator, after the ZIP was complete
    event = OrderEvent.objects.get(order=order, transition="build_evidence_pack")
    assert event.actor == operator and event.data["files"] == names[:10]


@pytest.mark.timeout(120)
def test_the_order_list_action_packs_several_orders_one_folder_each(celery_worker, client):
    # given: two orders with photos, one with more than 1688 takes
    client.force_login(staff("Supervisor"))
    first = OrderFactory(status=Status.RETURN_RECEIVED, platform_order_id="8100000000000101")
    second = OrderFactory(status=Status.RETURN_RECEIVED, platform_order_id="8100000000000102")
    attach(first, photo(64, 64), "front.jpg")
    for n in range(6):
        attach(second, photo(64, 64), f"box {n}.jpg")
    changelist = reverse("admin:orders_order_changelist")
    selection = {"action": "evidence_pack", "_selected_action": [first.pk, second.pk]}

    # when: the action asks for the target, then builds
    ask = client.post(changelist, selection)
    assert b"evidence-pack-bulk-form" in ask.content
    response = client.post(changelist, {**selection, "target": "1688", "apply": "1"})
    assert response.status_code == 302
    final = _follow(client, response["Location"])[-1]
    assert final["state"] == "done", final

    # then: one ZIP, a folder per order, each with its summary and manifest
    download = client.get(final["download"])
    pack = zipfile.ZipFile(io.BytesIO(b"".join(download.streaming_content)))
    names = pack.namelist()
    assert "8100000000000101/summary-1.png" in names and "8100000000000102/summary-1.png" in names
    assert "8100000000000101/01-front.jpg" in names
    assert [n for n in names if n.startswith("8100000000000102/") and n.endswith(".jpg")] == [
        f"8100000000000102/{i + 1:02d}-box {i}.jpg" for i in range(4)
    ]
    left = json.loads(pack.read("8100000000000102/manifest.json"))["left_out"]
    assert [e["original_name"] for e in left] == ["box 4.jpg", "box 5.jpg"]
    assert OrderEvent.objects.filter(transition="build_evidence_pack").count() == 2
