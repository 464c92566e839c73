"""One pass per store: the AliExpress orders and disputes changed since its last good pass, then
the 1688 refund requests waiting to be sent and the 1688 refunds' answers.

``run_pass(store)`` (``manage.py sync_platforms``, the Celery task ``orders.sync_store``):

1. **Claim** the store (``workflow.platforms.begin_pass``: a lease; a store another pass holds is
   skipped).
2. **Window.** Resume the pass in progress (its cursor: window, phase, page — one page earlier, as
   an order changed meanwhile may have shifted the rows), or open a new one: from the last good
   pass's mark less ``SHOPOPS_SYNC_OVERLAP_MINUTES`` (the first pass: ``SHOPOPS_SYNC_FIRST_DAYS``
   back) to a minute ago.
3. **Orders**, page by page (``SHOPOPS_SYNC_PAGE_SIZE``): the general query, then ``FINISH`` on
   its own (aliexpress.md §5.1). Each page is one transaction: its orders through the CSV import's
   rules (``orders.imports.values``: the same parsers, ownership rules, writer and events), their
   follow-ups (a cancellation request, an order ended unpaid), the disputes' deadlines, and the
   cursor of the next page. A pass that fails keeps the pages it finished.
4. **Disputes**: every ``processing`` dispute, opened or updated on its order
   (``workflow.platforms.record_dispute``); then the disputes held open that the list no longer
   shows, read one by one (finished or withdrawn).
5. **1688**, for a store connected to it (whatever the AliExpress part did): send what waits (the
   refund requests recorded and not filed yet, ``filing.send_due``), then read the refunds back
   (``answers.read_refunds``). Its failure is its own: kept as the store's 1688 error.
6. **End**: the window's end becomes the mark (good), or the error is kept with the cursor (failed).

An invalid or refused order is reported in the pass's problems, never written half; it does not
fail the pass. A platform error (a wrong secret, an expired token, a gateway still failing after
the retries) fails the store's pass and changes nothing more; the next pass tries again.
"""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops import inputs, secrets
from shopops.errors import Refused

from ..imports.changes import STATUS_AGREES
from ..imports.values import PlatformRows
from ..models import Order, Platform, Status, Store, StoreConnection
from ..workflow import platforms as recorded
from . import answers, filing
from .aliexpress import AliExpressClient, Page
from .common import PACIFIC, PlatformError, Transport
from .connection import NotConnected, alibaba_client, is_connected_to_1688
from .rows import PlatformOrder, platform_order, tracking_of

logger = logging.getLogger(__name__)

LABEL = "AliExpress"
SOURCE = {"source": "AliExpress"}  # what the history events name as the values' origin
PHASES = ("orders", "finish")
LAG = timedelta(minutes=1)  # a window ends this long ago: the platform's late writes settle
COUNTED = ("new", "updated", "unchanged", "refused", "invalid")


@dataclass
class StoreReport:
    """What one pass did for one store (``sync_platforms`` prints it)."""

    store: str
    ok: bool = True
    skipped: str = ""
    error: str = ""
    counts: Counter = field(default_factory=Counter)
    problems: list[dict[str, str]] = field(default_factory=list)
    connected_1688: bool = False

    refunds_error: str = ""  # the 1688 part's (the AliExpress part's is ``error``)

    def problem(self, order: str, message: str) -> None:
        self.counts["problems"] += 1
        if len(self.problems) < 50:
            self.problems.append({"order": order[:64], "problem": message[:300]})

    def line(self) -> str:
        if self.skipped:
            return f"{self.store}: skipped — {self.skipped}"
        c = self.counts
        said = (
            f"{c['pages']} pages, {c['orders']} orders: {c['new']} new, {c['updated']} updated, "
            f"{c['unchanged']} unchanged, {c['refused']} refused, {c['invalid']} invalid; "
            f"{c['cancellations']} cancellation requests; disputes {c['disputes_opened']} opened, "
            f"{c['disputes_updated']} updated"
        )
        failed = f"FAILED — {self.error} — after " if self.error else ""
        line = f"{self.store}: {failed}{said}"
        if self.connected_1688:
            line += (
                f"; 1688: requests {c['filing_filed']} filed, {c['filing_retry']} to try again, "
                f"{c['filing_failed']} failed; refunds {c['refunds_read']} read, {c['refunds_approved']} "
                f"approved, {c['refunds_refused']} refused, {c['refunds_changed']} changed"
            )
            if self.refunds_error:
                line += f" — 1688 FAILED: {self.refunds_error}"
        return line


