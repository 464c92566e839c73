"""SMS length at its worst (issue 24): the check tried BRL and a 20-digit id only, and the shipped
English reminder for a KRW order went out as 3 UCS-2 segments (₩); accepted edits reached 4–5.

Every SMS text, shipped or edited, fits ``MAX_SMS_SEGMENTS`` in every language with every currency
an order may have, the largest amount, every month's date and the platforms' longest id; a longer
id gets the English text, which fits the longest id the column holds.
"""

from __future__ import annotations

import pytest

from orders import sms
from orders.buyer_messages import catalogue
from orders.buyer_messages.formatting import format_amount
from orders.buyer_messages.spec import LANGUAGES, LONGEST_FACTS, MAX_SMS_SEGMENTS, MESSAGES, SMS
from orders.workflow.buyer_chat import save_buyer_template
from shopops.errors import Refused
from tests.factories import staff

SMS_MESSAGES = [message_id for message_id, message in MESSAGES.items() if message.kind == SMS]


@pytest.mark.django_db
def test_the_english_reminder_of_a_krw_order_is_gsm_in_at_most_two_segments():
    facts = {**LONGEST_FACTS, "currency": "KRW"}
    _text, rendered = catalogue.render_text("payment_reminder.sms", "en", facts)
    counted = sms.segments(rendered)
    assert (counted.encoding, counted.count <= MAX_SMS_SEGMENTS) == ("GSM-7", True)
    assert "KRW" in rendered and "₩" not in rendered


@pytest.mark.parametrize(
    ("currency", "language", "shown"),
    [
        ("KRW", "en", "10,000,000,000 KRW"),  # ₩
        ("ILS", "de", "9.999.999.999,99 ILS"),  # ₪
        ("PLN", "pl", "9 999 999 999,99 PLN"),  # zł
        ("USD", "en", "$9,999,999,999.99"),  # in the GSM alphabet: kept
        ("EUR", "fr", "9 999 999 999,99 €"),  # in the GSM extension: kept
    ],
)
def test_an_sms_amount_uses_the_iso_code_when_its_sign_is_not_in_the_gsm_alphabet(currency, language, shown):
    assert format_amount(LONGEST_FACTS["amount"], currency, language, sms=True) == shown


@pytest.mark.parametrize("language", list(LANGUAGES))
@pytest.mark.parametrize("message_id", SMS_MESSAGES)
def test_every_shipped_sms_fits_in_every_currency_and_month(message_id, language):
    counted = catalogue.sms_worst_case(catalogue.shipped_text(message_id, language), language)
    assert counted.count <= MAX_SMS_SEGMENTS, (message_id, language, counted)


@pytest.mark.parametrize("message_id", SMS_MESSAGES)
def test_the_english_sms_fits_the_longest_id_the_column_holds(message_id):
    counted = catalogue.sms_worst_case(catalogue.shipped_text(message_id, "en"), "en", id_length=64)
    assert counted.count <= MAX_SMS_SEGMENTS


@pytest.mark.django_db
def test_an_id_longer_than_the_platforms_gets_the_english_text_within_the_limit():
    facts = {**LONGEST_FACTS, "order_id": "RT-" + "7" * 61, "currency": "AED"}
    found, rendered = catalogue.render_text("payment_reminder.sms", "ru", facts)
    assert found.language == "en" and found.asked == "ru"
    assert sms.segments(rendered).count <= MAX_SMS_SEGMENTS
    found, rendered = catalogue.render_text("payment_reminder.sms", "ru", LONGEST_FACTS)
    assert found.language == "ru"


@pytest.mark.django_db
def test_an_edit_that_fits_with_brl_but_not_at_worst_is_refused():
    # An English reminder that the old check (BRL, 99999.99, December) passed at 2 segments.
    base = "Order {order_id} ({amount}) unpaid. Pay by {pay_by}. "
    old_facts = {**LONGEST_FACTS, "amount": "99999.99", "currency": "BRL"}
    text = base
    while (
        sms.segments(catalogue.fill(text + "x", catalogue.format_facts(old_facts, "en", sms=True))).count <= 2
    ):
        text += "x"
    assert catalogue.sms_worst_case(text, "en").count > MAX_SMS_SEGMENTS
    with pytest.raises(Refused, match="SMS segments"):
        save_buyer_template(message="payment_reminder.sms", language="en", text=text, by=staff("Supervisor"))
