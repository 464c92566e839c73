"""Team work walked in Chromium at 1366×768 on fresh demo data (issue 23's definition of done):
a claim, an assignment, hand-offs received by a loopback team chat robot and by email, the
recipient following the message's link, and the team page with its figures — and what each
user's share costs.

The same walk as ``tests/test_browser_walk.py`` (``tests/walk_support.py``): each demo user logs
in once in a browser context of their own, starts each share on the admin index, and clicks; the
only address typed after the login is the link a hand-off message gives. The story, on Monday
morning:

1. ``team_pool`` — the supervisor opens the team page (each person's open orders, oldest wait and
   steps this week, as counted from the rows) and moves the operator's open orders to Nobody:
   the team's pool.
2. ``team_claim`` — the operator takes on a paid order from "Mine" (the pool's orders whose next
   step is theirs); the order page says they handle it, the timeline says *Taken on*.
3. ``team_paid_consent`` — the operator finds it again in "Mine", asks the buyer to cancel and
   records the consent: a refund to confirm is handed to the supervisor.
4. ``team_shipped_return`` — the supervisor gives a shipped order (nobody's) to the operator from
   the order page; the operator finds it in "Mine", proposes the return, records the agreement
   and receives the goods: a return to claim is handed to the supervisor.
5. A real worker delivers the outbox: the loopback robot (``tests/webhook_support.py``, checking
   the DingTalk signature) received one JSON text message per hand-off naming the order, the
   store, what waits and the link; the supervisor received one email per hand-off; nothing twice.
6. The supervisor follows the email's link to the refund and confirms it, and the chat message's
   link to the return and asks the supplier.
7. ``team_week`` — the team page again: the operator's one open order, everybody's steps this
   week (the walk's own included) and the pool, as counted; the open orders' link lists it.

The walk writes ``test-artifacts/team_flows.json`` and a screenshot per step under
``test-artifacts/walk/team_*/``, then asserts each share within :data:`BUDGETS` and no page
scrolling sideways at 1366 px.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from django.conf import settings as django_settings
from django.core import mail
from playwright.sync_api import Browser, expect

from orders import delivery
from orders.models import Notification, NotificationChannel, NotificationStatus, NotificationTemplate, Order
from tests.concurrency_support import wait_until
from tests.team_walk_support import (
    Figures,
    TeamWalker,
    expect_team_page,
    order_links,
    purge_broker,
    team_figures,
    worker_delivering,
)
from tests.walk_support import ARTIFACTS_DIR, PNG, WALK_DIR, Journal, walking
from tests.webhook_support import start_robot, stop_robot

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


# (loads, forms) each user may spend on each share, as this walk measured them (2026-12-06).
# The operator's shares of the paid and shipped flows were 15 / 4 and 23 / 6 when issue 23 was
# filed (:data:`ISSUE_23_TODAY`), 11 / 4 and 13 / 5 in tests/test_browser_walk.py (the order
# found from the list by its status); here the operator finds the order in "Mine" — 10 / 4 and
# 12 / 5 — and the supervisor reaches the order waiting on them by the hand-off's link (one
# load where the index's queue took two). Lower the figures when a step goes away.
BUDGETS: dict[str, dict[str, tuple[int, int]]] = {
    "team_pool": {"supervisor": (2, 1)},
    "team_claim": {"operator": (4, 1)},
    "team_paid_consent": {"operator": (10, 4), "supervisor": (3, 1)},
    "team_shipped_return": {"supervisor": (9, 2), "operator": (12, 5)},
    "team_week": {"supervisor": (2, 0)},
}
# The operator's shares when issue 23 was filed: the walk's must be lower.
ISSUE_23_TODAY = {"team_paid_consent": (15, 4), "team_shipped_return": (23, 6)}
TEAM = ["operator", "operator_eu", "supervisor"]
ROBOT_SECRET = "SECteam+walk/secret="


@pytest.fixture
def demo(transactional_db, demo_data):
    """``manage.py seed_demo``'s data: the demo users, the live orders and the close history."""


