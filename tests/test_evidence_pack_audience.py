"""Evidence packs per audience (issue 21, part 4), read back as each reader gets them.

The walk found both packs telling each platform what the other should know, and each finding has
its test here, which failed before the fix:

- the AliExpress pack held the 1688 purchase block (the supplier's name and contact, 17.50 CNY);
- it held the supplier's Wangwang refusal and our own steps ("Supplier refused", "Refund marked
  received" by Finance);
- the 1688 pack gave the supplier the buyer's name, email and phone and our sale price;
- the 1688 pack held ``summary.pdf``, though its own manifest says JPEG and PNG only.

Every pack is read back whole: the ZIP's names, both manifests, the summary's text (``summary.pdf``
with pypdf; for 1688 the PDF its images were drawn from) and the summary images themselves.
"""

import io
import itertools
import json
import re
import zipfile

import pypdfium2
import pytest
from django.urls import reverse
from PIL import Image

from orders.models import OrderEvent
from tests.evidence_pack_support import (
    BUYER_FIELDS,
    INTERNAL_STEPS,
    MANIFESTS,
    SUPPLIER_FIELDS,
    attach,
    drawn_summaries,
    pack_url,
    pdf_text,
    photo,
    readable,
    say,
    unzip,
    upload_files,
    walk_case,
)
from tests.factories import staff
from tests.workflow_support import private_media  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

PURCHASE_BLOCK = ("supplier's name", "supplier's contact", "purchase amount", "purchase currency")


@pytest.fixture
def case():
    return walk_case()


@pytest.fixture
def operator(client):
    user = staff("Operator", "packer")
    client.force_login(user)
    return user


def built(client, order, target: str) -> zipfile.ZipFile:
    response = client.post(pack_url(order, target))
    assert response.status_code == 200, response.content[:2000]
    assert response["Content-Type"] == "application/zip"
    return unzip(response)


def summary_text(texts: dict[str, str]) -> str:
    found = [text for where, text in texts.items() if "summary" in where]
    assert len(found) == 1, list(texts)
    return found[0]


# --- the AliExpress pack: the buyer's case, nothing of the purchase -------------------------------


def test_the_aliexpress_pack_holds_the_sale_and_not_the_1688_purchase(client, operator, case):
    pack = built(client, case, "aliexpress")
    texts = readable(pack, [])
    summary = summary_text(texts)

    # the purchase block is nowhere: not the supplier, its contact, nor what the goods cost us
    for where, text in texts.items():
        for field in PURCHASE_BLOCK:
            assert SUPPLIER_FIELDS[field] not in text, f"the {field} is in {where}"
    # the sale, its shipment, the buyer and their refund: what AliExpress judges the case on
    for fact in (
        "8100000000000013",
        "John Smith",
        "john.0013@example.com",
        "+12129403269",
        "43.00 USD",
        "LP385483179096CN YunExpress",
        "RT13CN",
        "Damaged",
        "Quality / not as described",
    ):
        assert fact in summary, fact
    assert "1688" not in summary


def test_the_aliexpress_pack_holds_the_buyers_messages_not_the_suppliers(client, operator, case):
    pack = built(client, case, "aliexpress")
    texts = readable(pack, [])

    # the supplier's Wangwang refusal is not in it: neither its text nor its screenshot
    for where, text in texts.items():
        assert SUPPLIER_FIELDS["the supplier's Wangwang refusal"] not in text, where
    for where, text in texts.items():
        assert "wangwang" not in text.lower(), where
    # the buyer's messages, the screenshot of the buyer's chat and the photo of the damage are
    assert "The bag arrived torn, I will send it back." in summary_text(texts)
    assert upload_files(pack) == ["summary.pdf", "01-buyer chat.png", "02-damage.jpg"]


def test_the_aliexpress_pack_holds_none_of_our_own_steps(client, operator, case):
    summary = summary_text(readable(built(client, case, "aliexpress"), []))

    # not the supplier asked and refusing, not Finance's check of the refund, nor who of us did what
    for step in INTERNAL_STEPS:
        assert step not in summary, step
    assert "supplier" not in summary.lower()
    # the buyer's side of the story is told
    for step in ("Propose a return", "Buyer agrees to return", "Receive returned goods"):
        assert step in summary, step


# --- the 1688 pack: the purchase's case, nothing of the buyer -------------------------------------


