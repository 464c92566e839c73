"""What a form's message quotes (issue 24): a year-1 date showed 'Paid at
“datetime.datetime(1, 1, 1, 0, 0, tzinfo=…” is not a date and time.' A refusal names the field and
what the person typed, never Python's representation of it.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from orders.models import Status
from shopops import inputs
from shopops.errors import Refused
from tests.factories import OrderFactory, staff

pytestmark = pytest.mark.django_db


def _errors(html: str) -> str:
    return " ".join(re.findall(r'<ul class="errorlist[^"]*"[^>]*>(.*?)</ul>', html, re.S))


@pytest.mark.parametrize("typed", ["0001-01-01T00:00", "9999-12-31T23:59", "0001-01-01T00:00:00"])
def test_a_date_at_the_calendars_end_is_refused_in_words_not_in_python(client, typed):
    order = OrderFactory(status=Status.AWAITING_PAYMENT)
    client.force_login(staff("Operator"))
    response = client.post(f"/admin/orders/order/{order.pk}/transition/mark_paid/", {"paid_at": typed})
    errors = _errors(response.content.decode())
    assert response.status_code == 200 and "Paid at" in errors
    assert "datetime" not in errors and "tzinfo" not in errors
    order.refresh_from_db()
    assert order.status == Status.AWAITING_PAYMENT


def test_a_refusal_quotes_a_date_and_time_as_a_person_writes_it():
    with pytest.raises(Refused) as refused:
        inputs.moment(datetime(1, 1, 1, tzinfo=UTC), "paid_at", label="Paid at")
    assert "datetime" not in refused.value.message
    assert inputs.shown(datetime(1, 1, 1, 0, 0, tzinfo=UTC)) == "0001-01-01 00:00"
