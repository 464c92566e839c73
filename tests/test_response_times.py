"""Response times (issue 23, part 3): how long buyers wait for our answer and how long orders wait
in each state, per operator and per store — on the team page (this week) and in analytics (its
period and store filter), with the overdue flag at ``SHOPOPS_RESPONSE_OVERDUE_HOURS``. A data set
with known times, the figures worked out by hand."""

from __future__ import annotations

import csv
import io
import re
import zoneinfo
from datetime import datetime, time, timedelta
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from evidence import services
from orders.models import OrderEvent, Status
from orders.selectors.response import response_times, waiting_times
from orders.selectors.team import week_start
from tests.factories import OrderFactory, StoreFactory, default_store, staff

pytestmark = pytest.mark.django_db


def tell(order, direction: str, at: datetime, by=None, counterparty: str = "buyer"):
    return services.record_communication(
        order,
        by=by,
        counterparty=counterparty,
        channel="aliexpress_message" if counterparty == "buyer" else "1688_wangwang",
        direction=direction,
        summary=f"{direction} at {at:%H:%M}",
        occurred_at=at,
    )


@pytest.fixture
def people():
    main = default_store()
    b = StoreFactory(code="B", name="Store B")
    return {
        "main": main,
        "b": b,
        "ana": staff("Operator", "ana"),
        "bob": staff("Operator", "bob"),
        "max": staff("Operator", "max", stores=[main, b]),
        "sue": staff("Supervisor", "sue", stores=[main, b]),
        "ann": staff("Analyst", "ann", stores=[main, b]),
    }


@pytest.fixture
def day():
    """The period: from 20 days ago to today; T0 is 09:00 on its first day."""
    today = timezone.localdate()
    start = today - timedelta(days=20)
    t0 = datetime.combine(start, time(9), timezone.get_current_timezone())
    return {"start": start, "end": today, "t0": t0}


@pytest.fixture
def conversations(people, day):
    """Ana answers in 3 h (the buyer wrote twice first); Bob in 30 h (overdue at 24 h); a buyer of
    store B, Max's, has waited 20 days; a buyer of nobody's order wrote an hour ago."""
    t0 = day["t0"]
    a = OrderFactory(status=Status.SHIPPED, assignee=people["ana"])
    tell(a, "inbound", t0)
    tell(a, "inbound", t0 + timedelta(hours=1))  # the same wait
    tell(a, "outbound", t0 + timedelta(hours=3), by=people["ana"])
    b = OrderFactory(status=Status.SHIPPED)
    tell(b, "inbound", t0 + timedelta(hours=2))
    tell(b, "outbound", t0 + timedelta(hours=32), by=people["bob"])
    tell(b, "inbound", t0 - timedelta(days=3))  # before the period, answered then: not counted
    tell(b, "outbound", t0 - timedelta(days=3) + timedelta(hours=1), by=people["ana"])
    tell(b, "inbound", t0 + timedelta(hours=2), counterparty="supplier")  # not a buyer
    c = OrderFactory(status=Status.SHIPPED, store=people["b"], assignee=people["max"])
    tell(c, "inbound", t0 + timedelta(hours=4))
    d = OrderFactory(status=Status.SHIPPED)
    tell(d, "inbound", timezone.now() - timedelta(hours=1))
    return {"a": a, "b": b, "c": c, "d": d}


def _period(day):
    tz = timezone.get_current_timezone()
    return (
        datetime.combine(day["start"], time.min, tz),
        datetime.combine(day["end"] + timedelta(days=1), time.min, tz),
    )


def test_buyer_waits_per_operator_and_per_store(people, day, conversations, settings):
    settings.SHOPOPS_RESPONSE_OVERDUE_HOURS = 24
    start, end = _period(day)
    found = response_times(people["sue"], start, end, now=timezone.now())
    operators = {r.label: (r.answered, r.median_hours, r.overdue, r.waiting) for r in found.by_operator}
    assert operators == {
        "ana": (1, Decimal("3.0"), 0, 0),
        "bob": (1, Decimal("30.0"), 1, 0),
        "max": (0, None, 1, 1),
        "nobody": (0, None, 0, 1),
    }
    stores = {r.label: (r.answered, r.median_hours, r.overdue, r.waiting) for r in found.by_store}
    assert stores == {"main": (2, Decimal("16.5"), 1, 1), "B": (0, None, 1, 1)}
    assert (found.total.answered, found.total.overdue, found.total.waiting) == (2, 2, 2)
    # The flag follows the setting.
    settings.SHOPOPS_RESPONSE_OVERDUE_HOURS = 48
    relaxed = response_times(people["sue"], start, end, now=timezone.now())
    assert {r.label: r.overdue for r in relaxed.by_operator}["bob"] == 0


