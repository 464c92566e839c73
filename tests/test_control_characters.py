"""Control characters (issue 24): an order id "RT-NL-1\\nX" was imported, and its evidence pack
answered 500 (a line break in a hand-built Content-Disposition header) after writing its event.

- ``shopops.inputs.text`` refuses C0/C1 controls and the bidirectional overrides and isolates in
  every value, and line breaks and tabs in every one-line value (the imports, the workflow);
- a download's file name is written by Django (RFC 6266 / 5987), never by hand;
- an event is written only with the response it records.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.urls import reverse

from orders.models import OrderEvent, Status
from orders.workflow import contacts
from shopops import inputs
from shopops.errors import Refused
from tests.evidence_pack_support import attach, photo
from tests.factories import OrderFactory, staff
from tests.workflow_support import private_media  # noqa: F401

ROOT = Path(__file__).resolve().parent.parent
BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"]
C1 = ["\x80", "\x9b", "\x9f"]
C0 = ["\x01", "\x1b", "\x7f", "\x0b", "\x0c"]


@pytest.mark.parametrize("character", BIDI + C1 + C0)
@pytest.mark.parametrize("multiline", [False, True])
def test_no_text_holds_a_control_or_a_bidirectional_override(character, multiline):
    with pytest.raises(Refused) as refused:
        inputs.text(f"invoice{character}fdp.exe", "note", max_length=100, multiline=multiline)
    assert f"U+{ord(character):04X}" in refused.value.message
    assert refused.value.field == "note"


@pytest.mark.parametrize("character", ["\n", "\r", "\t", "\x85", "\u2028", "\u2029"])
def test_a_line_break_or_a_tab_is_only_for_multi_line_text(character):
    with pytest.raises(Refused, match="must be one line"):
        inputs.text(f"RT-NL-1{character}X", "order_id", max_length=100)
    assert inputs.text(f"first{character}second", "note", max_length=100, multiline=True)


def test_ordinary_text_of_every_script_is_accepted():
    for value in ("Иван Петров", "张伟 (义乌)", "محمد\u200f", "😀\u200d👍", "Ma\u00a0ria", "O'Brien & Sons"):
        assert inputs.text(value, "buyer_name", max_length=100) == value


def test_a_file_name_keeps_its_letters_and_loses_its_controls():
    assert inputs.file_name("C:\\scans\\in\u202egpj.exe") == "in_gpj.exe"
    assert inputs.file_name("a\nb\r\x00.png") == "a_b__.png"
    assert inputs.file_name("") == "file"


@pytest.mark.django_db
def test_a_workflow_correction_refuses_a_line_break_in_a_name():
    order = OrderFactory()
    with pytest.raises(Refused, match="must be one line"):
        contacts.correct_contact(order, by=staff("Supervisor"), buyer_name="Maria\nBcc: x@example.com")


def test_no_download_header_is_built_by_hand():
    """Content-Disposition is Django's (FileResponse(filename=) or content_disposition_header)."""
    found = []
    for path in ROOT.glob("*/**/*.py"):
        if path.parts[len(ROOT.parts)] in ("tests", ".venv", "var", "node_modules", "bench"):
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"Content-Disposition\"\]\s*=\s*f?['\"]", text) or "attachment; filename" in text:
            found.append(str(path.relative_to(ROOT)))
    assert found == []


@pytest.mark.django_db
@pytest.mark.usefixtures("private_media")
def test_the_pack_of_an_order_id_with_a_line_break_and_quotes_is_a_download(client):
    # given: an order stored before ids were checked
    order = OrderFactory(status=Status.SHIPPED, platform_order_id='RT-NL-1\nX"; filename="evil.html')
    attach(order, photo(200, 100), "damage.jpg")
    client.force_login(staff("Operator"))
    url = reverse("admin:orders_order_evidence_pack", args=[order.pk]) + "?target=aliexpress"
    # when: the pack is built (a POST: a GET only shows what it would hold)
    response = client.post(url)
    # then: a ZIP under a name encoded by RFC 5987, one event
    assert response.status_code == 200
    disposition = response["Content-Disposition"]
    assert disposition.startswith("attachment; filename*=utf-8''evidence-RT-NL-1%0AX%22")
    assert "\n" not in disposition and 'filename="evil.html"' not in disposition
    assert OrderEvent.objects.filter(order=order, transition="build_evidence_pack").count() == 1


@pytest.mark.django_db
@pytest.mark.usefixtures("private_media")
def test_a_pack_whose_response_cannot_be_made_writes_no_event(client, monkeypatch):
    from django.http import BadHeaderError

    from orders.admin import packs

    def no_response(data, filename):
        raise BadHeaderError("Header values can't contain newlines")

    monkeypatch.setattr(packs, "_zip_response", no_response)
    order = OrderFactory(status=Status.SHIPPED)
    attach(order, photo(200, 100), "damage.jpg")
    client.force_login(staff("Operator"))
    client.raise_request_exception = False
    url = reverse("admin:orders_order_evidence_pack", args=[order.pk]) + "?target=aliexpress"
    assert client.post(url).status_code == 500
    assert not OrderEvent.objects.filter(order=order, transition="build_evidence_pack").exists()


@pytest.mark.django_db
def test_every_note_kind_input_of_a_transition_is_parsed_as_multi_line_text():
    """A transition's input of kind "note" is a text box on its form: the workflow must take
    several lines there (the supplier refund's reason was parsed as one line)."""
    from orders import workflow
    from orders.transitions import TRANSITIONS

    notes = {(name, i.name) for name, t in TRANSITIONS.items() for i in t.inputs if i.kind == "note"}
    assert ("request_supplier_refund", "reason") in notes
    with pytest.raises(Refused) as refused:
        workflow.request_supplier_refund(
            0, by=None, amount="1", reason="line one\nline two", reference="R1", note="a\nb"
        )
    assert refused.value.field not in ("reason", "note")  # refused for the missing order, not the lines
