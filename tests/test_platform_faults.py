"""Bad input and faults in the AliExpress pull (issue 22), each against the fake over HTTP.

- a wrong secret or an expired token: the store's error names the platform's code; nothing changes;
- a 500, a timeout or throttling: retried, or the pass fails and the next one resumes where it
  stopped — never a duplicate order or event;
- a hostile order (an id with a line break, the year 1, "1e308", a 4 MB field, a missing field):
  refused by the CSV's parsers and reported per order, the page's other orders written;
- one store's outage never stops another's pass; two passes of one store never run at once.
"""

from __future__ import annotations

import time
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command
from django.db.models import Count
from django.utils import timezone

from orders.models import Order, OrderEvent, SyncState
from orders.platforms import sync
from orders.platforms.fake import fake_order
from orders.workflow import platforms as recorded
from tests.factories import StoreFactory, default_store
from tests.platform_support import (  # noqa: F401 (fake_gateways: the fixture "fake")
    AE_KEY,
    AE_SECRET,
    AE_TOKEN,
    connect,
    fake_gateways,
    quick_transport,
    run,
)

pytestmark = pytest.mark.django_db
LIST = "aliexpress.solution.order.get"


def ago(minutes: float):
    return timezone.now() - timedelta(minutes=minutes)


def orders(fake, count: int, first: int = 8100000000000100, **fields) -> list[str]:
    ids = [str(first + n) for n in range(count)]
    for order_id in ids:
        fake.put_order(AE_TOKEN, fake_order(order_id, modified=ago(5), **fields))
    return ids


def one_event_each() -> bool:
    counts = OrderEvent.objects.filter(transition="imported").values("order").annotate(n=Count("id"))
    return all(row["n"] == 1 for row in counts)


# --- credentials ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("trouble", "code"), [("secret", "IncompleteSignature"), ("token", "IllegalAccessToken")]
)
def test_a_wrong_secret_or_an_expired_token_is_the_stores_error_and_changes_nothing(fake, trouble, code):
    # given
    store = default_store()
    connect(store, secret="wrong" if trouble == "secret" else AE_SECRET)
    if trouble == "token":
        fake.expire(AE_TOKEN)
    orders(fake, 3)
    # when
    report = run(store)
    # then
    assert not report.ok and code in report.error
    state = SyncState.objects.get(store=store)
    assert code in state.last_error and state.last_error_at is not None
    assert (state.mark, state.last_good_pass_at, state.running_until) == (None, None, None)
    assert not Order.objects.exists()


# --- transient faults ------------------------------------------------------------------------------


def test_a_pass_that_fails_part_way_keeps_its_pages_and_the_next_resumes_without_duplicates(fake, settings):
    # given: 25 orders in pages of 10; page 2 keeps failing with HTTP 500
    settings.SHOPOPS_SYNC_PAGE_SIZE = 10
    store = default_store()
    connect(store)
    ids = orders(fake, 25)
    calls = iter(range(100))
    original = fake.state.take_fault

    def failing(platform, api):
        if api == LIST and next(calls) >= 1 and fake.calls("aliexpress", LIST) < 10:
            fake.fail("aliexpress", kind="http500", api=LIST)
        return original(platform, api)

    fake.state.take_fault = failing
    # when
    first = run(store)
    # then: page 1 is kept, the cursor points at page 2
    assert not first.ok and "HTTP 500" in first.error
    state = SyncState.objects.get(store=store)
    assert (state.cursor["phase"], state.cursor["page"]) == ("orders", 2)
    assert Order.objects.count() == 10
    # when the gateway is back
    fake.state.take_fault = original
    fake.state.faults.clear()
    second = run(store)
    # then: every order once, one imported event each, and the window closed
    assert second.ok, second.error
    assert sorted(Order.objects.values_list("platform_order_id", flat=True)) == sorted(ids)
    assert one_event_each()
    state.refresh_from_db()
    assert state.cursor == {} and state.mark is not None and state.last_error == ""


def test_a_pass_that_fails_reading_disputes_resumes_with_the_disputes(fake):
    store = default_store()
    connect(store)
    orders(fake, 3)
    fake.fail("aliexpress", kind="http500", api="aliexpress.issue.issuelist.get", times=10)
    assert "HTTP 500" in run(store).error
    assert SyncState.objects.get(store=store).cursor["phase"] == "disputes"
    fake.state.faults.clear()
    calls = fake.calls("aliexpress", LIST)
    report = run(store)
    assert report.ok, report.error
    assert fake.calls("aliexpress", LIST) == calls  # the orders were all written: not read again
    assert SyncState.objects.get(store=store).mark is not None