def test_the_1688_pack_holds_the_purchase_and_not_the_buyer_or_the_sale_price(
    client, operator, case, monkeypatch
):
    drawn = drawn_summaries(monkeypatch)
    pack = built(client, case, "1688")
    texts = readable(pack, drawn)
    summary = summary_text(texts)

    # nothing of the buyer or the sale, anywhere
    for where, text in texts.items():
        for field, value in BUYER_FIELDS.items():
            assert value not in text, f"the {field} is in {where}"
    assert "8100000000000013" not in summary
    assert "buyer chat" not in texts["names"] and "buyer chat" not in texts["manifest.txt"]
    # the 1688 order and its entry, what came back and how, the supplier's own words
    for fact in (
        "3000000000000013",
        "3000000000000113",
        "深圳市华强电子有限公司",
        "17.50 CNY",
        "已损坏",
        "包装完好,不同意退款",
        "拉链损坏,已退回",
        "1688-RF-13",
        "1688-DSP-13",
    ):
        assert fact in summary, fact


def test_the_1688_pack_is_one_to_five_jpeg_or_png_files_as_its_manifest_says(
    client, operator, case, monkeypatch
):
    drawn = drawn_summaries(monkeypatch)
    pack = built(client, case, "1688")
    files = upload_files(pack)
    manifest = json.loads(pack.read("manifest.json"))

    # the manifest says JPEG and PNG only, and so it is: the summary is a page drawn as a PNG
    assert manifest["limits"]["types"] == ["image/jpeg", "image/png"]
    assert 1 <= len(files) <= 5
    assert files == ["summary-1.png", "01-damage.jpg", "02-wangwang.png"]
    for name in files:
        with Image.open(io.BytesIO(pack.read(name))) as image:
            assert image.format in ("JPEG", "PNG"), name
            image.load()
    with Image.open(io.BytesIO(pack.read("summary-1.png"))) as page:
        assert page.size == (1241, 1754)  # A4 at 150 dpi
        assert sum(page.convert("L").histogram()[:128]) > 5000  # text on it
    assert len(drawn) == 1
    assert len(pypdfium2.PdfDocument(drawn[0])) == 1


@pytest.mark.parametrize("target", ["aliexpress", "1688"])
def test_both_manifests_list_exactly_what_is_inside(client, operator, case, target):
    pack = built(client, case, target)
    files = upload_files(pack)
    manifest = json.loads(pack.read("manifest.json"))
    text = pack.read("manifest.txt").decode()

    assert sorted(pack.namelist()) == sorted([*files, *MANIFESTS])
    assert [entry["name"] for entry in manifest["files"]] == files
    for entry in manifest["files"]:
        assert entry["size"] == pack.getinfo(entry["name"]).file_size, entry["name"]
        assert entry["content_type"] in manifest["limits"]["types"], entry["name"]
    listed = text.split(f"Upload these {len(files)} files, in this order (the summary first):\n")[1]
    listed = listed.split("\n\n")[0].splitlines()
    assert [line.strip().split(" — ")[0] for line in listed] == files
    assert "they are not uploaded" in text
    event = OrderEvent.objects.get(order=case, transition="build_evidence_pack")
    assert event.data["files"] == files


# --- how it reads: dates, labels, the Chinese summary ---------------------------------------------


@pytest.mark.parametrize("target", ["aliexpress", "1688"])
def test_dates_are_written_out_and_codes_are_labels(client, operator, case, target, monkeypatch):
    drawn = drawn_summaries(monkeypatch)
    summary = summary_text(readable(built(client, case, target), drawn))

    assert not re.search(r"\d{4}-\d\d-\d\dT\d\d:\d\d", summary), "an ISO stamp"
    assert re.findall(r"\b[a-z0-9]+(?:_[a-z0-9]+)+\b", summary) == []  # to_buyer, return_refund…
    assert "to_buyer" not in summary and "from_supplier" not in summary
    assert re.search(r"\(UTC\+\d\d:\d\d\)", summary)


def test_the_chinese_summary_has_no_english_label_left(client, operator, case, monkeypatch):
    drawn = drawn_summaries(monkeypatch)
    summary = summary_text(readable(built(client, case, "1688"), drawn))

    latin = set(re.findall(r"[A-Za-z]{2,}", summary))
    # what is Latin is a value written so: the currency, the time zone, the references
    assert latin <= {"CNY", "UTC", "DSP", "RF"}, latin
    assert "证据摘要" in summary and "步骤时间线" in summary and "沟通记录" in summary
    assert re.search(r"\d{4}-\d\d-\d\d \d\d:\d\d \(UTC\+08:00\)", summary)  # as in English