@pytest.fixture
def robot(settings, live_server, messages):
    """The team chat: a robot on loopback checking the DingTalk signature; links in staff
    messages lead to the live server; emails are kept in ``mail.outbox``."""
    found = start_robot(secret=ROBOT_SECRET)
    settings.SHOPOPS_STAFF_WEBHOOK_URL = found.url
    settings.SHOPOPS_STAFF_WEBHOOK_SECRET = found.secret
    settings.SHOPOPS_STAFF_WEBHOOK_TIMEOUT = 5
    settings.SHOPOPS_SITE_URL = live_server.url
    yield found
    stop_robot(found)


@pytest.fixture
def walk(request: pytest.FixtureRequest, browser: Browser, live_server, demo):
    """``walk(flow, user)``: the demo ``user`` on the admin index, starting a share of ``flow``;
    each user in a browser context of their own, logged in once."""
    with walking(request, browser, live_server.url, walker=TeamWalker) as walk:
        yield walk


@pytest.fixture
def consent_screenshot(tmp_path) -> Path:
    path = tmp_path / "buyer-consent.png"
    path.write_bytes(PNG)
    return path


def handoff_rows(order: Order):
    return Notification.objects.filter(template=NotificationTemplate.STAFF_HANDOFF, order=order)


def emails_to(address: str, order: Order) -> list:
    return [m for m in mail.outbox if m.to == [address] and order.platform_order_id in m.subject]


# --- the shares ------------------------------------------------------------------------------


def team_pool(walk) -> None:
    supervisor = walk("team_pool", "supervisor")
    before = team_figures(TEAM)
    supervisor.open_team()
    shown = expect_team_page(supervisor, before, team_figures(TEAM))
    assert shown["operator"][0] > 0 and shown["operator_eu"][0] > 0  # the demo's orders are theirs
    moved = shown["operator"][0]
    pool = shown[""][0]

    before = team_figures(TEAM)
    supervisor.reassign("operator", "Nobody")
    expect(supervisor.page.locator(".messagelist .success").first).to_contain_text(f"Moved {moved} orders")
    shown = expect_team_page(supervisor, before, team_figures(TEAM))
    assert shown["operator"][:2] == (0, "—")
    assert shown[""][0] > pool  # the operator's open orders are the pool's now (shipped ones aside)


def team_claim(walk) -> Order:
    operator = walk("team_claim", "operator")
    operator.mine()
    operator.filter_by("Paid, not shipped")
    order_id = operator.first_order()
    operator.expect_handled_by("nobody yet")
    operator.claim()
    taken = operator.timeline_entry("Taken on")
    expect(taken).to_have_count(1)
    expect(taken).to_contain_text("by operator")
    expect(taken.locator("dt").first).to_have_text("Handled by")
    expect(taken.locator("dd").first).to_have_text("operator")
    order = Order.objects.get(platform_order_id=order_id)
    assert order.assignee.username == "operator"
    return order


def paid_consent_operator(walk, order: Order, files: list[Path]) -> None:
    operator = walk("team_paid_consent", "operator")
    operator.mine()
    operator.open_order(order.platform_order_id)
    operator.expect_handled_by("you")
    operator.transition("request_cancellation", evidence="Asked the buyer to cancel: we cannot ship in time")
    expect(operator.page.locator("#order-status")).to_have_text("Cancellation under negotiation")
    operator.transition(
        "record_buyer_consent",
        evidence="Buyer agrees to cancel",
        files=files,
        select={"reason": "buyer_cancelled"},
    )
    expect(operator.page.locator("#order-status")).to_have_text("Refund in progress")
    operator.expect_handed_to("supervisor")


