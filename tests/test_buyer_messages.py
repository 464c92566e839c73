"""Buyer messages in the buyer's language: refund confirmation and payment reminder (email and SMS),
through the real outbox and delivery; Babel formats; right-to-left HTML; SMS segments; the check
command and the English fallback."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command

from orders import delivery, sms, workflow
from orders.buyer_messages import catalogue
from orders.buyer_messages.formatting import format_amount, format_facts, format_moment
from orders.buyer_messages.spec import LANGUAGES, LONGEST_FACTS, MESSAGES, buyer_language
from orders.models import Notification, Status
from orders.workflow import outbox

from .factories import OrderFactory, RefundFactory

pytestmark = pytest.mark.django_db

# Words only the confirmation in that language says (its subject, then its SMS).
CONFIRMATION_WORDS = {
    "en": ("Your refund for order", "Expect it within"),
    "es": ("Hemos emitido el reembolso", "Llegará en"),
    "pt-br": ("O reembolso do seu pedido", "Chega em até"),
    "fr": ("Le remboursement de votre commande", "Délai"),
    "de": ("Die Erstattung für Ihre Bestellung", "Eingang in"),
    "ru": ("Возврат средств по заказу", "Срок зачисления"),
    "pl": ("Zwrot pieniędzy za zamówienie", "Dotrze w ciągu"),
    "ko": ("환불이 처리되었습니다", "영업일 이내 입금 예정"),
    "ja": ("返金手続きが完了しました", "営業日以内に反映"),
    "tr": ("siparişinizin iadesi yapıldı", "iş günü içinde ulaşır"),
    "it": ("Il rimborso del tuo ordine", "Arriverà entro"),
    "nl": ("De terugbetaling voor je bestelling", "Verwacht binnen"),
    "ar": ("تم إصدار استرداد المبلغ", "يصل خلال"),
    "he": ("ההחזר עבור הזמנה", "הכסף יגיע תוך"),
    "zh-hans": ("已退款", "个工作日内到账"),
}


def deliver_all(order) -> None:
    """What the Celery task does for each outbox row, twice over: a repeat must send nothing."""
    for _ in range(2):
        for pk in Notification.objects.filter(order=order).values_list("pk", flat=True):
            delivery.deliver(pk)


def confirm_refund_for(language: str, **fields):
    order = OrderFactory(
        status=Status.REFUND_PENDING,
        close_reason="buyer_cancelled",
        buyer_language=language,
        total_amount=Decimal("1234.50"),
        **fields,
    )
    RefundFactory(order=order, amount=Decimal("1234.50"), currency=order.currency)
    workflow.confirm_refund(order, by=None, reference=f"AE-RF-{order.pk}")
    deliver_all(order)
    return order


# --- one confirmation per buyer, in the buyer's language ----------------------------------------


def test_every_language_has_its_own_words():
    assert set(CONFIRMATION_WORDS) == set(LANGUAGES)


@pytest.mark.parametrize("language", list(CONFIRMATION_WORDS))
def test_a_buyer_gets_the_refund_confirmation_once_in_their_language(messages, language):
    # given / when
    order = confirm_refund_for(language, currency="EUR")

    # then: one email and one SMS, in that language, with the amount formatted for it
    subject_words, sms_words = CONFIRMATION_WORDS[language]
    assert len(mail.outbox) == 1 and len(sms.outbox) == 1
    email, text = mail.outbox[0], sms.outbox[0].text
    assert subject_words in email.subject and order.platform_order_id in email.subject
    assert format_amount("1234.50", "EUR", language) in email.body
    assert sms_words in text and order.platform_order_id in text
    assert format_amount("1234.50", "EUR", language).replace("\u00a0", " ").replace("\u202f", " ") in text
    html, mime = email.alternatives[0]
    assert mime == "text/html" and f'lang="{language}"' in html
    others = [words[0] for lang, words in CONFIRMATION_WORDS.items() if lang not in (language, "en")]
    assert not any(words in email.subject for words in others)
    assert set(Notification.objects.filter(order=order).values_list("language", flat=True)) == {language}


@pytest.mark.parametrize(
    ("code", "language"),
    [("pt_BR", "pt-br"), ("pt-PT", "pt-br"), ("es-MX", "es"), ("zh-CN", "zh-hans"), ("iw", "he"), ("", "en")],
)
def test_the_buyers_language_code_is_read_as_aliexpress_writes_it(code, language):
    assert buyer_language(code) == language


def test_a_language_we_do_not_write_gets_english(messages):
    confirm_refund_for("sw")

    assert "Your refund for order" in mail.outbox[0].subject
    assert "Expect it within" in sms.outbox[0].text


@pytest.mark.parametrize("language", ["ar", "he"])
def test_arabic_and_hebrew_emails_read_right_to_left(messages, language):
    confirm_refund_for(language)

    html = mail.outbox[0].alternatives[0][0]
    assert f'<html lang="{language}" dir="rtl">' in html
    assert '<p dir="rtl">' in html and 'dir="ltr"' not in html


def test_a_left_to_right_email_says_so_and_escapes_the_buyers_name(messages):
    confirm_refund_for("de", buyer_name="<b>Jörg</b>")

    html = mail.outbox[0].alternatives[0][0]
    assert '<html lang="de" dir="ltr">' in html
    assert "&lt;b&gt;Jörg&lt;/b&gt;" in html and "<b>Jörg</b>" not in html


# --- amounts and dates formatted for the language (Babel) --------------------------------------


def test_amounts_are_written_as_each_language_writes_them():
    assert format_amount("1234.50", "EUR", "de") == "1.234,50\u00a0€"
    assert format_amount("1234.50", "BRL", "pt-br") == "R$\u00a01.234,50"
    assert format_amount("1234.50", "USD", "en") == "$1,234.50"
    assert format_amount("1234", "JPY", "ja") == "￥1,234"  # no decimals in yen
    assert format_amount("1234.50", "EUR", "fr") == "1\u202f234,50\u00a0€"


def test_the_payment_deadline_is_a_localised_date_and_time_in_utc():
    moment = datetime(2026, 12, 3, 14, 5, tzinfo=UTC)

    assert format_moment(moment.isoformat(), "de") == "03.12.2026, 14:05 UTC"
    assert format_moment(moment.isoformat(), "pt-br") == "3 de dez. de 2026 14:05 UTC"


def test_a_brazilian_buyer_gets_the_payment_reminder_in_portuguese_with_reais(messages, settings):
    # given: an unpaid order placed at a known time; unpaid orders close 72 hours later
    settings.SHOPOPS_PAYMENT_TIMEOUT_HOURS = 72
    placed = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
    order = OrderFactory(
        buyer_language="pt-BR", currency="BRL", total_amount=Decimal("1234.50"), placed_at=placed
    )

    # when
    workflow.send_payment_reminder(order, by=None)
    deliver_all(order)

    # then
    email = mail.outbox[0]
    assert email.subject == f"Seu pedido {order.platform_order_id} está aguardando pagamento"
    assert "R$\u00a01.234,50" in email.body
    assert "até 23 de nov. de 2026 09:30 UTC" in email.body
    assert (
        "R$ 1.234,50" in sms.outbox[0].text and "Pague até 23 de nov. de 2026 09:30 UTC" in sms.outbox[0].text
    )
    assert len(mail.outbox) == 1 and len(sms.outbox) == 1


def test_a_line_without_its_fact_is_left_out(messages):
    confirm_refund_for("en", product_title="")

    assert "Item:" not in mail.outbox[0].body
    assert "Hello " in mail.outbox[0].body


# --- SMS length ----------------------------------------------------------------------------------


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("message", ["refund_confirmation.sms", "payment_reminder.sms"])
def test_each_sms_fits_two_segments_with_the_longest_order_id_and_amount(language, message):
    _text, rendered = catalogue.render_text(message, language, LONGEST_FACTS)

    counted = sms.segments(rendered)

    assert LONGEST_FACTS["order_id"] in rendered
    assert counted.count <= 2, f"{language}: {counted} — {rendered}"


def test_latin_texts_stay_in_the_gsm_alphabet_so_they_get_160_characters():
    _text, rendered = catalogue.render_text("refund_confirmation.sms", "de", LONGEST_FACTS)

    assert sms.segments(rendered).encoding == "GSM-7"
    assert format_facts(LONGEST_FACTS, "fr", sms=True)["amount"] == "9 999 999 999,99 R$"


def test_segments_are_counted_as_the_network_bills_them():
    assert sms.segments("a" * 160) == sms.Segments("GSM-7", 160, 1)
    assert sms.segments("a" * 161).count == 2
    assert sms.segments("€" * 80) == sms.Segments("GSM-7", 160, 1)  # € takes an escape
    assert sms.segments("я" * 70) == sms.Segments("UCS-2", 70, 1)
    assert sms.segments("я" * 71).count == 2 and sms.segments("я" * 135).count == 3
    assert sms.segments("ç").encoding == "UCS-2"  # only the capital Ç is GSM


# --- the check command and the English fallback -------------------------------------------------


def test_the_check_passes_for_the_shipped_texts():
    out = StringIO()

    call_command("check_buyer_messages", stdout=out)

    assert f"All {len(MESSAGES)} buyer messages are complete in {len(LANGUAGES)} languages" in out.getvalue()


@pytest.fixture
def texts_without_spanish_sms(tmp_path, monkeypatch):
    """The shipped texts, but the Spanish file lacks the refund SMS and breaks the reminder's."""
    for path in catalogue.TEXTS_DIR.glob("*.toml"):
        text = path.read_text(encoding="utf-8")
        if path.stem == "es":
            lines = text.split("\n")
            start = lines.index("[refund_confirmation]")
            sms_line = next(i for i in range(start, len(lines)) if lines[i].startswith("sms = "))
            del lines[sms_line]
            text = "\n".join(lines).replace("Paga antes del {pay_by}", "Paga antes del {fecha}")
        (tmp_path / path.name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(catalogue, "TEXTS_DIR", tmp_path)
    return tmp_path


def test_a_missing_translation_falls_back_to_english_and_the_check_reports_it(
    messages, texts_without_spanish_sms
):
    # when: a Spanish buyer is refunded
    confirm_refund_for("es")

    # then: the email is Spanish, the SMS (missing in Spanish) English
    assert "Hemos emitido el reembolso" in mail.outbox[0].subject
    assert sms.outbox[0].text.startswith("Refund of")

    # and the check lists both gaps and exits 1
    out = StringIO()
    with pytest.raises(CommandError) as failed:
        call_command("check_buyer_messages", stdout=out)
    assert failed.value.returncode == 1
    report = out.getvalue()
    assert "refund_confirmation.sms [es]: missing" in report
    assert "payment_reminder.sms [es]: Unknown placeholder(s): {fecha}" in report
    assert "[de]" not in report


def test_a_broken_translation_is_not_sent_english_is(messages, texts_without_spanish_sms, settings):
    order = OrderFactory(buyer_language="es", placed_at=datetime.now(UTC) - timedelta(hours=30))

    outbox.record_payment_reminder(order)
    deliver_all(order)

    assert "{fecha}" not in sms.outbox[0].text
    assert sms.outbox[0].text.startswith("Your AliExpress order")