def connected_stores(code: str | None = None) -> list[Store]:
    """The stores with an AliExpress connection (``code``: that one only, in any case)."""
    found = Store.objects.filter(connections__platform=Platform.ALIEXPRESS).distinct().order_by("code")
    if code is not None:
        found = found.filter(code__iexact=code)
    return list(found)


def connected_stores_by_id(ids: list[int]) -> list[Store]:
    """Those of the stores ``ids`` that have an AliExpress connection."""
    return list(Store.objects.filter(pk__in=ids, connections__platform=Platform.ALIEXPRESS).distinct())


def run_all(code: str | None = None, *, transport: Transport | None = None) -> list[StoreReport]:
    """One pass for each connected store (or the one ``code`` names), one after the other; one
    store's failure never stops the others."""
    return [run_pass(store, transport=transport) for store in connected_stores(code)]


def run_pass(store: Store, *, transport: Transport | None = None, now: datetime | None = None) -> StoreReport:
    """One pass for ``store``; see the module docstring. Never raises for a platform's fault."""
    report = StoreReport(store.code)
    state = recorded.begin_pass(store)
    if state is None:
        report.skipped = _("another pass of this store is running")
        return report
    now = now or timezone.now()
    client, mark = None, None
    try:
        client = _client(store, transport)
        cursor = dict(state.cursor) or _window(state.mark, now)
        mark = Pass(store, state, client, report, now).run(cursor)
    except (PlatformError, secrets.SecretUnreadable, StoreConnection.DoesNotExist) as error:
        report.ok, report.error = False, str(error) or _("not connected to AliExpress")
    except Exception as error:  # a bug must not stop the other stores' passes
        logger.exception("AliExpress pass of store %s failed", store.code)
        report.ok, report.error = False, f"{type(error).__name__}: {error}"[:500]
    finally:
        if client is not None and transport is None:
            client.close()
    if report.error:
        logger.warning("AliExpress pass of store %s failed: %s", report.store, report.error)
    refunds_mark = _refunds_1688(store, state, report, transport, now)
    recorded.end_pass(
        state,
        mark=None if report.error else mark,
        counts=dict(report.counts),
        problems=report.problems,
        error=report.error,
        refunds_mark=refunds_mark,
        refunds_error=report.refunds_error if report.connected_1688 else None,
    )
    return report


def _refunds_1688(store: Store, state, report: StoreReport, transport: Transport | None, now: datetime):
    """The 1688 part: send what waits, read the refunds back. Returns the refunds' new mark."""
    if not is_connected_to_1688(store):
        return None
    report.connected_1688 = True
    client = None
    try:
        client = alibaba_client(store, transport)
        for outcome, count in filing.send_due(store, transport=client.transport, now=now).items():
            report.counts[f"filing_{outcome}"] += count
        return answers.read_refunds(store, client, mark=state.refunds_mark, report=report, now=now)
    except (PlatformError, NotConnected) as error:
        report.refunds_error = str(error)
    except Exception as error:  # a bug must not stop the store's other work, nor other stores
        logger.exception("1688 part of the pass of store %s failed", store.code)
        report.refunds_error = f"{type(error).__name__}: {error}"[:500]
    finally:
        if client is not None and transport is None:
            client.close()
    report.ok = False
    logger.warning("1688 part of the pass of store %s failed: %s", store.code, report.refunds_error)
    return None


def _client(store: Store, transport: Transport | None) -> AliExpressClient:
    connection = StoreConnection.objects.get(store=store, platform=Platform.ALIEXPRESS)
    return AliExpressClient(
        gateway=settings.SHOPOPS_AE_GATEWAY,
        app_key=connection.app_key,
        app_secret=secrets.decrypt(connection.app_secret),
        session=secrets.decrypt(connection.access_token),
        transport=transport or Transport(),
    )