def shipped_assignment(walk) -> Order:
    supervisor = walk("team_shipped_return", "supervisor")
    supervisor.open_orders()
    supervisor.filter_by("Shipped")
    supervisor.filter_by("Nobody")
    order_id = supervisor.first_order()
    supervisor.expect_handled_by("nobody yet")
    supervisor.assign("operator")
    # The newest entry: this assignment (the older one is the move to nobody of the team page).
    assigned = supervisor.timeline_entry("Assigned")
    expect(assigned).to_have_count(2)
    expect(assigned.first).to_contain_text("by supervisor")
    expect(assigned.first).to_contain_text("Handled by")
    expect(assigned.first.locator("dd").first).to_have_text("operator")
    return Order.objects.get(platform_order_id=order_id)


def shipped_return_operator(walk, order: Order) -> None:
    operator = walk("team_shipped_return", "operator")
    operator.mine()
    operator.open_order(order.platform_order_id)
    operator.expect_handled_by("you")
    operator.take_back_a_damaged_return()


def delivered_once(robot, refund_order: Order, return_order: Order) -> tuple[str, str]:
    """The worker delivers both hand-offs; each reached the supervisor by email and the team chat
    once. The links: the email's to the refund, the chat's to the return."""
    supervisor_email = "supervisor@shopops.localhost"
    expected = [
        (refund_order, "A refund to confirm", "Confirm refund and close"),
        (return_order, "A return received: ask the supplier for the refund", "Ask the supplier for a refund"),
    ]

    def arrived() -> bool:
        return all(
            handoff_rows(order).exclude(status=NotificationStatus.SENT).count() == 0
            and handoff_rows(order).count() == 2
            for order, _, _ in expected
        )

    with worker_delivering():
        wait_until(arrived, what="the hand-offs sent by the worker")

    links = {}
    for order, what, step in expected:
        rows = handoff_rows(order)
        assert sorted(rows.values_list("channel", "recipient")) == [
            (NotificationChannel.EMAIL, supervisor_email),
            (NotificationChannel.WEBHOOK, "team chat"),
        ]
        # One email, to the supervisor (the one who may take the step on the order's store).
        (email,) = emails_to(supervisor_email, order)
        assert email.subject == f"[Shopops] {what}: order {order.platform_order_id} ({order.store.code})"
        assert f"Next step: {step}." in email.body
        # One chat message, the robots' JSON text, signed: the robot checked the signature.
        chat = [
            r
            for r in robot.requests
            if order.platform_order_id in ((r.body or {}).get("text") or {}).get("content", "")
        ]
        assert len(chat) == 1, f"{len(chat)} chat messages for order {order.platform_order_id}"
        content = chat[0].body["text"]["content"]
        assert chat[0].body == {"msgtype": "text", "text": {"content": content}}
        assert set(chat[0].query) == {"access_token", "timestamp", "sign"}
        assert robot.signature_ok(chat[0].query) and content in robot.messages
        store = order.store
        assert content.startswith(
            f"[Shopops] {what}: order {order.platform_order_id}, store {store.code} ({store.name})"
        )
        assert "For: supervisor" in content
        link = f"{django_settings.SHOPOPS_SITE_URL}/admin/orders/order/{order.pk}/change/"
        assert order_links(email.body) == [(link, order.pk)]
        assert order_links(content) == [(link, order.pk)]
        links[order.pk] = link

    # Delivering again sends nothing: each row is sent already.
    ids = list(
        Notification.objects.filter(order__in=[refund_order, return_order]).values_list("pk", flat=True)
    )
    assert {o.outcome for o in delivery.deliver_many(ids).values()} <= {"skipped"}
    assert len(robot.requests) == len(robot.messages) == 2
    assert len([m for m in mail.outbox if m.to == [supervisor_email]]) == 2
    return links[refund_order.pk], links[return_order.pk]


def supervisor_confirms_from_the_email(walk, order: Order, link: str) -> None:
    supervisor = walk("team_paid_consent", "supervisor")
    supervisor.follow(link)
    expect(supervisor.page.locator("#order-status")).to_have_text("Refund in progress")
    expect(supervisor.page.locator("#content")).to_contain_text(order.platform_order_id)
    supervisor.transition("confirm_refund", fill={"reference": "AE-RF-TEAM-1"})
    expect(supervisor.page.locator("#order-status")).to_have_text("Closed")
    supervisor.expect_handled_by("operator")  # a supervisor's step leaves the order with its handler


