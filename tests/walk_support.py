"""The browser walk of ``tests/test_browser_walk.py``: one user's clicks, counted and photographed.

A :class:`Walker` is one user in one browser context (1366×768) walking one flow. It counts
what the flow costs that user after login:

- ``loads``: documents loaded in the page (its ``load`` event), a redirect after a POST being
  one load;
- ``forms``: form submissions, i.e. POST requests of resource type ``document``.

Every step is one click (a link, a button, a submit) that lands on a new page; after each the
walker saves ``test-artifacts/walk/<flow>/NN-<user>-<step>.png`` and measures whether the page
scrolls sideways at 1366 px. Nothing here types a URL after the login form.

Every page the walker looks at (the login form too) is checked by axe-core for WCAG 2.1 A/AA
(``tests/axe_support.py``): a violation fails the walk there, naming the flow, the user, the
step, the rule, its impact, the elements and the page (and is kept in ``Journal.accessibility``).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from playwright.sync_api import Browser, Page, expect

from orders.demo import demo_password
from tests.axe_support import AxeViolation, axe_report, axe_violations

ARTIFACTS_DIR = Path(__file__).resolve().parent.parent / "test-artifacts"
WALK_DIR = ARTIFACTS_DIR / "walk"
VIEWPORT = {"width": 1366, "height": 768}

# scrollWidth wider than the window: the page scrolls sideways (a column cut off).
# An element that scrolls sideways inside the page (a list's results box) cuts columns off too.
OVERFLOW_JS = """() => ({
    scroll: document.documentElement.scrollWidth,
    inner: window.innerWidth,
    boxes: [...document.querySelectorAll("body *")]
        .filter((el) => ["auto", "scroll"].includes(getComputedStyle(el).overflowX)
            && el.scrollWidth > el.clientWidth + 1 && el.clientWidth > 0)
        .map((el) => `${el.tagName.toLowerCase()}${el.id ? "#" + el.id : ""}`
            + (typeof el.className === "string" && el.className.trim()
                ? "." + el.className.trim().split(/\\s+/).join(".") : "")
            + ` ${el.scrollWidth}>${el.clientWidth}`),
})"""


@dataclass
class Counts:
    loads: int = 0
    forms: int = 0


@dataclass
class Overflow:
    flow: str
    user: str
    step: str
    url: str
    scroll_width: int
    inner_width: int
    boxes: list[str]  # elements scrolling sideways inside the page: "tag#id.class scroll>client"

    def __str__(self) -> str:
        return (
            f"{self.flow}/{self.user} {self.step}: {self.url} is {self.scroll_width} px wide "
            f"in a {self.inner_width} px window; scrolling inside: {self.boxes or 'nothing'}"
        )


@dataclass
class Journal:
    """What the whole walk measured: counts per flow and user, pages that scroll sideways."""

    counts: dict[str, dict[str, Counts]] = field(default_factory=dict)
    overflows: list[Overflow] = field(default_factory=list)
    steps: dict[str, int] = field(default_factory=dict)  # screenshots taken per flow
    accessibility: list[AxeViolation] = field(default_factory=list)  # axe-core's, every page
    pages_checked: int = 0  # pages axe-core checked

    def as_json(self) -> dict[str, dict[str, dict[str, int]]]:
        return {
            flow: {user: {"loads": c.loads, "forms": c.forms} for user, c in users.items()}
            for flow, users in self.counts.items()
        }


class Walker:
    """One user in a browser context of their own, walking their share of each flow in turn."""

    def __init__(self, page: Page, journal: Journal, user: str) -> None:
        self.page = page
        self.journal = journal
        self.user = user
        self.flow = ""
        self.counts: Counts | None = None  # the share being walked; None: not counting
        page.on("load", self._on_load)
        page.on("request", self._on_request)

    # --- counting ------------------------------------------------------------------------

    def _on_load(self, page: Page) -> None:
        if self.counts is not None:
            self.counts.loads += 1

    def _on_request(self, request) -> None:
        if (
            self.counts is not None
            and request.method == "POST"
            and request.resource_type == "document"
            and request.frame == self.page.main_frame
        ):
            self.counts.forms += 1

    def login(self, base_url: str, password: str) -> None:
        """The login form: the only URL typed in the walk."""
        self.page.goto(f"{base_url}/admin/login/")
        self.check_accessibility()
        self.page.fill("#id_username", self.user)
        self.page.fill("#id_password", password)
        self.page.click("input[type=submit]")
        self.page.wait_for_selector("body.dashboard")
        self.page.wait_for_load_state("load")  # its load event comes before the counting starts

    def share(self, flow: str) -> Walker:
        """Start this user's (next) share of ``flow`` on the admin index.

        Each share starts where a user starts their day: on the admin index, reached by the
        login or by the breadcrumbs' "Home". That one page is not counted; every later one is.
        """
        self.counts = None
        if self.page.locator("body.dashboard").count() == 0:
            with self.page.expect_navigation():
                self.page.locator(".breadcrumbs a").first.click()
            self.page.wait_for_selector("body.dashboard")
            self.page.wait_for_load_state("load")
        self.flow = flow
        self.counts = self.journal.counts.setdefault(flow, {}).setdefault(self.user, Counts())
        self.look("index")
        return self

    # --- one step: a click that lands on a new page -----------------------------------------

    def look(self, step: str) -> None:
        """Photograph the page and measure its width."""
        self.page.wait_for_load_state()
        number = self.journal.steps.get(self.flow, 0) + 1
        self.journal.steps[self.flow] = number
        folder = WALK_DIR / self.flow
        folder.mkdir(parents=True, exist_ok=True)
        name = re.sub(r"[^a-z0-9]+", "-", f"{self.user}-{step}".lower()).strip("-")
        # What the user sees at 1366×768 (a full-page capture costs the walk a third of its time).
        self.page.screenshot(path=str(folder / f"{number:02d}-{name}.png"))
        width = self.page.evaluate(OVERFLOW_JS)
        if width["scroll"] > width["inner"] or width["boxes"]:
            self.journal.overflows.append(
                Overflow(
                    self.flow, self.user, step, self.page.url, width["scroll"], width["inner"], width["boxes"]
                )
            )
        self.check_accessibility(step)

    def check_accessibility(self, step: str = "login") -> None:
        """axe-core on the page as it is now: a WCAG 2.1 A/AA violation fails the walk here."""
        found = axe_violations(self.page)
        self.journal.pages_checked += 1
        self.journal.accessibility.extend(found)
        assert not found, f"axe-core on {self.flow or 'login'}/{self.user} {step}:\n" + axe_report(found)

    def go(self, step: str, click: Callable[[], None], lands_on: str) -> None:
        """Click, wait for the page that has ``lands_on`` (a selector), then look at it."""
        with self.page.expect_navigation():
            click()
        self.page.wait_for_selector(lands_on)
        self.look(step)

    def click(self, step: str, selector: str, lands_on: str) -> None:
        self.go(step, lambda: self.page.locator(selector).first.click(), lands_on)

    # --- finding the work -----------------------------------------------------------------

    def open_orders(self) -> None:
        """From the admin index, the app list's "Orders"."""
        self.click("orders", "#content-main tr.model-order th a", "#result_list, #changelist")

    def filter_status(self, label: str) -> None:
        """The order list's status filter, by the status's label."""
        link = self.page.locator("#changelist-filter").get_by_role("link", name=label, exact=True)
        self.go(f"filter {label}", lambda: link.first.click(), "#changelist")

    def filter_purchase(self, label: str) -> None:
        """The order list's "1688 purchase" filter, by the purchase status's label."""
        self.filter_status(label)

    def queue(self, keys: tuple[str, ...]) -> bool:
        """Follow the first of the index's worklist ``keys`` that has work; False if none does."""
        for key in keys:
            row = self.page.locator(f'#worklist tr[data-key="{key}"]')
            if not row.count() or not row.locator("a").count():
                continue
            if row.locator(".worklist-count").first.inner_text().strip() in ("", "0"):
                continue
            self.go(f"queue {key}", lambda row=row: row.locator("a").first.click(), "#changelist")
            return True
        return False

    def first_order(self) -> str:
        """Open the first order of the list; its platform order id."""
        link = self.page.locator("#result_list tbody tr").first.locator("th a").first
        order_id = link.inner_text().strip()
        self.go("open order", link.click, "#order-status")
        return order_id

    def open_order(self, order_id: str) -> None:
        """Open ``order_id`` from the list on screen: its row if shown, else through the search box."""
        link = self.page.locator("#result_list").get_by_role("link", name=order_id, exact=True)
        if not link.count():
            self.page.fill("#searchbar", order_id)
            self.go("search", lambda: self.page.press("#searchbar", "Enter"), "#changelist")
            link = self.page.locator("#result_list").get_by_role("link", name=order_id, exact=True)
            assert link.count(), f"{self.user} cannot find order {order_id} in {self.page.url}"
        self.go("open order", link.first.click, "#order-status")

    def find_order(self, order_id: str, queues: tuple[str, ...], status_label: str) -> None:
        """From the index: the order through the worklist queue if there is one, else the list."""
        if not self.queue(queues):
            self.open_orders()
            self.filter_status(status_label)
        self.open_order(order_id)

    # --- on the order page ----------------------------------------------------------------

    def take_back_a_damaged_return(self) -> None:
        """On a shipped order's page: propose the return, record the buyer's agreement, receive
        the goods damaged (they go back to the supplier, the form's default for them); the order
        is then the supervisor's."""
        status = self.page.locator("#order-status")
        self.transition("propose_return", evidence="Offered a return for the wrong colour")
        expect(status).to_have_text("Return under negotiation")
        self.transition(
            "record_return_agreement",
            evidence="Buyer agrees to send it back",
            fill={"tracking_number": "RT123456789CN"},
            select={"reason": "quality_issue"},
        )
        expect(status).to_have_text("Awaiting returned goods")
        self.transition("receive_return", select={"condition": "damaged"})
        expect(status).to_have_text("Return received")
        self.expect_handed_to("supervisor")

    def expect_handed_to(self, who: str) -> None:
        """The order page's Next steps say whose turn it is now ("Waiting for a supervisor: …")."""
        expect(self.page.locator(".glance-actions [data-waiting-for]").first).to_contain_text(who)

    def transition(
        self,
        name: str,
        *,
        evidence: str = "",
        files: list[Path] | None = None,
        fill: dict[str, str] | None = None,
        select: dict[str, str] | None = None,
        expect_on_form: dict[str, str] | None = None,
    ) -> None:
        """The order page's button for ``name``, its form (recording the evidence first if the
        form asks for it), submitted; back on the order page with a success message.
        ``expect_on_form``: selector → text the form must show before it is filled in."""
        self.click(name, f'a[data-transition="{name}"]', "#transition-form")
        if self.page.locator("#record-evidence-first").count():
            self.click(f"{name} record first", "#record-evidence-first", "#evidence-form")
            self.page.fill("#id_summary", evidence or f"{name} (walk)")
            if files:
                self.page.set_input_files("#id_files", [str(f) for f in files])
            self.click(f"{name} evidence saved", "#evidence-form [type=submit]", "#transition-form")
        for selector, text in (expect_on_form or {}).items():
            expect(self.page.locator(selector).first).to_contain_text(text)
        for input_name, value in (fill or {}).items():
            self.page.fill(f"#id_{input_name}", value)
        for input_name, value in (select or {}).items():
            self.page.select_option(f"#id_{input_name}", value)
        # Back on the order page, or the form again with what was refused.
        self.click(f"{name} done", "#transition-form [type=submit]", "#order-status, #transition-form")
        refused = self.page.locator("#transition-form .errornote, #transition-form .errorlist")
        assert not refused.count(), f"{name} refused: {' '.join(refused.all_inner_texts())}"
        expect(self.page.locator(".messagelist .success").first).to_be_visible()

    def answer_purchase_refund(self, answer: str) -> None:
        """The purchase block's "Record the supplier's answer", ``approved`` or ``refused``,
        submitted; back on the order page with a success message."""
        self.click("purchase refund answer", "a.purchase-answer", "#purchase-refund-form")
        self.page.select_option("#id_answer", answer)
        self.click("purchase refund answered", "#purchase-refund-form [type=submit]", "#order-status")
        expect(self.page.locator(".messagelist .success").first).to_be_visible()

    # --- finance's refund list ------------------------------------------------------------

    def mark_refunds_received(self, order_id: str) -> int:
        """From the index: the Refunds list, the order's refunds by the search box, each one that
        succeeded ticked and marked received with the bulk action. How many were marked."""
        self.click("refunds", "#content-main tr.model-refund th a", "#changelist")
        self.page.fill("#searchbar", order_id)
        self.go("search", lambda: self.page.press("#searchbar", "Enter"), "#changelist")
        rows = self.page.locator("#result_list tbody tr").filter(
            has=self.page.locator(".status-refund-succeeded")
        )
        marked = rows.count()
        for index in range(marked):
            rows.nth(index).locator("input.action-select").check()
        self.page.select_option("select[name=action]", "mark_received")
        self.click("mark received", "button[name=index]", "#changelist")
        expect(self.page.locator(".messagelist .success").first).to_contain_text("Marked received")
        return marked