def test_buyer_waits_are_counted_in_the_users_stores_only(people, day, conversations):
    start, end = _period(day)
    ana = response_times(people["ana"], start, end, now=timezone.now())  # of store main only
    assert [r.label for r in ana.by_store] == ["main"]
    assert "max" not in {r.label for r in ana.by_operator}
    one = response_times(people["sue"], start, end, now=timezone.now(), store=people["b"])
    assert [r.label for r in one.by_store] == ["B"]


@pytest.fixture
def waits(people, day):
    """Order history with known times: cancellations of store main (10 h and 6 h asking the buyer,
    20 h to confirm the refund, one refund still to confirm), a return of store B (48 h)."""
    t0 = day["t0"]
    closed = OrderFactory(
        status=Status.CLOSED, close_reason="buyer_cancelled", closed_at=t0 + timedelta(hours=30)
    )
    pending = OrderFactory(status=Status.REFUND_PENDING, status_changed_at=t0 + timedelta(hours=7))
    returning = OrderFactory(
        status=Status.RETURN_IN_TRANSIT, store=people["b"], status_changed_at=t0 + timedelta(hours=48)
    )

    def move(order, name, was, now, at, by=None):
        OrderEvent.objects.create(
            order=order, transition=name, from_status=was, to_status=now, created_at=at, actor=by
        )

    move(closed, "imported", "", Status.PAID, t0 - timedelta(days=10))
    move(closed, "request_cancellation", Status.PAID, Status.CANCEL_REQUESTED, t0)
    move(
        closed,
        "record_buyer_consent",
        Status.CANCEL_REQUESTED,
        Status.REFUND_PENDING,
        t0 + timedelta(hours=10),
    )
    move(closed, "confirm_refund", Status.REFUND_PENDING, Status.CLOSED, t0 + timedelta(hours=30))
    move(pending, "request_cancellation", Status.PAID, Status.CANCEL_REQUESTED, t0 + timedelta(hours=1))
    move(
        pending,
        "send_payment_reminder",
        Status.CANCEL_REQUESTED,
        Status.CANCEL_REQUESTED,
        t0 + timedelta(hours=2),
    )
    move(
        pending,
        "record_buyer_consent",
        Status.CANCEL_REQUESTED,
        Status.REFUND_PENDING,
        t0 + timedelta(hours=7),
    )
    move(returning, "propose_return", Status.SHIPPED, Status.RETURN_REQUESTED, t0)
    move(
        returning,
        "record_return_agreement",
        Status.RETURN_REQUESTED,
        Status.RETURN_IN_TRANSIT,
        t0 + timedelta(hours=48),
    )
    return {"closed": closed, "pending": pending, "returning": returning}


def test_time_in_each_waiting_state_per_store(people, day, waits):
    start, end = _period(day)
    now = timezone.now()
    rows = {
        (r.status, r.store): (r.ended, r.median_hours, r.waiting_now)
        for r in waiting_times(people["sue"], start, end, now=now)
    }
    assert rows == {
        (Status.CANCEL_REQUESTED, "main"): (2, Decimal("8.0"), 0),
        (Status.REFUND_PENDING, "main"): (1, Decimal("20.0"), 1),
        (Status.RETURN_REQUESTED, "B"): (1, Decimal("48.0"), 0),
        (Status.RETURN_IN_TRANSIT, "B"): (0, None, 1),
    }
    pending = next(
        r for r in waiting_times(people["sue"], start, end, now=now) if r.status == Status.REFUND_PENDING
    )
    assert pending.oldest == now - (day["t0"] + timedelta(hours=7))
    only_main = waiting_times(people["ana"], start, end, now=now)
    assert {r.store for r in only_main} == {"main"}


