"""The summary renders every script a case may hold: read back as text (pypdf) and drawn as an
image (pypdfium2, the PDFium renderer), with fonts the PDF embeds (no viewer font needed). The
AliExpress pack holds ``summary.pdf``; the 1688 pack its pages drawn as PNGs, whose PDF the tests
read (``drawn_summaries``)."""

import hashlib
import io
import unicodedata
import zipfile
from decimal import Decimal
from pathlib import Path

import pypdfium2
import pytest
from django.utils import timezone
from pypdf import PdfReader

from evidence.models import Communication
from orders.models import Status
from shopops import fonts
from tests.evidence_pack_support import drawn_summaries, pack_url, say
from tests.factories import OrderFactory, RefundFactory, SupplierOrderFactory, staff
from tests.workflow_support import private_media  # noqa: F401

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("private_media")]

MESSAGES = {
    "chinese": "买家说收到的手机壳破损了，要求全额退款。",
    "russian": "Покупатель говорит, что чехол пришёл треснутым.",
    "arabic": "المشتري يوافق على الإلغاء",
    "hebrew": "הקונה מסכים לביטול",
    "korean": "구매자가 환불을 요청했습니다",
    "japanese": "購入者はケースが割れていたと言っています",
    "spanish": "La funda llegó rota, quiero el reembolso.",
}


def _summary_pdf(client, order, target: str, drawn: list[bytes] | None = None) -> bytes:
    """The summary's PDF: ``summary.pdf`` of an AliExpress pack, or the one a 1688 pack's images
    were drawn from (``drawn``: from ``drawn_summaries``)."""
    client.force_login(staff("Operator"))
    response = client.post(pack_url(order, target))
    assert response["Content-Type"] == "application/zip"
    pack = zipfile.ZipFile(io.BytesIO(response.content))
    if target == "1688":
        assert "summary.pdf" not in pack.namelist() and "summary-1.png" in pack.namelist()
        return drawn[-1]
    return pack.read("summary.pdf")


@pytest.fixture
def case():
    """Every script in what the buyer said, and in what the supplier said (each pack reads one)."""
    order = OrderFactory(
        status=Status.REFUND_PENDING, buyer_name="Ли Вэй 李伟", platform_order_id="8100000000000042"
    )
    SupplierOrderFactory(order=order, supplier_name="义乌市优品手机配件厂", amount=Decimal("18.60"))
    RefundFactory(order=order, amount=Decimal("42.50"), reference="AE-RF-42")
    for n, (script, text) in enumerate(MESSAGES.items()):
        say(order, text, summary=f"message in {script}", minutes_ago=60 - n)
        say(
            order,
            f"供应商: {text}",
            counterparty="supplier",
            summary=f"supplier in {script}",
            minutes_ago=30 - n,
        )
    say(order, "供应商同意退款 18.60 元", counterparty="supplier", summary="供应商答复", minutes_ago=1)
    return order


# What each reader reads of the case: the buyer's side for AliExpress, the purchase's for 1688.
FACTS = {
    "aliexpress": ("8100000000000042", "Ли Вэй 李伟", "100.00 USD", "42.50 USD", "AE-RF-42"),
    "1688": ("义乌市优品手机配件厂", "18.60 CNY", "供应商同意退款 18.60 元"),
}
SAID_BY = {"aliexpress": "", "1688": "供应商: "}


@pytest.mark.dejavu
@pytest.mark.parametrize("target", ["aliexpress", "1688"])
def test_every_script_is_text_in_the_summary(client, case, target, monkeypatch):
    drawn = drawn_summaries(monkeypatch)
    pdf = PdfReader(io.BytesIO(_summary_pdf(client, case, target, drawn)))
    text = unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in pdf.pages))
    # the facts of the case
    for fact in FACTS[target]:
        assert fact in text, fact
    # every communication's full text, in its own script
    for script, message in MESSAGES.items():
        assert unicodedata.normalize("NFKC", SAID_BY[target] + message) in text, script
    # and the fonts are embedded: a reviewer's viewer needs none of its own
    fonts = [font.get_object() for page in pdf.pages for font in page["/Resources"]["/Font"].values()]
    for font in fonts:
        descriptor = font["/DescendantFonts"][0].get_object()["/FontDescriptor"]
        assert "/FontFile2" in descriptor


def test_the_summary_page_renders_with_ink_in_every_line(client, case):
    data = _summary_pdf(client, case, "aliexpress")
    document = pypdfium2.PdfDocument(data)
    assert len(document) >= 1
    rendered = 0
    for index in range(len(document)):
        image = document[index].render(scale=1.5).to_pil().convert("L")
        dark = sum(image.histogram()[:128])
        assert dark > 500, f"page {index + 1} is blank"
        rendered += 1
    # The Chinese, Korean and Arabic lines drawn: PDFium finds them where it drew them.
    page_text = "".join(document[i].get_textpage().get_text_range() for i in range(len(document)))
    for script in ("chinese", "korean", "japanese", "russian"):
        assert MESSAGES[script] in page_text, script
    assert rendered == len(document)
    document.close()


def test_a_communication_of_several_pages_flows_onto_more_pages(client, monkeypatch):
    drawn = drawn_summaries(monkeypatch)
    order = OrderFactory(status=Status.DISPUTED)
    say(
        order,
        "\n".join(f"第{n}行：供应商再次拒绝退款。" for n in range(120)),
        counterparty="supplier",
        summary="long chat",
    )
    data = _summary_pdf(client, order, "1688", drawn)
    pdf = PdfReader(io.BytesIO(data))
    assert len(pdf.pages) > 2
    assert "第119行" in pdf.pages[-1].extract_text() or "第119行" in pdf.pages[-2].extract_text()


