"""The team part of the browser walk (``tests/test_browser_team_walk.py``): who handles each order,
the team page, and hand-offs that reach people.

- :class:`TeamWalker`: a :class:`tests.walk_support.Walker` (one user in a browser context of
  their own, counting loads and forms) with the team's clicks — "Mine" from the index, the list's
  *handled by* filter, *Take it on*, *Assign…*, the team page and its *Reassign*, and following
  the link of a hand-off message (the one address a user opens that they did not reach by clicking
  in the back office: they clicked it in their email or chat).
- :func:`team_figures`: what the team page must say of each person, counted here from the rows
  (each person's open orders, the oldest wait among them, the steps they took since Monday).
- :func:`worker_delivering`: a real Celery worker (a thread of this process) consuming the broker
  while the walk waits, so hand-offs are delivered the way production delivers them: after the
  step committed, never inside the request.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from django.contrib.auth import get_user_model
from django.db.models import Min
from django.utils import timezone
from playwright.sync_api import expect

from orders.models import Order, OrderEvent, Status
from orders.transitions import TRANSITIONS
from tests.walk_support import Walker

# Orders that need nobody (never anybody's open orders), and orders that wait on the buyer or
# the carrier (left out of the team page's "Nobody": they are nobody's pool).
FINISHED = (Status.CLOSED, Status.COMPLETED)
NOT_POOLED = (Status.AWAITING_PAYMENT, Status.SHIPPED)
ORDER_LINK = re.compile(r"https?://[^\s]+/admin/orders/order/(\d+)/change/")


class TeamWalker(Walker):
    """One user's clicks for team work (see the module)."""

    def mine(self) -> None:
        """The index's "Mine": the orders I handle, and the pool's orders whose next step is mine."""
        assert self.queue(("mine",)), f"{self.user}'s index shows nothing in Mine"

    def filter_by(self, label: str) -> None:
        """A link of the order list's filters, by its label ("Nobody" under *handled by*, a status)."""
        self.filter_status(label)

    def expect_handled_by(self, who: str) -> None:
        expect(self.page.locator("#handled-by")).to_contain_text(who)

    def timeline_entry(self, title: str):
        """The order page's timeline entries titled ``title`` (the newest first)."""
        return self.page.locator("#timeline li.timeline-entry").filter(
            has=self.page.locator("strong", has_text=re.compile(f"^{re.escape(title)}$"))
        )

    def claim(self) -> None:
        """The order page's *Take it on*: back on the order page, which says it is mine now."""
        self.click("take it on", "#claim-form #claim", "#order-status")
        expect(self.page.locator(".messagelist .success").first).to_contain_text("is yours now")
        self.expect_handled_by("you")

    def assign(self, to: str) -> None:
        """The order page's *Assign…*, ``to`` chosen, submitted: back on the order page."""
        self.click("assign", "#assign", "#assign-form")
        self.page.select_option("#id_to", label=to)
        self.click("assigned", "#assign-form [type=submit]", "#order-status, #assign-form")
        refused = self.page.locator("#assign-form .errornote, #assign-form .errorlist")
        assert not refused.count(), f"assigning to {to} refused: {' '.join(refused.all_inner_texts())}"
        expect(self.page.locator(".messagelist .success").first).to_contain_text(f"handled by {to} now")
        self.expect_handled_by(to)

    def follow(self, url: str) -> None:
        """Open the link of a hand-off message (clicked in an email or the team chat)."""
        self.page.goto(url)
        self.page.wait_for_selector("#order-status")
        self.look("link in the message")

    # --- the team page ----------------------------------------------------------------------

    def open_team(self) -> None:
        """From the admin index, "Team: who handles what"."""
        self.click("team", '#worklist tr[data-key="team"] a', "#team-table")

    def team_rows(self) -> dict[str, tuple[int, str, int]]:
        """The team table as shown: username ("" for Nobody) → (open orders, oldest wait in
        hours as written, steps this week; -1 where the row shows none)."""
        rows = {}
        for row in self.page.locator("#team-table tbody tr").all():
            steps = row.locator(".steps-this-week")
            rows[row.get_attribute("data-person") or ""] = (
                int(row.locator(".open-orders").inner_text().strip()),
                row.locator(".oldest-wait").inner_text().strip(),
                int(steps.inner_text().strip()) if steps.count() else -1,
            )
        return rows

    def reassign(self, source: str, target: str) -> None:
        """The team page's *Reassign*: move the open orders of ``source`` to ``target``."""
        self.page.select_option("#id_source", label=source)
        self.page.select_option("#id_target", label=target)
        self.click("reassign", "#reassign-form [type=submit]", "#team-table")
        # "Nobody" in the list is "nobody" in a sentence.
        expect(self.page.locator(".messagelist .success").first).to_contain_text(
            f"from {source} to {target}", ignore_case=True
        )