def test_latin_inside_chinese_lines_keeps_its_width(client, operator, case, monkeypatch):
    drawn = drawn_summaries(monkeypatch)
    # given: the 1688 summary, where ids, amounts and dates sit beside Chinese labels and start
    # lines of their own ("1688退款申请", "2026-…"); fpdf2 drew such a line with the font of the
    # Chinese line before it: Latin squeezed, or missing
    built(client, case, "1688")
    document = pypdfium2.PdfDocument(drawn[0])
    page = document[0]
    text = page.get_textpage()

    # then: no Latin letter or digit overlaps the next one on its line (drawn at another size
    # than it was set for, they did), and each digit of the body is as wide as every other
    boxes = [
        (
            text.get_text_range(index, 1),
            text.get_charbox(index),
            pypdfium2.raw.FPDFText_GetFontSize(text.raw, index),
        )
        for index in range(text.count_chars())
    ]
    latin = [(char, box, size) for char, box, size in boxes if char.isascii() and char.isalnum()]
    assert len(latin) > 200
    for (char, box, _size), (following, after, _next_size) in itertools.pairwise(latin):
        if abs(box[1] - after[1]) < 1 and after[0] > box[0]:  # the next one on the same line
            assert box[2] <= after[0] + 0.3, f"{char}{following} overlap: {box} {after}"
    widths: dict[str, set[float]] = {}
    for char, box, size in latin:
        if char.isdigit() and round(size) == 10:
            widths.setdefault(char, set()).add(round(box[2] - box[0], 1))
    assert all(len(found) == 1 for found in widths.values()), widths
    # and: the text reads as written where it starts a line in a Chinese context
    assert "1688退款申请" in pdf_text(drawn[0])
    text.close()
    page.close()
    document.close()


# --- the files: whose they are, and how many ----------------------------------------------------


def test_a_file_of_the_suppliers_chat_cannot_be_chosen_for_aliexpress(client, operator, case):
    screenshot = case.attachments.get(original_name="wangwang.png")
    url = reverse("admin:orders_order_evidence_pack", args=[case.pk])

    page = client.get(pack_url(case, "aliexpress")).content.decode()
    response = client.post(url, {"target": "aliexpress", "files": [screenshot.pk]})

    assert 'id="pack-withheld"' in page and "wangwang.png" in page
    assert f'id="pack-file-{screenshot.pk}"' not in page
    assert response.status_code == 400
    assert "“wangwang.png” is not for AliExpress dispute" in response.content.decode()
    assert not OrderEvent.objects.filter(transition="build_evidence_pack").exists()


def test_the_summarys_pages_count_in_the_five_files_of_1688(client, operator, case, monkeypatch):
    drawn = drawn_summaries(monkeypatch)
    # given: a long Wangwang conversation (a summary of two pages) and six photos
    say(
        case,
        "\n".join(f"第{n}条：供应商说包装完好。" for n in range(25)),
        counterparty="supplier",
        summary="长对话",
    )
    photos = [attach(case, photo(64, 64), f"box {n}.jpg") for n in range(6)]
    url = reverse("admin:orders_order_evidence_pack", args=[case.pk])

    # when: the operator opens the pack, then chooses four photos
    page = client.get(pack_url(case, "1688")).content.decode()
    too_many = client.post(url, {"target": "1688", "files": [p.pk for p in photos[:4]]})
    # then: the summary takes two of the five files: three photos may go with it
    assert "(at most 3)" in page, re.search(r"takes .*?\)\.[^<]*", page).group(0)
    assert too_many.status_code == 400
    assert "Choose at most 3 files: 1688 refund request takes 5, the summary takes 2 of them." in (
        too_many.content.decode()
    )

    # when: three are chosen
    pack = unzip(client.post(url, {"target": "1688", "files": [p.pk for p in photos[:3]]}))
    # then: five images, the summary's two pages first
    assert upload_files(pack) == [
        "summary-1.png",
        "summary-2.png",
        "01-box 0.jpg",
        "02-box 1.jpg",
        "03-box 2.jpg",
    ]
    assert "第24条" in pdf_text(drawn[-1])


def test_a_summary_longer_than_the_room_left_is_drawn_on_longer_pages(client, operator, case, monkeypatch):
    drawn = drawn_summaries(monkeypatch)
    # given: a conversation of about eight A4 pages, and photos to go with it
    say(
        case,
        "\n".join(f"第{n}条：供应商说包装完好。" for n in range(400)),
        counterparty="supplier",
        summary="长对话",
    )
    box = attach(case, photo(64, 64), "box.jpg")

    response = client.post(pack_url(case, "1688"), {"files": [box.pk]})
    pack = unzip(response)

    # then: the summary takes at most four images, each longer than A4, and a photo still goes in
    summaries = [n for n in upload_files(pack) if n.startswith("summary-")]
    assert 1 <= len(summaries) <= 4
    assert len(upload_files(pack)) <= 5 and "01-box.jpg" in pack.namelist()
    with Image.open(io.BytesIO(pack.read(summaries[0]))) as first:
        assert first.width == 1241 and first.height > 1754
    assert "第399条" in pdf_text(drawn[-1])