def test_a_bidi_override_in_a_message_cannot_reverse_the_summary(client):
    # given: a message that hides a right-to-left override before Latin text, recorded before
    # shopops.inputs refused such characters (written as it was then, not through the service)
    order = OrderFactory(status=Status.DISPUTED)
    Communication.objects.create(
        order=order,
        counterparty="buyer",
        channel="aliexpress_message",
        direction="inbound",
        summary="override",
        body="refund \u202e0.01 USD only\u202c agreed",
        occurred_at=timezone.now(),
    )

    text = PdfReader(io.BytesIO(_summary_pdf(client, order, "aliexpress"))).pages[0].extract_text()

    # then: the text reads as typed, without the control characters
    assert "refund 0.01 USD only agreed" in text


def test_the_summary_speaks_the_reviewers_language(client, monkeypatch):
    drawn = drawn_summaries(monkeypatch)
    # given: an order whose return was received, bought on 1688 and now in our warehouse
    order = OrderFactory(status=Status.RETURN_RECEIVED)
    SupplierOrderFactory(order=order, status="received")

    aliexpress = PdfReader(io.BytesIO(_summary_pdf(client, order, "aliexpress"))).pages[0].extract_text()
    supplier = PdfReader(io.BytesIO(_summary_pdf(client, order, "1688", drawn))).pages[0].extract_text()

    # then: English for AliExpress's reviewer, Chinese for the 1688 supplier
    assert "Return received" in aliexpress and "已收到退货" not in aliexpress
    assert "已入库" in supplier and "采购状态" in supplier and "Received in our warehouse" not in supplier


def test_recorded_text_is_printed_as_written_never_as_a_page_count(client):
    # given: messages that hold fpdf2's default page-count alias, and an order id that does
    order = OrderFactory(status=Status.DISPUTED, platform_order_id="RT-{nb}")
    say(order, "refund of {nb} USD, see page {nb}", summary="refund of {nb} USD")
    say(order, "\n".join(f"line {n}" for n in range(150)), summary="a long chat")

    pdf = PdfReader(io.BytesIO(_summary_pdf(client, order, "aliexpress")))
    text = "\n".join(page.extract_text() for page in pdf.pages)

    # then: the text as written; only the footer counts the pages
    assert "refund of {nb} USD, see page {nb}" in text
    assert "Evidence summary — order RT-{nb}" in text
    pages = len(pdf.pages)
    assert pages > 1
    for number, page in enumerate(pdf.pages, start=1):
        assert f"RT-{{nb}} · {number}/{pages}" in page.extract_text()


# --- a fresh machine: no system font -----------------------------------------------------------


def test_the_cjk_font_comes_with_the_python_packages_and_is_the_one_pinned():
    packaged = fonts.packaged_cjk_font()
    assert packaged is not None, "pip install -r requirements.txt -c constraints.txt installs it"
    assert hashlib.sha256(packaged.read_bytes()).hexdigest() == fonts.WQY_SHA256
    assert fonts.default_pdf_fonts()[-1] == str(packaged)
    assert str(fonts.DEBIAN_WQY) not in fonts.default_pdf_fonts()


@pytest.mark.parametrize("target", ["aliexpress", "1688"])
def test_the_summary_is_written_with_no_system_font(client, settings, target, monkeypatch):
    drawn = drawn_summaries(monkeypatch)
    # given: no font of the system at all, only what the Python packages installed
    settings.SHOPOPS_PDF_FONTS = [str(fonts.packaged_cjk_font())]
    order = OrderFactory(status=Status.DISPUTED, buyer_name="Ли Вэй 李伟")
    SupplierOrderFactory(order=order, supplier_name="Ли Вэй 李伟 Trading")
    for script in ("chinese", "russian", "korean", "japanese", "spanish"):
        say(order, MESSAGES[script], summary=f"message in {script}")
        say(order, f"供应商: {MESSAGES[script]}", counterparty="supplier", summary=f"supplier in {script}")

    pdf = PdfReader(io.BytesIO(_summary_pdf(client, order, target, drawn)))
    text = unicodedata.normalize("NFKC", "\n".join(page.extract_text() for page in pdf.pages))

    # then: every one of those scripts is text in it, in the embedded font
    assert "Ли Вэй 李伟" in text
    for script in ("chinese", "russian", "korean", "japanese", "spanish"):
        assert unicodedata.normalize("NFKC", SAID_BY[target] + MESSAGES[script]) in text, script
    for page in pdf.pages:
        for font in page["/Resources"]["/Font"].values():
            descriptor = font.get_object()["/DescendantFonts"][0].get_object()["/FontDescriptor"]
            assert "/FontFile2" in descriptor


def test_check_says_what_a_machine_without_dejavu_misses(settings, monkeypatch):
    monkeypatch.setattr(fonts, "DEJAVU_SANS", Path("/nonexistent/DejaVuSans.ttf"))
    settings.SHOPOPS_PDF_FONTS = fonts.default_pdf_fonts()
    fonts_used = settings.SHOPOPS_PDF_FONTS
    assert fonts_used == [str(fonts.packaged_cjk_font())]
    assert [m.id for m in fonts.check_pdf_fonts(None)] == ["shopops.W001"]
    settings.SHOPOPS_PDF_FONTS = ["/nonexistent/font.ttf"]
    (missing,) = fonts.check_pdf_fonts(None)
    assert missing.id == "shopops.W002" and "/nonexistent/font.ttf is missing" in missing.msg
