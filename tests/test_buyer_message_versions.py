"""Buyer message templates (issue 24): U+202E and U+2066 were accepted and reached the operator's
ready text; editing or deleting a template kept no copy of the old wording.

Every wording goes through ``shopops.inputs`` (no control or bidirectional character); every saved
wording and every deletion is a ``BuyerMessageTemplateVersion`` (append-only, with who and when),
listed on the template's page; a save over someone else's newer edit is a 409.
"""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from orders.buyer_messages import catalogue
from orders.models import BuyerMessageTemplate, BuyerMessageTemplateVersion, Status
from orders.workflow import buyer_chat
from shopops.appendonly import AppendOnlyError
from shopops.errors import Refused
from tests.factories import OrderFactory, staff

pytestmark = pytest.mark.django_db

ASK = "Hola {buyer_name}: ¿podrías cancelar el pedido {order_id}?"


@pytest.mark.parametrize("character", ["\u202e", "\u2066", "\u202a", "\u2069", "\x1b"])
def test_a_bidirectional_or_control_character_is_refused_in_a_template(client, character):
    boss = staff("Supervisor")
    text = f"Hola {{buyer_name}}: pedido {{order_id}} {character}odaleccnac"
    with pytest.raises(Refused, match=f"U\\+{ord(character):04X}"):
        buyer_chat.save_buyer_template(message="chat.ask_cancel", language="es", text=text, by=boss)
    client.force_login(boss)
    response = client.post(
        reverse("admin:orders_buyermessagetemplate_add"),
        {"message": "chat.ask_cancel", "language": "es", "text": text},
    )
    assert response.status_code == 200 and f"U+{ord(character):04X}" in response.content.decode()
    assert not BuyerMessageTemplate.objects.exists()
    assert not BuyerMessageTemplateVersion.objects.exists()


def test_a_ready_text_retouched_with_an_override_is_not_recorded():
    order = OrderFactory(status=Status.PAID)
    with pytest.raises(Refused, match="U\\+202E"):
        buyer_chat.record_chat_message(
            order, by=staff("Operator"), message="chat.ask_cancel", text="ok \u202e1 DSU", language="es"
        )


def test_a_shipped_text_with_an_override_is_reported_by_the_check():
    assert catalogue.text_problems("chat.ask_cancel", "es", "Pedido {order_id} \u2066x\u2069")


def test_every_wording_and_every_deletion_is_kept_with_who_and_when():
    alice, bob = staff("Supervisor", "alice"), staff("Supervisor", "bob")
    buyer_chat.save_buyer_template(message="chat.ask_cancel", language="es", text=ASK, by=alice)
    template = buyer_chat.save_buyer_template(
        message="chat.ask_cancel", language="es", text=ASK + " Gracias.", by=bob
    )
    buyer_chat.delete_buyer_template(template.pk, by=alice)

    versions = list(
        BuyerMessageTemplateVersion.objects.order_by("created_at", "id").values_list(
            "action", "text", "created_by__username"
        )
    )
    assert versions == [
        ("saved", ASK, "alice"),
        ("saved", ASK + " Gracias.", "bob"),
        ("deleted", ASK + " Gracias.", "alice"),
    ]
    assert not BuyerMessageTemplate.objects.exists()
    version = BuyerMessageTemplateVersion.objects.first()
    with pytest.raises(AppendOnlyError):
        version.delete()
    with pytest.raises(AppendOnlyError):
        BuyerMessageTemplateVersion.objects.update(text="rewritten")


def test_the_template_page_lists_its_versions(client):
    alice = staff("Supervisor", "alice")
    buyer_chat.save_buyer_template(message="chat.ask_cancel", language="es", text=ASK, by=alice)
    template = buyer_chat.save_buyer_template(
        message="chat.ask_cancel", language="es", text=ASK + " Gracias.", by=alice
    )
    client.force_login(alice)
    html = client.get(
        reverse("admin:orders_buyermessagetemplate_change", args=[template.pk])
    ).content.decode()
    assert "every version" in html.lower()
    assert html.count("<tr><td>") == 2 and "Gracias." in html and "alice" in html


def test_a_save_over_a_newer_edit_is_refused_with_409(client):
    alice, bob = staff("Supervisor", "alice"), staff("Supervisor", "bob")
    template = buyer_chat.save_buyer_template(message="chat.ask_cancel", language="es", text=ASK, by=alice)
    url = reverse("admin:orders_buyermessagetemplate_change", args=[template.pk])
    client.force_login(alice)
    seen = re.search(r'name="seen" value="([^"]*)"', client.get(url).content.decode()).group(1)
    buyer_chat.save_buyer_template(message="chat.ask_cancel", language="es", text=ASK + " (bob)", by=bob)

    response = client.post(url, {"text": ASK + " (alice)", "seen": seen})

    assert response.status_code == 409
    assert "bob saved this text" in response.content.decode()
    template.refresh_from_db()
    assert template.text == ASK + " (bob)"
