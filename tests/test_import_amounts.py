"""Amounts in the order import: a negative one is named as negative."""

import pytest

from orders.imports.service import import_orders
from tests.import_support import csv_file, order_row

pytestmark = pytest.mark.django_db


# --- 7. a negative amount in the import -------------------------------------------------------


@pytest.mark.parametrize("value", ["-5", "-12.50", "US $-5", "−5"])
def test_an_imported_negative_amount_is_said_to_be_negative(value):
    result = import_orders(csv_file([order_row(total_amount=value)]))
    assert result.invalid
    (issue,) = result.errors
    assert issue.column == "total_amount"
    assert "cannot be negative" in issue.message
    assert "with a dot" not in issue.message
