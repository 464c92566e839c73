"""The operator's ready texts on the transition forms, recording one as sent, and the Supervisor's
per-language editing of the buyer messages in the admin."""

from decimal import Decimal
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.urls import reverse

from evidence.models import Communication
from orders import delivery, sms, workflow
from orders.buyer_messages.catalogue import shipped_text, text_problems
from orders.buyer_messages.spec import LANGUAGES
from orders.models import BuyerMessageTemplate, Notification, Status
from orders.workflow.buyer_chat import save_buyer_template
from shopops.errors import NotPermitted, Refused

from .factories import OrderFactory, RefundFactory, UserFactory, staff

pytestmark = pytest.mark.django_db


def form_of(order, step: str) -> str:
    return reverse("admin:orders_order_transition", args=[order.pk, step])


def ready_text_of(order) -> str:
    return reverse("admin:orders_order_ready_text", args=[order.pk])


# --- the ready text on the form -------------------------------------------------------------------


def test_ask_to_cancel_offers_the_text_in_spanish_with_the_orders_facts_and_its_english_meaning(client):
    # given: a paid order of a Spanish buyer
    order = OrderFactory(
        status=Status.PAID, buyer_language="es", buyer_name="Lucía", total_amount=Decimal("100")
    )
    client.force_login(staff("Operator"))

    # when
    html = client.get(form_of(order, "request_cancellation")).content.decode()

    # then
    assert 'id="ready-texts"' in html
    assert 'lang="es" dir="ltr"' in html
    assert f"no podemos enviar tu pedido {order.platform_order_id}" in html
    assert "reembolso completo de 100,00\u00a0US$" in html and "Hola, Lucía:" in html
    assert f"we cannot ship your order {order.platform_order_id} as promised" in html  # the meaning
    assert "shopops/ready_text.js" in html and "<script>" not in html


def test_a_chinese_speaking_operator_sees_the_meaning_in_chinese(client):
    order = OrderFactory(status=Status.PAID, buyer_language="ko")
    client.force_login(staff("Operator"))

    html = client.get(form_of(order, "request_cancellation"), HTTP_ACCEPT_LANGUAGE="zh-hans").content.decode()

    assert "AliExpress에서 주문 취소에 동의해 주실 수 있을까요?" in html
    assert "能否请您在速卖通上同意取消该订单？" in html
    assert "We are very sorry" not in html


def test_arabic_ready_text_is_right_to_left(client, settings):
    settings.SHOPOPS_RETURN_ADDRESS = "88 Huaxia Road, Guangzhou"
    order = OrderFactory(status=Status.SHIPPED, buyer_language="ar")
    client.force_login(staff("Operator"))

    html = client.get(form_of(order, "propose_return")).content.decode()

    assert 'lang="ar" dir="rtl"' in html
    assert "إلى العنوان: 88 Huaxia Road, Guangzhou" in html
    assert "has no return address" not in html


def test_without_a_return_address_no_return_text_can_be_sent_and_the_page_says_who_sets_it(client, settings):
    # given: the order's store has no return address, nor has the environment
    settings.SHOPOPS_RETURN_ADDRESS = ""
    order = OrderFactory(status=Status.SHIPPED, buyer_language="pl")
    client.force_login(staff("Operator"))

    # when: the operator opens "Propose a return"
    html = client.get(form_of(order, "propose_return")).content.decode()

    # then: no setting's name, no text to copy and record, and who sets the address
    assert "SHOPOPS_RETURN_ADDRESS" not in html
    assert "A superuser sets the return address in the store&#x27;s settings." in html
    assert "data-copy" not in html and 'name="text"' not in html  # no button, no text to send
    assert "Open the store&#x27;s settings" not in html  # an operator cannot open them

    # when: the text is posted anyway (a form kept open from before, a script)
    client.post(
        ready_text_of(order),
        {"message": "chat.propose_return", "language": "pl", "text": "2. Napisz na paczce numer"},
    )

    # then: the server refuses it too
    assert not Communication.objects.filter(order=order).exists()

    # and a superuser is given the way to the store's settings
    client.force_login(UserFactory(username="root", is_staff=True, is_superuser=True))
    html = client.get(form_of(order, "propose_return")).content.decode()
    assert reverse("admin:orders_store_change", args=[order.store_id]) in html


