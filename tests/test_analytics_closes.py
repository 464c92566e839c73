"""The grouped reads the close counts and the cost of closes share (``orders.selectors.closes``):
on PostgreSQL one ``GROUPING SETS`` query, elsewhere five grouped queries — the same groups."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from orders.models import ExchangeRate, RefundDirection, RefundStatus
from orders.selectors import analytics, closes
from tests.analytics_support import END, START, at, closed, refund
from tests.factories import SkuFactory, SupplierOrderFactory, build_ledger, staff

pytestmark = pytest.mark.django_db


@pytest.mark.postgres
@pytest.mark.parametrize(
    "view",
    [
        {},
        {"country": "FR"},
        {"supplier": "Y Factory"},
        {"supplier": "义乌X饰品厂"},
        {"sku": "A-1"},
    ],
    ids=["all", "country", "supplier", "chinese-supplier", "sku"],
)
def test_one_grouping_sets_read_gives_the_five_reads_groups(known_closes, march_rates, monkeypatch, view):
    # given: the known closes, and one bought from two suppliers whose refund one refused
    two = closed("quality_issue", "shipped", sku=SkuFactory(code="C-3"), closed_at=at(21), hours=5)
    SupplierOrderFactory(order=two, supplier_name="Y Factory", amount=Decimal("120.00"))
    SupplierOrderFactory(order=two, supplier_name="义乌X饰品厂", amount=Decimal("80.00"))
    refund(two, RefundDirection.TO_BUYER, "60.00")
    refund(two, RefundDirection.FROM_SUPPLIER, "80.00", RefundStatus.REJECTED)
    # and the rates of the purchases' days (today's): their ledgers complete, their costs summed
    today = timezone.localdate()
    for day in (today - timedelta(days=n) for n in range(7)):
        ExchangeRate.objects.create(date=day, currency="USD", rate=Decimal("1.25"))
        ExchangeRate.objects.create(date=day, currency="CNY", rate=Decimal("10"))
    build_ledger()
    entries = analytics.closed_ledgers(START, END, user=None, **view)

    # when
    one = closes.group_closes(entries)
    with monkeypatch.context() as patched:
        patched.setattr(closes, "one_read", closes.five_reads)
        five = closes.group_closes(entries)

    # then: every count and sum of every group is the same, and there are some
    assert one == five
    assert one.by_kind and one.by_day and one.by_sku_reason and one.by_supplier
    assert any(complete and cost for _n, complete, cost in one.by_day.values())
    if not view:
        names = {names for names, _reason in one.by_names}
        assert ("Y Factory", "义乌X饰品厂") in names  # the close counts under both suppliers


@pytest.mark.postgres
def test_a_reader_of_no_store_gets_no_groups(known_closes):
    # given: an analyst who works for no store
    nobody = staff("Analyst", username="no-store", stores=[])

    # when
    groups = closes.group_closes(analytics.closed_ledgers(START, END, user=nobody))

    # then: nothing counted, no error
    assert groups == closes.GroupedCloses({}, {}, {}, {}, {}, {})
