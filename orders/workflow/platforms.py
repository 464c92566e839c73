"""What the AliExpress pull writes besides the import's rows (docs/platforms.md).

- the store's sync state (``SyncState``): a pass claims the store (a lease, so two passes of one
  store never run at once), keeps its cursor after each page, and ends good (the new mark) or
  failed (the error; the cursor stays for the next pass);
- the follow-ups of a platform status: a buyer's cancellation request (``IN_CANCEL``) recorded as
  the buyer's message and the order moved to *cancellation under negotiation*; an order that
  ended unpaid on the platform closed unpaid;
- the platform's disputes (``PlatformDispute``): opened as a buyer dispute on the order
  (``open_buyer_dispute`` with the dispute id as the reference), or updated (status, deadline),
  a change of status leaving one history event.

Every function here acts as the system (``by=None``): the platform, not a member of staff, said it.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from evidence import services as evidence
from evidence.models import Channel, Counterparty, Direction
from shopops.errors import Refused

from .. import said
from ..models import CloseReason, Order, Platform, PlatformDispute, Status, Store, SyncState
from .cancellation import request_cancellation
from .core import status_label
from .disputes import open_buyer_dispute
from .events import record_event
from .unpaid import close_unpaid

# Where Shopops opens a buyer dispute from (the transition's sources).
DISPUTE_SOURCES = (Status.SHIPPED, Status.RETURN_REQUESTED)

# --- the sync state ---------------------------------------------------------------------------------


def begin_pass(store: Store) -> SyncState | None:
    """Claim ``store`` for one pass: its sync state, or ``None`` when another pass holds it."""
    now = timezone.now()
    state, _created = SyncState.objects.get_or_create(store=store)
    lease = now + timedelta(minutes=float(settings.SHOPOPS_SYNC_LEASE_MINUTES))
    free = Q(running_until__isnull=True) | Q(running_until__lt=now)
    claimed = SyncState.objects.filter(free, pk=state.pk).update(running_until=lease, last_attempt_at=now)
    if not claimed:
        return None
    state.refresh_from_db()
    return state


def save_cursor(state: SyncState, cursor: dict[str, Any], counts: dict[str, int]) -> None:
    """The pass has finished a page: where the next one starts, and the counts so far."""
    SyncState.objects.filter(pk=state.pk).update(cursor=cursor, counts=counts)
    state.cursor, state.counts = cursor, counts


def end_pass(
    state: SyncState,
    *,
    mark: datetime | None,
    counts: dict[str, int],
    problems: list[dict[str, str]],
    error: str = "",
    refunds_mark: datetime | None = None,
    refunds_error: str | None = None,
) -> None:
    """The pass is over: good (``mark``: the end of its window; the cursor cleared) or failed
    (``error``; the cursor stays, so the next pass resumes there). Releases the store.

    The 1688 part's own: ``refunds_mark`` (the refunds read up to; ``None`` keeps the last) and
    ``refunds_error`` (``""`` clears it, ``None`` leaves it: a store not connected to 1688)."""
    now = timezone.now()
    fields: dict[str, Any] = {
        "counts": counts,
        "problems": problems[: SyncState.PROBLEMS_KEPT],
        "running_until": None,
    }
    if refunds_mark is not None:
        fields["refunds_mark"] = refunds_mark
    if refunds_error is not None:
        fields["refunds_error"] = refunds_error[:2000]
    if error:
        fields.update(last_error=error[:2000], last_error_at=now)
    else:
        fields.update(mark=mark, cursor={}, last_good_pass_at=now, last_error="")
    SyncState.objects.filter(pk=state.pk).update(**fields)
    for name, value in fields.items():
        setattr(state, name, value)


# --- follow-ups of a platform status -----------------------------------------------------------------


def buyer_requested_cancellation(order_pk: int, *, platform_label: str) -> bool:
    """The buyer asked the platform to cancel a paid order: their request is recorded as their
    message (inbound, on the platform) and the order moves to *cancellation under negotiation*.
    Returns whether it moved; an order already in a close workflow is left as it is."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_pk)
        if order.status != Status.PAID:
            if order.status in (Status.AWAITING_PAYMENT, Status.SHIPPED, Status.COMPLETED):
                raise Refused(
                    _("the buyer asked %(platform)s to cancel, but the order is “%(status)s” in Shopops.")
                    % {"platform": platform_label, "status": status_label(order.status)}
                )
            return False  # already in a close workflow: nothing to add
        data = said.buyer_asked_to_cancel(str(platform_label))
        evidence.record_communication(
            order,
            by=None,
            counterparty=Counterparty.BUYER,
            channel=Channel.ALIEXPRESS_MESSAGE,
            direction=Direction.INBOUND,
            summary=said.told(data),
            data=data,
        )
        request_cancellation(
            order, by=None, note=_("Requested by the buyer on %(platform)s.") % {"platform": platform_label}
        )
    return True