# --- what the team page must say --------------------------------------------------------------


@dataclass(frozen=True)
class Figures:
    """Each person's row of the team page at one instant: username ("" for Nobody) →
    (open orders, oldest wait in hours, steps this week; -1 for Nobody's steps)."""

    at: datetime
    week_start: datetime
    rows: dict[str, tuple[int, str, int]]


def hours(value: timedelta | None) -> str:
    """A wait in hours with one decimal, as the page writes it ("—" for none)."""
    if value is None:
        return "—"
    return str((Decimal(value.total_seconds()) / 3600).quantize(Decimal("0.1")))


def monday(now: datetime) -> datetime:
    """00:00 of the Monday of ``now``'s week, in the back office's time zone."""
    local = timezone.localtime(now)
    return (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


def team_figures(usernames: list[str], now: datetime | None = None) -> Figures:
    """What the team page of a supervisor of every store must show for ``usernames`` and Nobody,
    counted from the rows: open orders are those not closed or completed; the oldest wait is
    since the longest-waiting of them entered its status; steps are the transitions a person
    took since Monday 00:00 (history events of a declared transition, theirs)."""
    now = now or timezone.now()
    start = monday(now)
    steps = OrderEvent.objects.filter(created_at__gte=start, transition__in=list(TRANSITIONS))
    rows = {}
    for user in get_user_model().objects.filter(username__in=usernames):
        held = Order.objects.filter(assignee=user).exclude(status__in=FINISHED)
        oldest = held.aggregate(oldest=Min("status_changed_at"))["oldest"]
        rows[user.username] = (
            held.count(),
            hours(now - oldest if oldest else None),
            steps.filter(actor=user).count(),
        )
    pool = Order.objects.filter(assignee__isnull=True).exclude(status__in=FINISHED + NOT_POOLED)
    oldest = pool.aggregate(oldest=Min("status_changed_at"))["oldest"]
    rows[""] = (pool.count(), hours(now - oldest if oldest else None), -1)
    return Figures(at=now, week_start=start, rows=rows)


def expect_team_page(walker: TeamWalker, before: Figures, after: Figures) -> dict[str, tuple[int, str, int]]:
    """The team page on screen shows the figures counted before and after it loaded (a wait may
    cross a tenth of an hour while the page loads: either reading is right). Its rows."""
    shown = walker.team_rows()
    expect(walker.page.locator("#team-summary")).to_contain_text(f"since Monday {before.week_start:%Y-%m-%d}")
    for username, (count, oldest, steps) in after.rows.items():
        assert username in shown, f"the team page has no row for {username or 'Nobody'}"
        assert shown[username][0] == count, f"{username or 'Nobody'}: open orders {shown[username]} ≠ {count}"
        assert shown[username][1] in {before.rows[username][1], oldest}, (
            f"{username or 'Nobody'}: oldest wait {shown[username][1]} h, counted "
            f"{before.rows[username][1]}–{oldest}"
        )
        assert shown[username][2] == steps, f"{username or 'Nobody'}: steps {shown[username]} ≠ {steps}"
    return shown


# --- the hand-offs' delivery --------------------------------------------------------------------


def order_links(text: str) -> list[tuple[str, int]]:
    """The back-office order links in a message: (address, order pk)."""
    return [(match.group(0), int(match.group(1))) for match in ORDER_LINK.finditer(text)]


@contextmanager
def worker_delivering() -> Iterator[None]:
    """A real Celery worker (solo pool, a thread of this process) consuming the configured broker
    for the duration: the messages the steps handed to the broker after their commit are
    delivered by it, as in production. It reads committed rows only, through its own connection."""
    from celery.contrib.testing.worker import start_worker

    from shopops.celery import app

    with start_worker(
        app, pool="solo", concurrency=1, perform_ping_check=False, loglevel="WARNING", shutdown_timeout=30
    ):
        yield


def purge_broker() -> int:
    """Drop what earlier tests left in the broker (their rows are gone): the worker of the walk
    delivers only the walk's messages."""
    from shopops.celery import app

    return app.control.purge()