def _csv(response) -> list[list[str]]:
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def test_analytics_shows_response_times_and_keeps_the_store_filter(
    people, day, conversations, waits, settings
):
    settings.SHOPOPS_RESPONSE_OVERDUE_HOURS = 24
    client = Client()
    client.force_login(people["ann"])
    query = {"start": day["start"].isoformat(), "end": day["end"].isoformat()}
    page = client.get("/admin/orders/analytics/", query)
    assert page.status_code == 200
    text = page.content.decode()
    assert 'id="table-responses_operators"' in text and 'id="table-waiting_states"' in text
    operators = _csv(client.get("/admin/orders/analytics/", {**query, "export": "responses_operators"}))
    assert operators[0] == [
        "Operator",
        "Buyers answered",
        "Median answer (hours)",
        "Overdue (over 24 h)",
        "Still waiting",
    ]
    assert ["bob", "1", "30.0", "1", "0"] in operators
    assert ["ana", "1", "3.0", "0", "0"] in operators
    stores = _csv(client.get("/admin/orders/analytics/", {**query, "export": "responses_stores"}))
    assert stores[1:] == [["B", "0", "", "1", "1"], ["main", "2", "16.5", "1", "1"]]
    states = _csv(client.get("/admin/orders/analytics/", {**query, "export": "waiting_states"}))
    assert states[0] == [
        "State",
        "Store",
        "Waits ended",
        "Median wait (hours)",
        "Waiting now",
        "Longest wait now (hours)",
    ]
    assert states[1] == ["Cancellation under negotiation", "main", "2", "8.0", "0", ""]
    assert states[2][:5] == ["Refund in progress", "main", "1", "20.0", "1"]

    # ?store=main: store B's figures are gone from every response table.
    main_only = {**query, "store": people["main"].pk}
    stores = _csv(client.get("/admin/orders/analytics/", {**main_only, "export": "responses_stores"}))
    assert [row[0] for row in stores[1:]] == ["main"]
    operators = _csv(client.get("/admin/orders/analytics/", {**main_only, "export": "responses_operators"}))
    assert "max" not in {row[0] for row in operators}
    states = _csv(client.get("/admin/orders/analytics/", {**main_only, "export": "waiting_states"}))
    assert {row[1] for row in states[1:]} == {"main"}


# --- the team page: this week ----------------------------------------------------------------------


@pytest.fixture
def mid_week(settings):
    """A time zone in which this week began at least three hours ago (so that the test's times,
    spread over the week so far, are hours apart whatever day it runs)."""
    for zone in ("Asia/Shanghai", "America/Los_Angeles"):
        settings.TIME_ZONE = zone
        now = timezone.now()
        if now - week_start(now) >= timedelta(hours=3):
            return zoneinfo.ZoneInfo(zone)
    raise AssertionError("no zone in which the week began three hours ago")  # pragma: no cover


def test_the_team_page_shows_each_operators_answers_this_week(people, settings, mid_week):
    now = timezone.now()
    start = week_start(now)
    span = now - start
    settings.SHOPOPS_RESPONSE_OVERDUE_HOURS = span.total_seconds() / 3600 / 2  # half the week so far
    # A buyer who wrote last week and still waits is still waiting this week.
    answered = OrderFactory(status=Status.SHIPPED, assignee=people["ana"])
    tell(answered, "inbound", start + span * 0.1)
    tell(answered, "outbound", start + span * 0.2, by=people["ana"])
    waiting = OrderFactory(status=Status.SHIPPED, assignee=people["bob"])
    tell(waiting, "inbound", start + span * 0.3)  # unanswered for 0.7 of the span: overdue
    tell(OrderFactory(status=Status.SHIPPED, assignee=people["ana"]), "inbound", start - timedelta(hours=1))

    client = Client()
    client.force_login(people["sue"])
    text = client.get("/admin/orders/team/").content.decode()

    def cells(person):
        row = re.search(rf'<tr data-person="{person}"[^>]*>.*?</tr>', text, re.S).group(0)
        return dict(re.findall(r'class="num (responses-\w+)">([^<]*)<', row)), row

    ana, ana_row = cells("ana")
    assert (ana["responses-answered"], ana["responses-overdue"], ana["responses-waiting"]) == ("1", "1", "1")
    assert ana["responses-median"] != "—"
    assert 'class="overdue"' in ana_row
    bob, bob_row = cells("bob")
    assert (bob["responses-answered"], bob["responses-overdue"], bob["responses-waiting"]) == ("0", "1", "1")
    assert 'class="overdue"' in bob_row
    assert 'class="overdue"' not in cells("max")[1]
    main = re.search(r'<tr data-store="main"[^>]*>.*?</tr>', text, re.S).group(0)
    assert re.findall(r'<td class="num[^"]*">([^<]*)<', main)[0] == "1"  # one buyer answered in store main
