"""A Supervisor's correction of the buyer's contact details: the workflow operation and its screen.

The order page has no generic edit form; ``workflow.correct_contact`` checks the values as the
import does, writes one history event with each field's old and new value, and is the
Supervisor's alone.
"""

import pytest
from django.contrib.messages import get_messages

from orders import workflow
from orders.models import Order, OrderEvent, Status
from shopops.errors import NotPermitted, Refused
from tests.factories import OrderFactory, staff

pytestmark = pytest.mark.django_db


def page_of(order: Order) -> str:
    return f"/admin/orders/order/{order.pk}/change/"


def contact_of(order: Order) -> str:
    return f"/admin/orders/order/{order.pk}/contact/"


def contact_events(order: Order) -> list[OrderEvent]:
    return list(OrderEvent.objects.filter(order=order, transition="correct_contact"))


# --- the workflow operation -------------------------------------------------------------------


def test_a_correction_stores_e164_and_writes_one_event_with_old_and_new_values():
    # given: an order from Spain with an email typo
    order = OrderFactory(buyer_email="ana@exmaple.com", buyer_phone="", buyer_country="ES")

    # when: the phone is typed in the local form, the email fixed, the language left as it is
    workflow.correct_contact(
        order,
        by=staff("Supervisor"),
        buyer_email="ana@example.com",
        buyer_phone="690 81 00 33",
        buyer_language="en",
        note="Buyer wrote from her new address",
    )

    # then: the phone is stored in E.164, and one event names exactly the fields that changed
    order.refresh_from_db()
    assert (order.buyer_email, order.buyer_phone, order.buyer_language) == (
        "ana@example.com",
        "+34690810033",
        "en",
    )
    (event,) = contact_events(order)
    assert event.data == {
        "buyer_email": {"old": "ana@exmaple.com", "new": "ana@example.com"},
        "buyer_phone": {"old": "", "new": "+34690810033"},
        "note": "Buyer wrote from her new address",
    }
    assert event.actor.username == "supervisor"
    assert event.from_status == event.to_status == Status.AWAITING_PAYMENT


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("buyer_email", "ana@", "not a valid email address"),
        ("buyer_phone", "12", "not a valid phone number"),
        ("buyer_language", "Spanish!", "not a language code"),
        ("buyer_name", "  ", "cannot be empty"),
    ],
)
def test_an_invalid_value_is_refused_on_its_field_and_nothing_is_written(field, value, message):
    order = OrderFactory()
    before = Order.objects.values().get(pk=order.pk)

    with pytest.raises(Refused, match=message) as refused:
        workflow.correct_contact(order, by=staff("Supervisor"), **{field: value})

    assert refused.value.field == field
    assert Order.objects.values().get(pk=order.pk) == before
    assert not contact_events(order)


def test_an_operator_may_not_correct_contact_details():
    order = OrderFactory()

    with pytest.raises(NotPermitted):
        workflow.correct_contact(order, by=staff("Operator"), buyer_email="new@example.com")

    order.refresh_from_db()
    assert order.buyer_email != "new@example.com"
    assert not contact_events(order)


def test_the_same_details_change_nothing_and_say_so():
    order = OrderFactory(buyer_email="ana@example.com")

    with pytest.raises(Refused, match="nothing was changed"):
        workflow.correct_contact(order, by=staff("Supervisor"), buyer_email="ana@example.com")

    assert not contact_events(order)


# --- the screen -------------------------------------------------------------------------------


def test_the_order_page_is_read_only_with_a_correction_button_for_supervisors(client):
    order = OrderFactory(status=Status.PAID)
    client.force_login(staff("Supervisor"))

    html = client.get(page_of(order)).content.decode()

    assert 'name="buyer_email"' not in html and 'name="_save"' not in html
    assert f'href="{contact_of(order)}"' in html
    client.force_login(staff("Operator"))
    assert f'href="{contact_of(order)}"' not in client.get(page_of(order)).content.decode()
    assert client.get(contact_of(order)).status_code == 403
    assert client.post(contact_of(order), {"buyer_name": "X", "buyer_language": "en"}).status_code == 403


def test_a_supervisor_corrects_the_email_and_the_timeline_shows_old_and_new(client):
    # given
    order = OrderFactory(buyer_email="ana@exmaple.com")
    client.force_login(staff("Supervisor"))
    form = client.get(contact_of(order)).context["form"]
    assert form["buyer_email"].value() == "ana@exmaple.com"

    # when
    response = client.post(
        contact_of(order),
        {
            "buyer_name": order.buyer_name,
            "buyer_email": "ana@example.com",
            "buyer_phone": order.buyer_phone,
            "buyer_language": order.buyer_language,
            "note": "typo",
        },
    )

    # then
    assert response.status_code == 302 and response["Location"] == page_of(order)
    assert any("contact details are corrected" in str(m) for m in get_messages(response.wsgi_request))
    html = client.get(page_of(order)).content.decode()
    assert "Contact details corrected" in html
    assert "Buyer email" in html and "ana@exmaple.com → ana@example.com" in html


def test_a_refused_value_is_shown_on_its_field(client):
    order = OrderFactory()
    client.force_login(staff("Supervisor"))

    response = client.post(
        contact_of(order),
        {"buyer_name": order.buyer_name, "buyer_phone": "12", "buyer_language": "en"},
    )

    assert response.status_code == 200
    assert "not a valid phone number" in response.context["form"].errors["buyer_phone"][0]
    assert not contact_events(order)