def supervisor_asks_the_supplier_from_the_chat(walk, order: Order, link: str) -> None:
    supervisor = walk("team_shipped_return", "supervisor")
    supervisor.follow(link)
    expect(supervisor.page.locator("#order-status")).to_have_text("Return received")
    supervisor.transition(
        "request_supplier_refund",
        fill={"reason": "Wrong colour shipped by the supplier", "reference": "1688-RF-TEAM"},
    )
    expect(supervisor.page.locator("#order-status")).to_have_text("Awaiting supplier")
    supervisor.expect_handled_by("operator")


def team_week(walk, start: Figures, return_order: Order) -> None:
    supervisor = walk("team_week", "supervisor")
    before = team_figures(TEAM)
    supervisor.open_team()
    shown = expect_team_page(supervisor, before, team_figures(TEAM))
    # The operator handles one open order: the return awaiting its supplier (the refund closed).
    assert shown["operator"][0] == 1
    assert shown["operator_eu"][0] == start.rows["operator_eu"][0]  # of the other store: untouched
    if before.week_start == start.week_start:  # (a walk across Monday 00:00 starts a new week)
        # The walk's steps are this week's: the operator's five, the supervisor's two.
        assert shown["operator"][2] == start.rows["operator"][2] + 5
        assert shown["supervisor"][2] == start.rows["supervisor"][2] + 2
    supervisor.click(
        "operator's open orders", '#team-table tr[data-person="operator"] .open-orders a', "#changelist"
    )
    rows = supervisor.page.locator("#result_list tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text(return_order.platform_order_id)


# --- the walk --------------------------------------------------------------------------------


@pytest.mark.slow
def test_team_work_walked_claim_assignment_handoffs_and_team_page_within_budgets(
    walk, robot, consent_screenshot
):
    for flow in BUDGETS:
        for old in (WALK_DIR / flow).glob("*.png"):
            old.unlink()
    purge_broker()
    journal: Journal = walk.journal
    try:
        start = team_figures(TEAM)
        team_pool(walk)
        claimed = team_claim(walk)
        paid_consent_operator(walk, claimed, [consent_screenshot])
        assigned = shipped_assignment(walk)
        shipped_return_operator(walk, assigned)
        # Nothing reached anybody inside the requests: the messages wait for the worker.
        assert not robot.requests and not [m for m in mail.outbox if "supervisor" in m.to[0]]
        refund_link, return_link = delivered_once(robot, claimed, assigned)
        supervisor_confirms_from_the_email(walk, claimed, refund_link)
        supervisor_asks_the_supplier_from_the_chat(walk, assigned, return_link)
        team_week(walk, start, assigned)
    finally:
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        (ARTIFACTS_DIR / "team_flows.json").write_text(json.dumps(journal.as_json(), indent=2) + "\n")

    spent = journal.as_json()
    assert {flow: set(users) for flow, users in spent.items()} == {
        flow: set(users) for flow, users in BUDGETS.items()
    }
    over = [
        f"{flow}/{user}: {spent[flow][user]} > budget {loads} loads, {forms} forms"
        for flow, users in BUDGETS.items()
        for user, (loads, forms) in users.items()
        if spent[flow][user]["loads"] > loads or spent[flow][user]["forms"] > forms
    ]
    assert not over, "\n".join(over)
    for flow, (loads, forms) in ISSUE_23_TODAY.items():
        budget = BUDGETS[flow]["operator"]
        assert budget[0] < loads and budget[1] <= forms, f"{flow}: {budget} is not below {loads}/{forms}"
    assert not journal.overflows, "pages scroll sideways at 1366 px:\n" + "\n".join(
        map(str, journal.overflows)
    )