# A 1×1 PNG: the file a walk attaches as evidence.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)


@contextmanager
def walking(
    request, browser: Browser, url: str, walker: type[Walker] = Walker
) -> Iterator[Callable[[str, str], Walker]]:
    """``walk(flow, user)``: the demo ``user`` on the admin index of ``url``, starting a share of
    ``flow``; each user in a browser context of their own, logged in once, for the whole walk.

    ``walk.journal`` is what every share cost. When the test failed, each user's page is
    photographed where it stopped; the contexts are closed at the end.
    """
    journal = Journal()
    walkers: dict[str, Walker] = {}
    contexts = []

    def walk(flow: str, user: str) -> Walker:
        if user not in walkers:
            context = browser.new_context(locale="en-US", viewport=VIEWPORT)
            context.set_default_timeout(15_000)
            contexts.append(context)
            walkers[user] = walker(context.new_page(), journal, user)
            walkers[user].login(url, demo_password(user))
        return walkers[user].share(flow)

    walk.journal = journal
    try:
        yield walk
    finally:
        if getattr(getattr(request.node, "rep_call", None), "failed", False):
            for each in walkers.values():  # where each user was when the walk stopped
                try:
                    each.look("failed")
                except Exception as exc:  # a crashed page must not hide the walk's own failure
                    print(f"no screenshot of {each.user}'s page: {exc}")
        for context in contexts:
            context.close()