def ended_unpaid(order_pk: int, *, end_reason: str, platform_label: str) -> bool:
    """The order ended on the platform before it was paid: closed unpaid (the buyer cancelled,
    or the payment timed out, as the platform's end reason says). Returns whether it closed."""
    with transaction.atomic():
        order = Order.objects.select_for_update().get(pk=order_pk)
        if order.status != Status.AWAITING_PAYMENT:
            return False
        timed_out = "timeout" in end_reason.lower() or "time_out" in end_reason.lower()
        close_unpaid(
            order,
            by=None,
            reason=CloseReason.PAYMENT_TIMEOUT if timed_out else CloseReason.BUYER_CANCELLED,
            note=_("Ended on %(platform)s (%(reason)s).")
            % {"platform": platform_label, "reason": end_reason or _("no reason given")},
        )
    return True


# --- disputes -------------------------------------------------------------------------------------------


def note_deadlines(store: Store, deadlines: dict[str, datetime]) -> int:
    """The answer-by time of the open disputes of these orders (platform order id → deadline)."""
    changed = 0
    for order_id, deadline in deadlines.items():
        changed += (
            PlatformDispute.objects.filter(
                store=store, order__platform_order_id=order_id, status="processing"
            )
            .exclude(deadline=deadline)
            .update(deadline=deadline, updated_at=timezone.now())
        )
    return changed


def record_dispute(
    store: Store,
    *,
    order_ids: list[str],
    dispute_id: str,
    status: str,
    reason: str = "",
    buyer_login_id: str = "",
    opened_at: datetime | None = None,
    modified_at: datetime | None = None,
    deadline: datetime | None = None,
) -> tuple[str, str]:
    """Open or update the dispute ``dispute_id`` of an order of ``store`` (the first of
    ``order_ids`` Shopops holds in it). Returns what happened — ``"opened"`` (a buyer dispute
    opened on the order), ``"updated"`` (its status or deadline changed: one history event when
    the status did), ``"recorded"`` (a new dispute, the order not moved) or ``"unchanged"`` — and,
    for a dispute the order cannot enter now, why. Raises ``Refused`` when the store has no such
    order."""
    now = timezone.now()
    with transaction.atomic():
        orders = {
            o.platform_order_id: o for o in Order.objects.filter(store=store, platform_order_id__in=order_ids)
        }
        order = next((orders[i] for i in order_ids if i in orders), None)
        if order is None:
            raise Refused(
                _("dispute %(dispute)s is about an order this store does not hold in Shopops (%(orders)s).")
                % {"dispute": dispute_id, "orders": ", ".join(order_ids)}
            )
        found = PlatformDispute.objects.select_for_update().filter(
            platform=Platform.ALIEXPRESS, dispute_id=dispute_id
        )
        dispute = found.first()
        before = None if dispute is None else (dispute.status, dispute.deadline)
        if dispute is None:
            dispute = PlatformDispute(
                store=store,
                order=order,
                platform=Platform.ALIEXPRESS,
                dispute_id=dispute_id,
                first_seen_at=now,
            )
        dispute.status = status
        dispute.reason = reason[:255] or dispute.reason
        dispute.buyer_login_id = buyer_login_id[:128] or dispute.buyer_login_id
        dispute.opened_at = opened_at or dispute.opened_at
        dispute.platform_modified_at = modified_at or dispute.platform_modified_at
        dispute.deadline = deadline or dispute.deadline
        if before is not None and before == (dispute.status, dispute.deadline):
            return "unchanged", ""
        dispute.updated_at = now
        dispute.save()
        if before is None:
            return _open(order, dispute)
        if before[0] != dispute.status:
            record_event(
                order,
                "platform_dispute",
                by=None,
                data={"dispute": dispute_id, "dispute_status": {"was": before[0], "now": dispute.status}},
            )
        return "updated", ""


def _open(order: Order, dispute: PlatformDispute) -> tuple[str, str]:
    if dispute.status != "processing":
        return "recorded", ""
    current = Order.objects.filter(pk=order.pk).values_list("status", "platform_reference").get()
    if current == (Status.DISPUTED, dispute.dispute_id):
        return "recorded", ""  # staff recorded it already, with the platform's id
    if current[0] not in DISPUTE_SOURCES:
        return "recorded", (
            _(
                "dispute %(dispute)s was opened on the platform, but order %(order)s is “%(status)s”: "
                "Shopops opens a buyer dispute only from “%(shipped)s” or “%(return)s”. It is recorded; "
                "see the order."
            )
            % {
                "dispute": dispute.dispute_id,
                "order": order.platform_order_id,
                "status": status_label(current[0]),
                "shipped": status_label(Status.SHIPPED),
                "return": status_label(Status.RETURN_REQUESTED),
            }
        )
    open_buyer_dispute(order.pk, by=None, reference=dispute.dispute_id, note=dispute.reason)
    return "opened", ""


def open_disputes(store: Store) -> list[tuple[str, str]]:
    """(dispute id, buyer's login id) of the store's disputes the last pass saw open."""
    rows = PlatformDispute.objects.filter(store=store, platform=Platform.ALIEXPRESS, status="processing")
    return list(rows.order_by("id").values_list("dispute_id", "buyer_login_id"))