def _window(mark: datetime | None, now: datetime) -> dict[str, Any]:
    if mark is None:
        start = now - timedelta(days=float(settings.SHOPOPS_SYNC_FIRST_DAYS))
    else:
        start = mark - timedelta(minutes=float(settings.SHOPOPS_SYNC_OVERLAP_MINUTES))
    return {
        "start": start.isoformat(),
        "end": (now - LAG).isoformat(),
        "phase": PHASES[0],
        "page": 1,
        "fresh": True,
    }


class Pass:
    """One pass of one store, from its cursor (see the module docstring)."""

    def __init__(self, store: Store, state, client: AliExpressClient, report: StoreReport, now: datetime):
        self.store, self.state, self.client, self.report, self.now = store, state, client, report, now
        self.counts = report.counts
        self.page_size = int(settings.SHOPOPS_SYNC_PAGE_SIZE)
        self.rows = PlatformRows(store, zone=PACIFIC, source=SOURCE)
        self.deadlines: dict[str, datetime] = {}
        self.number = 0  # each order read, numbered within the pass (the import's "row")

    def problem(self, order: str, message: str) -> None:
        self.report.problem(order, message)

    def run(self, cursor: dict[str, Any]) -> datetime:
        """The pass from ``cursor``; the end of its window (the store's next mark)."""
        start, end = datetime.fromisoformat(cursor["start"]), datetime.fromisoformat(cursor["end"])
        resumed = not cursor.get("fresh")
        # A pass that failed reading disputes resumes there: its orders are all written.
        first = PHASES.index(cursor["phase"]) if cursor["phase"] in PHASES else len(PHASES)
        for phase in PHASES[first:]:
            page = int(cursor["page"]) if phase == cursor["phase"] else 1
            if resumed and phase == cursor["phase"]:
                page = max(1, page - 1)  # one page again: rows may have shifted meanwhile
            while True:
                got = self.client.orders(
                    start=start,
                    end=end,
                    page=page,
                    page_size=self.page_size,
                    statuses=["FINISH"] if phase == "finish" else None,
                )
                following = {**cursor, "phase": phase, "page": page + 1, "fresh": False}
                if got.last or not got.rows:
                    later = PHASES.index(phase) + 1
                    following = (
                        {**cursor, "phase": PHASES[later], "page": 1, "fresh": False}
                        if later < len(PHASES)
                        else {**cursor, "phase": "disputes", "page": 1, "fresh": False}
                    )
                self.apply_page(got, following)
                if got.last or not got.rows:
                    break
                page += 1
        self.disputes()
        return end

    # --- orders ------------------------------------------------------------------------------------

    def apply_page(self, got: Page, following: dict[str, Any]) -> None:
        orders = [platform_order(raw, now=self.now) for raw in got.rows]
        self._tracking(orders)
        numbered = {}
        for order in orders:
            self.number += 1
            numbered[self.number] = order
        by_id = {order.order_id: order for order in orders}

        def prepare(values: dict[str, Any]) -> None:
            found = by_id.get(values["order_id"])
            values[STATUS_AGREES] = found.agrees if found is not None else frozenset()

        with transaction.atomic():
            result, written = self.rows.apply(
                [(n, order.values) for n, order in numbered.items()], prepare=prepare, label=LABEL
            )
            for issue in (*result.errors, *result.refused):
                order = numbered.get(issue.row)
                self.problem(order.order_id if order else "", str(issue.message))
            for pk, values, changes in written:
                order = by_id.get(values["order_id"])
                if order is not None and (changes is None or "platform_status" in changes.order):
                    self._follow_up(pk, order)
            deadlines = {o.order_id: o.deadline for o in orders if o.deadline is not None}
            self.deadlines.update(deadlines)
            recorded.note_deadlines(self.store, deadlines)
            self.counts["pages"] += 1
            self.counts["orders"] += len(orders)
            for name, value in zip(
                COUNTED,
                (result.new, result.updated, result.unchanged, result.refused_count, result.error_count),
                strict=True,
            ):
                self.counts[name] += value
            recorded.save_cursor(self.state, following, dict(self.counts))

    def _tracking(self, orders: list[PlatformOrder]) -> None:
        """The tracking number of each order that ships now (Shopops holds it unshipped): read
        from its detail, before the page's transaction (no network call inside it)."""
        wanted = [o.order_id for o in orders if o.needs_tracking and not o.values.get("tracking_number")]
        if not wanted:
            return
        unshipped = set(
            Order.objects.filter(
                store=self.store,
                platform_order_id__in=wanted,
                status__in=(Status.AWAITING_PAYMENT, Status.PAID),
            ).values_list("platform_order_id", flat=True)
        )
        for order in orders:
            if order.order_id in unshipped and order.order_id.isdigit():
                number, carrier = tracking_of(self.client.order_detail(order.order_id))
                if number:
                    order.values["tracking_number"], order.values["carrier"] = number, carrier

    def _follow_up(self, pk: int, order: PlatformOrder) -> None:
        try:
            if order.follow_up == "cancel" and recorded.buyer_requested_cancellation(
                pk, platform_label=LABEL
            ):
                self.counts["cancellations"] += 1
            elif order.follow_up == "ended_unpaid" and recorded.ended_unpaid(
                pk, end_reason=order.end_reason, platform_label=LABEL
            ):
                self.counts["closed_unpaid"] += 1
        except Refused as refused:
            self.problem(order.order_id, refused.message)

    # --- disputes ----------------------------------------------------------------------------------

    def disputes(self) -> None:
        seen: set[str] = set()
        page = 1
        while True:
            got = self.client.issues(page=page, page_size=self.page_size, status="processing")
            for issue in got.rows:
                seen.add(self._dispute(issue, issue.get("issue_status") or "processing"))
            if got.last or not got.rows:
                break
            page += 1
        for dispute_id, buyer in recorded.open_disputes(self.store):
            if dispute_id not in seen:
                detail = self.client.issue_detail(dispute_id, buyer)
                if detail:
                    self._dispute(
                        {**detail, "issue_id": detail.get("id") or dispute_id}, detail.get("issue_status")
                    )

    def _dispute(self, issue: dict[str, Any], status: Any) -> str:
        try:
            dispute_id = inputs.text(_plain(issue.get("issue_id")), "issue_id", max_length=32, required=True)
            status = inputs.text(_plain(status), "issue_status", max_length=32, required=True)
            order_ids = [
                inputs.text(_plain(issue.get(name)), name, max_length=64)
                for name in ("parent_order_id", "order_id")  # the SDKs label them both ways [U]
            ]
            order_ids = [order_id for order_id in order_ids if order_id]
            outcome, why = recorded.record_dispute(
                self.store,
                order_ids=order_ids,
                dispute_id=dispute_id,
                status=status,
                reason=_plain(
                    issue.get("reason_english") or issue.get("issue_reason") or issue.get("reason_chinese")
                )[:255],
                buyer_login_id=_plain(issue.get("buyer_login_id"))[:128],
                opened_at=_moment(issue.get("gmt_create")),
                modified_at=_moment(issue.get("gmt_modified")),
                deadline=next((self.deadlines[i] for i in order_ids if i in self.deadlines), None),
            )
        except Refused as refused:
            self.problem(_plain(issue.get("parent_order_id") or issue.get("order_id")), refused.message)
            return ""
        if outcome == "opened":
            self.counts["disputes_opened"] += 1
        elif outcome in ("updated", "recorded"):
            self.counts["disputes_updated"] += 1
        if why:
            self.problem(order_ids[0] if order_ids else "", why)
        return dispute_id


def _plain(value: Any) -> str:
    return "" if value is None or isinstance(value, dict | list | bool) else str(value)


def _moment(value: Any) -> datetime | None:
    """A platform time (Pacific wall time) within the sane window, else ``None``."""
    try:
        return inputs.moment(_plain(value), "time", zone=PACIFIC, skew=timedelta(days=1)) if value else None
    except Refused:
        return None