@pytest.mark.parametrize("kind", ["http500", "slow", "throttle"])
def test_a_500_a_timeout_or_throttling_is_retried_with_no_duplicate(fake, kind):
    store = default_store()
    connect(store)
    orders(fake, 3)
    fake.fail("aliexpress", kind=kind, api=LIST, times=1, seconds=1.0)
    report = run(store, transport=quick_transport(timeout=0.4))
    assert report.ok, report.error
    assert Order.objects.count() == 3 and one_event_each()


def test_a_persisting_throttle_fails_the_pass_and_the_next_pass_reads_it_all_once(fake):
    store = default_store()
    connect(store)
    orders(fake, 3)
    fake.fail("aliexpress", kind="throttle", times=50)
    assert "ApiCallLimit" in run(store).error
    fake.state.faults.clear()
    assert run(store).ok and run(store).ok
    assert Order.objects.count() == 3 and one_event_each()


# --- hostile payloads -------------------------------------------------------------------------------

HOSTILE = {
    "an id with a line break": ({"order_id": "8100000000\n000201"}, "one line"),
    "the year 1": ({"gmt_create": "0001-01-01 00:00:00"}, "cannot be before"),
    "an amount of 1e308": ({"pay_amount": {"amount": "1e308", "currency_code": "USD"}}, "not an amount"),
    "a 4 MB field": ({"buyer_signer_fullname": "A" * (4 * 1024 * 1024)}, "too long"),
    "a missing field": ({"gmt_create": None}, "placed_at is required"),
    "a list where an amount was": ({"pay_amount": [1, 2]}, "total_amount is required"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_a_hostile_order_is_refused_by_the_csvs_parsers_and_reported_per_order(fake, case):
    # given: a good order and a hostile one in the same page
    store = default_store()
    connect(store)
    fields, said = HOSTILE[case]
    good = fake_order("8100000000000200", modified=ago(5))
    bad = {**fake_order("8100000000000201", modified=ago(5)), **fields}
    fake.put_order(AE_TOKEN, good)
    fake.put_order(AE_TOKEN, bad)
    # when
    report = run(store)
    # then: the store's pass is good, the hostile order reported by name and never stored
    assert report.ok, report.error
    assert list(Order.objects.values_list("platform_order_id", flat=True)) == ["8100000000000200"]
    assert report.counts["invalid"] == 1
    (problem,) = report.problems
    assert said in problem["problem"], problem
    assert problem["order"].startswith("8100000000")
    assert len(problem["problem"]) <= 300
    state = SyncState.objects.get(store=store)
    assert state.problems == report.problems and state.last_error == ""


# --- stores side by side ----------------------------------------------------------------------------


def test_one_stores_outage_never_stops_another_and_the_command_says_so(fake):
    # given: main works; eu's token has expired
    main, eu = default_store(), StoreFactory(code="eu")
    connect(main)
    fake.add_aliexpress_seller(AE_KEY, AE_SECRET, "eu-token")
    connect(eu, token="eu-token")
    fake.expire("eu-token")
    orders(fake, 2)
    out = StringIO()
    # when
    with pytest.raises(CommandError, match="failed for eu"):
        call_command("sync_platforms", stdout=out)
    # then
    printed = out.getvalue()
    assert "main: 2 pages, 2 orders: 2 new" in printed
    assert "eu: FAILED — AliExpress aliexpress.solution.order.get answered IllegalAccessToken" in printed
    assert Order.objects.filter(store=main).count() == 2
    call_command("sync_platforms", "--store", "MAIN", stdout=StringIO())  # one store, any case
    with pytest.raises(CommandError, match="Unknown store"):
        call_command("sync_platforms", "--store", "nope")


def test_two_passes_of_one_store_never_run_at_once(fake):
    store = default_store()
    connect(store)
    held = recorded.begin_pass(store)
    assert held is not None
    assert run(store).skipped
    SyncState.objects.filter(pk=held.pk).update(running_until=timezone.now() - timedelta(seconds=1))
    assert run(store).ok  # a lease that ran out is taken over


def test_run_all_takes_each_connected_store_once(fake):
    connect(default_store())
    StoreFactory(code="idle")  # not connected: not passed
    started = time.monotonic()
    reports = sync.run_all(transport=quick_transport())
    assert [r.store for r in reports] == ["main"] and time.monotonic() - started < 30