def test_the_dispute_outcome_form_offers_one_text_per_outcome(client):
    order = OrderFactory(status=Status.DISPUTED, buyer_language="fr")
    client.force_login(staff("Supervisor"))

    html = client.get(form_of(order, "resolve_dispute")).content.decode()

    assert "en faveur du vendeur" in html and "remboursement partiel" in html and "en votre faveur" in html


def test_steps_without_a_ready_text_show_none(client):
    order = OrderFactory(status=Status.PAID)
    client.force_login(staff("Operator"))

    assert 'id="ready-texts"' not in client.get(form_of(order, "mark_shipped")).content.decode()


# --- using it records the communication ------------------------------------------------------------


def test_the_text_sent_is_recorded_as_the_message_to_the_buyer_and_the_step_can_run(client):
    # given
    order = OrderFactory(status=Status.PAID, buyer_language="de")
    operator = staff("Operator")
    client.force_login(operator)
    sent = "Hallo, wir können Ihre Bestellung leider nicht versenden. Bitte stimmen Sie der Stornierung zu."

    # when: the copy button posts the text as shown (retouched by the operator)
    response = client.post(
        ready_text_of(order),
        {
            "message": "chat.ask_cancel",
            "language": "de",
            "text": sent,
            "next_transition": "request_cancellation",
        },
    )

    # then: back on the step's form, with the communication recorded
    assert response.status_code == 302 and response["Location"] == form_of(order, "request_cancellation")
    communication = Communication.objects.get(order=order)
    assert (communication.counterparty, communication.direction, communication.channel) == (
        "buyer",
        "outbound",
        "aliexpress_message",
    )
    assert communication.body == sent and communication.recorded_by == operator
    assert communication.data["language"] == "de" and "(German)" in communication.summary
    # and the step that needed it now runs
    workflow.request_cancellation(order, by=operator)
    order.refresh_from_db()
    assert order.status == Status.CANCEL_REQUESTED


def test_an_empty_text_is_refused_and_nothing_is_recorded(client):
    order = OrderFactory(status=Status.PAID)
    client.force_login(staff("Operator"))

    response = client.post(
        ready_text_of(order),
        {
            "message": "chat.ask_cancel",
            "language": "en",
            "text": "  ",
            "next_transition": "request_cancellation",
        },
        follow=True,
    )

    assert "The text sent to the buyer is empty." in response.content.decode()
    assert not Communication.objects.filter(order=order).exists()


def test_an_unknown_message_is_refused(client):
    order = OrderFactory(status=Status.PAID)
    client.force_login(staff("Operator"))

    client.post(ready_text_of(order), {"message": "refund_confirmation.sms", "language": "en", "text": "Hi"})

    assert not Communication.objects.filter(order=order).exists()


def test_a_user_who_may_not_record_communications_gets_403(client):
    order = OrderFactory(status=Status.PAID)
    client.force_login(staff("Analyst"))

    response = client.post(
        ready_text_of(order), {"message": "chat.ask_cancel", "language": "en", "text": "Hi"}
    )

    assert response.status_code == 403
    assert not Communication.objects.filter(order=order).exists()


# --- Supervisors edit the texts per language ---------------------------------------------------


def admin_add(client, **data):
    return client.post(reverse("admin:orders_buyermessagetemplate_add"), data)


def test_a_supervisor_rewrites_the_spanish_ask_to_cancel_and_operators_get_it(client):
    # given
    supervisor = staff("Supervisor")
    client.force_login(supervisor)
    text = "Hola {buyer_name}: ¿podrías cancelar el pedido {order_id}? Te devolvemos {amount}."

    # when
    response = admin_add(client, message="chat.ask_cancel", language="es", text=text)

    # then
    assert response.status_code == 302
    row = BuyerMessageTemplate.objects.get()
    assert (row.message, row.language, row.text, row.updated_by) == (
        "chat.ask_cancel",
        "es",
        text,
        supervisor,
    )
    order = OrderFactory(status=Status.PAID, buyer_language="es", buyer_name="Ana")
    client.force_login(staff("Operator"))
    html = client.get(form_of(order, "request_cancellation")).content.decode()
    assert f"Hola Ana: ¿podrías cancelar el pedido {order.platform_order_id}? Te devolvemos 100,00" in html


