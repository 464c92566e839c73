"""One date format everywhere, in every UI language: ``2025-12-09 16:54``, a day ``2025-12-09``.

The order list said "12/09/2025 4:54 p.m." (month first) while the order page said
"Dec. 9, 2025", and the Chinese pages "2025年12月9日": the lists, the order page, the CSV files
and the evidence packs now all write the same unambiguous form (``shopops/formats/``).
"""

import csv
import io
from datetime import UTC, datetime, timedelta
from importlib import import_module

import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.utils import formats, translation

from orders.models import Order, Status
from orders.packs.case import when
from orders.resources import export_orders_response
from shopops.csvout import cell
from tests.factories import OrderFactory, RefundFactory

pytestmark = pytest.mark.django_db

LANGUAGES = [code for code, _name in settings.LANGUAGES]
# 16:54 in Asia/Shanghai on the 9th of December: the day cannot pass for a month.
MOMENT = datetime(2025, 12, 9, 8, 54, tzinfo=UTC)
SHOWN = "2025-12-09 16:54"
# What Django's own formats wrote for that moment in English and in Chinese.
AMBIGUOUS = ["12/09/2025", "Dec. 9", "4:54 p.m.", "2025年12月9日", "2025/12/09"]


@pytest.fixture(autouse=True)
def shanghai(settings):
    settings.TIME_ZONE = "Asia/Shanghai"
    settings.SHOPOPS_PLATFORM_TZ = "Asia/Shanghai"


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_formats_of_every_ui_language_are_iso_like(language):
    with translation.override(language):
        assert formats.date_format(MOMENT.astimezone(), "DATETIME_FORMAT") == SHOWN
        assert formats.date_format(MOMENT.astimezone(), "SHORT_DATETIME_FORMAT") == SHOWN
        assert formats.date_format(MOMENT.date(), "DATE_FORMAT") == "2025-12-09"
        assert formats.date_format(MOMENT.date(), "SHORT_DATE_FORMAT") == "2025-12-09"
        assert formats.time_format(MOMENT.astimezone().time(), "TIME_FORMAT") == "16:54"


def test_every_ui_language_has_its_format_module():
    # a language added to LANGUAGES without one would fall back to Django's own formats
    for code in LANGUAGES:
        module = import_module(f"shopops.formats.{translation.to_locale(code)}.formats")
        assert module.DATETIME_FORMAT == "Y-m-d H:i", code


@pytest.mark.parametrize("language", LANGUAGES)
def test_lists_and_the_order_page_show_the_same_format(client, language):
    order = OrderFactory(status=Status.AWAITING_PAYMENT, placed_at=MOMENT)
    RefundFactory(order=OrderFactory(status=Status.REFUND_PENDING), requested_at=MOMENT)
    client.force_login(get_user_model().objects.create_superuser("dates", "dates@example.com", "dates-2026"))
    headers = {"Accept-Language": language}

    order_list = client.get("/admin/orders/order/", {"status__exact": "awaiting_payment"}, headers=headers)
    refund_list = client.get("/admin/orders/refund/", headers=headers)
    order_page = client.get(f"/admin/orders/order/{order.pk}/change/", headers=headers)

    assert order_page.headers["Content-Language"] == language
    # the list's next deadline: the payment timeout after the order was placed
    timeout = timedelta(hours=float(order.store.option("payment_timeout_hours")))
    due = (MOMENT + timeout).astimezone().strftime("%Y-%m-%d %H:%M")
    assert due in order_list.content.decode()
    assert SHOWN in refund_list.content.decode()  # requested
    assert SHOWN in order_page.content.decode()  # placed
    for response in (order_list, refund_list, order_page):
        html = response.content.decode()
        assert [text for text in AMBIGUOUS if text in html] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_csv_files_write_dates_the_same_in_every_language(language):
    OrderFactory(placed_at=MOMENT)
    with translation.override(language):
        export = export_orders_response(Order.objects.all())
        moment_cell, day_cell = cell(MOMENT), cell(MOMENT.date())
    (row,) = csv.DictReader(io.StringIO(export.content.decode("utf-8-sig")))
    # the export keeps the seconds the platform gave, so that it re-imports unchanged
    assert row["placed_at"] == f"{SHOWN}:00"
    assert (moment_cell, day_cell) == (SHOWN, "2025-12-09")


@pytest.mark.parametrize("language", LANGUAGES)
def test_evidence_packs_write_the_same_format_with_the_offset(language):
    with translation.override(language):
        assert when(MOMENT) == f"{SHOWN} (UTC+08:00)"
