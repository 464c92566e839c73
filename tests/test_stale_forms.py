"""Lost updates (issue 24): Supervisor A opened *Correct contact details*, B corrected the phone, A
then saved an email change from the old form and B's phone was silently put back.

Every correction form, and every transition form that shows a value it may change, carries the
version of what it showed; the workflow refuses a stale submit (``Stale``, a 409 on the screens)
naming what changed and who changed it, and writes nothing.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal

import pytest
from django.test import Client

from orders import workflow
from orders.models import ExchangeRate, Order, OrderEvent, Status
from orders.workflow import rates
from orders.workflow.contacts import contact_version
from shopops.errors import Stale
from tests.factories import OrderFactory, staff

pytestmark = pytest.mark.django_db


def contact_of(order: Order) -> str:
    return f"/admin/orders/order/{order.pk}/contact/"


def logged_in(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def form_values(html: str) -> dict[str, str]:
    """The values of the inputs of the page's form, as a browser would send them back."""
    values = {}
    for name, value in re.findall(r'<input[^>]*name="([^"]+)"[^>]*value="([^"]*)"', html):
        values[name] = value
    values.pop("csrfmiddlewaretoken", None)
    return values


def test_a_correction_from_a_form_read_before_another_one_is_refused_with_who_and_what():
    # given: A opens the form; B corrects the phone
    order = OrderFactory(buyer_email="ana@exmaple.com", buyer_phone="+34690810033", buyer_country="ES")
    alice, bob = staff("Supervisor", "alice"), staff("Supervisor", "bob")
    page = logged_in(alice).get(contact_of(order)).content.decode()
    seen = form_values(page)
    assert seen["seen"] == contact_version(order)
    workflow.correct_contact(order, by=bob, buyer_phone="+34611223344", note="new number")

    # when: A saves an email change from the old form (the old phone in it)
    a = logged_in(alice)
    response = a.post(contact_of(order), {**seen, "buyer_email": "ana@example.com", "buyer_language": "es"})

    # then: 409, saying who changed what; nothing is written; B's phone stays
    assert response.status_code == 409
    text = response.content.decode()
    assert "bob changed buyer phone from “+34690810033” to “+34611223344”" in text
    order.refresh_from_db()
    assert (order.buyer_phone, order.buyer_email) == ("+34611223344", "ana@exmaple.com")
    assert OrderEvent.objects.filter(order=order, transition="correct_contact").count() == 1

    # and the form now shows B's phone, A's email and the current version: saved again, both stay
    again = form_values(text)
    assert again["buyer_phone"] == "+34611223344" and again["buyer_email"] == "ana@example.com"
    assert again["seen"] == contact_version(order)
    assert a.post(contact_of(order), {**again, "buyer_language": "es"}).status_code == 302
    order.refresh_from_db()
    assert (order.buyer_phone, order.buyer_email) == ("+34611223344", "ana@example.com")


def test_the_workflow_refuses_a_stale_version_and_accepts_the_current_one():
    order = OrderFactory(buyer_email="ana@exmaple.com")
    boss = staff("Supervisor")
    old = contact_version(order)
    workflow.correct_contact(order, by=boss, buyer_name="Ana María")
    with pytest.raises(Stale) as stale:
        workflow.correct_contact(order, by=boss, buyer_email="ana@example.com", seen=old)
    assert stale.value.changes == {"buyer_name": {"old": order.buyer_name, "new": "Ana María"}}
    order.refresh_from_db()
    assert order.buyer_email == "ana@exmaple.com"
    workflow.correct_contact(order, by=boss, buyer_email="ana@example.com", seen=contact_version(order))
    order.refresh_from_db()
    assert order.buyer_email == "ana@example.com"


def test_a_transition_form_that_showed_the_carrier_refuses_after_it_changed():
    # given: an operator opens "Mark shipped", which shows the carrier the order has
    order = OrderFactory(status=Status.PAID, carrier="Cainiao")
    operator = staff("Operator")
    url = f"/admin/orders/order/{order.pk}/transition/mark_shipped/"
    shown = form_values(logged_in(operator).get(url).content.decode())
    assert shown["carrier"] == "Cainiao" and shown["seen_version"]
    # and the carrier is changed meanwhile (an import of the platform's correction)
    Order.objects.filter(pk=order.pk).update(carrier="YunExpress")

    # when the form is sent as it was read
    response = logged_in(operator).post(url, {**shown, "tracking_number": "LP001"})

    # then: 409, nothing moved, the carrier kept
    assert response.status_code == 409
    assert "while you had this form open" in response.content.decode()
    order.refresh_from_db()
    assert (order.status, order.carrier) == (Status.PAID, "YunExpress")
    # sent again from the 409's form (its current version), the step runs
    again = form_values(response.content.decode())
    assert logged_in(operator).post(url, {**again, "tracking_number": "LP001"}).status_code == 302
    order.refresh_from_db()
    assert order.status == Status.SHIPPED


def test_a_form_that_shows_nothing_it_changes_carries_no_version():
    order = OrderFactory(status=Status.SHIPPED)
    page = logged_in(staff("Operator")).get(f"/admin/orders/order/{order.pk}/transition/mark_completed/")
    assert 'name="seen_version"' not in page.content.decode()


def test_a_rate_correction_from_a_form_read_before_another_one_is_refused():
    # given: Finance's A opens the rate; B corrects it
    rate = ExchangeRate.objects.create(date=date(2026, 3, 9), currency="BRL", rate=Decimal("6.1"))
    alice, bob = staff("Finance", "alice"), staff("Finance", "bob")
    url = f"/admin/orders/exchangerate/{rate.pk}/change/"
    shown = form_values(logged_in(alice).get(url).content.decode())
    assert shown["seen"] == "6.100000"
    rates.correct_rate(rate, by=bob, new_rate="6.2", note="the bank's correction")

    # when: A sends the correction from the old form
    response = logged_in(alice).post(url, {**shown, "rate": "6.15", "note": "my reading"})

    # then: 409 naming bob; bob's rate stays
    assert response.status_code == 409
    assert "bob corrected the rate from 6.100000 to 6.200000" in response.content.decode()
    rate.refresh_from_db()
    assert rate.rate == Decimal("6.2")