@pytest.mark.parametrize(
    ("message", "text", "error"),
    [
        ("chat.ask_cancel", "Hola {nombre}, pedido {order_id}", "Unknown placeholder(s): {nombre}"),
        ("chat.ask_cancel", "Hola, ¿podrías cancelar?", "Missing placeholder(s): {order_id}"),
        ("chat.ask_cancel", "Pedido {order_id} {", "A brace is not part of a placeholder"),
        ("refund_confirmation.sms", "Reembolso {amount} pedido {order_id}. " + "x" * 300, "SMS segments"),
    ],
)
def test_a_text_that_would_not_render_is_refused_on_the_form(client, message, text, error):
    client.force_login(staff("Supervisor"))

    response = admin_add(client, message=message, language="es", text=text)

    assert response.status_code == 200
    assert error in response.content.decode()
    assert not BuyerMessageTemplate.objects.exists()


def test_the_workflow_refuses_the_same_text_and_an_operator(client):
    with pytest.raises(Refused, match=r"Unknown placeholder\(s\): \{x\}"):
        save_buyer_template(
            message="chat.ask_cancel", language="es", text="{x} {order_id}", by=staff("Supervisor")
        )
    with pytest.raises(NotPermitted):
        save_buyer_template(message="chat.ask_cancel", language="es", text="{order_id}", by=staff("Operator"))
    client.force_login(staff("Operator"))
    assert client.get(reverse("admin:orders_buyermessagetemplate_add")).status_code == 403
    assert not BuyerMessageTemplate.objects.exists()


def test_the_add_form_starts_from_the_shipped_text_of_that_language(client):
    client.force_login(staff("Supervisor"))

    html = client.get(
        reverse("admin:orders_buyermessagetemplate_add") + "?message=chat.ask_cancel&language=pl"
    ).content
    assert "Czy możesz zgodzić się na anulowanie zamówienia" in html.decode()


def test_an_edited_refund_sms_is_what_the_buyer_gets(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_URL = "locmem:"
    mail.outbox = []
    sms.outbox.clear()
    save_buyer_template(
        message="refund_confirmation.sms",
        language="it",
        text="Rimborsati {amount} (ordine {order_id}).",
        by=None,
    )
    order = OrderFactory(status=Status.REFUND_PENDING, close_reason="buyer_cancelled", buyer_language="it")
    RefundFactory(order=order, amount=Decimal("10.00"))

    workflow.confirm_refund(order, by=None, reference="AE-1")
    for pk in Notification.objects.filter(order=order).values_list("pk", flat=True):
        delivery.deliver(pk)

    assert sms.outbox[0].text == f"Rimborsati 10,00 USD (ordine {order.platform_order_id})."
    assert "Il rimborso del tuo ordine" in mail.outbox[0].subject
    sms.outbox.clear()


def test_the_check_reports_an_edited_text_that_a_script_broke():
    BuyerMessageTemplate.objects.create(message="chat.dispute_won", language="nl", text="Hallo {naam}")
    out = StringIO()

    with pytest.raises(CommandError):
        call_command("check_buyer_messages", stdout=out)

    assert "chat.dispute_won [nl]: edited text: Unknown placeholder(s): {naam}" in out.getvalue()


def test_asking_to_cancel_offers_a_text_for_the_buyers_request_and_one_for_we_cannot_ship(client):
    # given: a paid order of a French buyer
    order = OrderFactory(status=Status.PAID, buyer_language="fr")
    client.force_login(staff("Operator"))

    # when
    html = client.get(form_of(order, "request_cancellation")).content.decode()

    # then: two texts, each named for its case, in French
    assert "Chat: the buyer asked to cancel" in html
    assert "Chat: we cannot ship, ask the buyer to cancel" in html
    assert f"nous pouvons annuler votre commande {order.platform_order_id} comme vous le souhaitez" in html
    assert "nous ne pouvons pas expédier votre commande" in html
    assert 'id="ready-chat-buyer_asked_cancel"' in html and 'id="ready-chat-ask_cancel"' in html


def test_the_buyer_asked_text_is_written_in_every_buyer_language():
    english = shipped_text("chat.buyer_asked_cancel", "en")
    for language in LANGUAGES:
        text = shipped_text("chat.buyer_asked_cancel", language)
        assert text and not text_problems("chat.buyer_asked_cancel", language, text), language
        assert "cannot ship" not in text, language
        assert language == "en" or text != english, language
