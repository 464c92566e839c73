"""CSV output (issue 24): ``manage.py loss_ledger`` printed an order id ``=HYPERLINK(…)`` raw while
the admin's CSVs were escaped. Every CSV goes through ``shopops.csvout`` (the architecture test
keeps it the only writer): text a spreadsheet would run is quoted, numbers stay numbers.
"""

from __future__ import annotations

import csv
import io
from datetime import date, datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command

from orders.models import CloseStage, ExchangeRate, Outcome, Status
from shopops import csvout
from tests.factories import OrderFactory, build_ledger

LINK = '=HYPERLINK("http://evil.example/refund","Refund")'


@pytest.mark.parametrize(
    ("value", "written"),
    [
        (LINK, "'" + LINK),
        ("+34 600", "'+34 600"),
        ("-1+1", "'-1+1"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tx", "'\tx"),
        ("plain", "plain"),
        (Decimal("-1.00"), "-1.00"),  # a number stays a number
        (-3, "-3"),
        (None, ""),
    ],
)
def test_a_cell_a_spreadsheet_would_run_is_quoted_and_a_number_is_not(value, written):
    out = io.StringIO()
    csvout.writer(out).writerow([value])
    assert next(csv.reader(io.StringIO(out.getvalue()))) == [written]


@pytest.mark.django_db
def test_the_loss_ledger_command_quotes_an_order_id_that_is_a_formula():
    shanghai = ZoneInfo("Asia/Shanghai")
    ExchangeRate.objects.create(date=date(2026, 3, 9), currency="USD", rate=Decimal("1.2"))
    OrderFactory(
        platform_order_id=LINK,
        status=Status.CLOSED,
        close_reason="quality_issue",
        close_stage=CloseStage.SHIPPED,
        outcome=Outcome.LOST,
        closed_at=datetime(2026, 3, 9, 12, tzinfo=shanghai),
        close_started_at=datetime(2026, 3, 9, 10, tzinfo=shanghai),
        placed_at=datetime(2026, 3, 9, 9, tzinfo=shanghai),
        currency="USD",
    )
    build_ledger()
    out = io.StringIO()
    call_command("loss_ledger", "--since", "2026-03-09", "--until", "2026-03-09", stdout=out)
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[1][0] == "'" + LINK
    assert "=HYPERLINK" not in [cell[:10] for row in rows for cell in row]
