"""The 1688 refund requests Shopops files itself: an outbox of calls to 1688 (docs/platforms.md).

Exactly once, as far as 1688 can tell:

1. **Recorded once**, in the transaction that asks the supplier (``request_supplier_refund``, or
   a paid close that cancels the purchase on 1688), without a reference, on a store connected to
   1688 whose purchase has its 1688 order id: one ``PlatformRefund`` per supplier refund (its
   ``key`` is unique), handed to Celery after commit (``orders.file_supplier_refund``, by name).
2. **Sent by one worker at a time**: :func:`claim` takes the row with one conditional UPDATE
   (pending and due, or sending with an expired claim); only the claimant sends.
3. **Never sent twice**: :func:`note_sending` commits ``create_sent_at`` before ``createRefund``
   goes out; from then on the sender first looks for the request among the order's refunds on
   1688 (``queryOrderRefundList``) and takes it when found, whether the answer was lost to a
   timeout, a 5xx or a crash (``orders.platforms.filing``).
4. **Never dropped silently**: a failure a later try may fix is tried again (:func:`schedule_retry`,
   doubling delays, by the task and by every ``sync_platforms`` pass); any other — 1688's refusal
   with its code and words, a store not connected, no photo where 1688 needs one — ends
   ``failed`` (:func:`mark_failed`), shown on the order page with a button to try again
   (:func:`retry_filing`). The order stays where it was.

Filed, the 1688 refund id (``TQ…``) becomes the supplier refund's reference. Every event here names
1688 (``events.on_behalf_of``).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops import inputs
from shopops.celery import hand_off
from shopops.errors import Refused

from .. import policy
from ..models import FilingStatus, Order, PlatformRefund, Refund, RefundStatus
from ..selectors.platform_refunds import files_on_1688
from .core import operation
from .events import on_behalf_of

# The Celery task that files one request (by name: the workflow never imports the tasks).
FILE_TASK = "orders.file_supplier_refund"
PLATFORM = "1688"
RETRY_PERMISSION = "orders.request_supplier_refund"
# How long one attempt may take before another worker may take the row over: the reasons, five
# uploads and the request, each with the client's own timeouts and retries.
CLAIM = timedelta(minutes=10)


def hand_over(filing_id: int, *, countdown: float | None = None) -> None:
    """Give the row to Celery once the transaction commits (never raises: a broker outage leaves
    it to the next ``sync_platforms`` pass)."""
    transaction.on_commit(lambda: hand_off(FILE_TASK, filing_id, countdown=countdown))


def record_filing(order: Order, refund: Refund) -> PlatformRefund | None:
    """Under the order lock, in the transaction that creates ``refund``: file it on 1688 after
    commit when Shopops does so for this order (``files_on_1688``) and no reference was given."""
    if refund.reference or not files_on_1688(order):
        return None
    now = timezone.now()
    filing, created = PlatformRefund.objects.get_or_create(
        refund=refund,
        defaults={
            "order": order,
            "store_id": order.store_id,
            "key": f"refund-{refund.pk}-1688",
            "filing": FilingStatus.PENDING,
            "next_attempt_at": now,
            "created_at": now,
            "updated_at": now,
        },
    )
    if created:
        hand_over(filing.pk)
    return filing


def claim(filing_id: int, now: datetime) -> PlatformRefund | None:
    """Take the row for one attempt; ``None`` when another worker holds it or it is not due."""
    due = Q(filing=FilingStatus.PENDING, next_attempt_at__lte=now) | Q(
        filing=FilingStatus.SENDING, claimed_until__lt=now
    )
    taken = PlatformRefund.objects.filter(due, pk=filing_id).update(
        filing=FilingStatus.SENDING, claimed_until=now + CLAIM, attempts=F("attempts") + 1, updated_at=now
    )
    if not taken:
        return None
    return PlatformRefund.objects.select_related("refund", "refund__supplier_order", "order", "store").get(
        pk=filing_id
    )


def _row(filing: PlatformRefund):
    return PlatformRefund.objects.filter(pk=filing.pk, filing=FilingStatus.SENDING)


def note_sending(
    filing: PlatformRefund, *, reason_id: str, reason_name: str, goods_status: str, vouchers: list[str]
) -> None:
    """``createRefund`` is about to go out: from now on 1688 may hold the request. Committed at
    once (outside any transaction), before the call."""
    now = timezone.now()
    fields = {
        "create_sent_at": now,
        "reason_id": reason_id[:32],
        "reason_name": reason_name[:200],
        "goods_status": goods_status[:32],
        "vouchers": vouchers,
        "updated_at": now,
    }
    _row(filing).update(**fields)
    for name, value in fields.items():
        setattr(filing, name, value)


def keep_vouchers(filing: PlatformRefund, vouchers: list[str]) -> None:
    """The vouchers uploaded in this attempt: a later attempt sends them again, not new copies."""
    _row(filing).update(vouchers=vouchers, updated_at=timezone.now())
    filing.vouchers = vouchers


def mark_filed(filing: PlatformRefund, platform_id: str, *, found: bool = False) -> None:
    """1688 holds the request as ``platform_id``: it becomes the refund's reference. ``found``:
    it was found among the order's refunds on 1688 (the answer to the request was lost)."""
    platform_id = inputs.text(platform_id, "refundId", max_length=32, required=True)
    now = timezone.now()
    with on_behalf_of(PLATFORM), operation("supplier_refund_filed", filing.order_id, by=None) as t:
        refund = Refund.objects.select_for_update().get(pk=filing.refund_id)
        if not refund.reference:
            Refund.objects.filter(pk=refund.pk).update(reference=platform_id)
        PlatformRefund.objects.filter(pk=filing.pk).update(
            filing=FilingStatus.FILED,
            platform_id=platform_id,
            # What createRefund's success means; a request found after a lost answer is read anew.
            platform_status="" if found else "waitselleragree",
            filed_at=now,
            claimed_until=None,
            next_attempt_at=None,
            error_code="",
            error_message="",
            updated_at=now,
        )
        t.event(
            refund=refund.pk,
            reference=platform_id,
            amount=refund.amount,
            kind=refund.kind,
            reason=filing.reason_name,
            goods_status=filing.goods_status,
            vouchers=len(filing.vouchers or []),
            found_after_lost_answer=found or None,
        )


def schedule_retry(filing: PlatformRefund, *, code: str, message: str) -> float:
    """A failure a later try may fix (a timeout, 1688's server, throttling): due again after a
    delay that doubles with each attempt (``SHOPOPS_1688_REFUND_RETRY_SECONDS``, capped by
    ``SHOPOPS_MAX_COUNTDOWN``). Returns the delay."""
    delay = min(
        float(settings.SHOPOPS_1688_REFUND_RETRY_SECONDS) * 2 ** max(filing.attempts - 1, 0),
        float(settings.SHOPOPS_MAX_COUNTDOWN),
    )
    now = timezone.now()
    with transaction.atomic():
        _row(filing).update(
            filing=FilingStatus.PENDING,
            next_attempt_at=now + timedelta(seconds=delay),
            claimed_until=None,
            error_code=code[:64],
            error_message=message[:2000],
            updated_at=now,
        )
        hand_over(filing.pk, countdown=delay)
    return delay


def mark_failed(filing: PlatformRefund, *, code: str, message: str) -> None:
    """1688 refused the request (or it cannot be sent): ``failed`` with the code and 1688's words,
    and one event. The order and its refund stay as they are."""
    now = timezone.now()
    with on_behalf_of(PLATFORM), operation("supplier_refund_filing_failed", filing.order_id, by=None) as t:
        PlatformRefund.objects.filter(pk=filing.pk).update(
            filing=FilingStatus.FAILED,
            claimed_until=None,
            next_attempt_at=None,
            error_code=code[:64],
            error_message=message[:2000],
            updated_at=now,
        )
        t.event(refund=filing.refund_id, code=code[:64], message=message[:500])


def mark_not_needed(filing: PlatformRefund) -> None:
    """The refund was answered, cancelled or given a reference by hand before it was sent."""
    _row(filing).update(filing=FilingStatus.NOT_NEEDED, claimed_until=None, updated_at=timezone.now())


def retry_filing(filing: PlatformRefund | int, *, by: AbstractBaseUser | None) -> PlatformRefund:
    """Try a failed request again (the order page's button): due now, a fresh set of attempts;
    whether an earlier try reached 1688 is looked at first, as always. Needs
    ``orders.request_supplier_refund``. One ``supplier_refund_filing_retried`` event."""
    policy.require(by, RETRY_PERMISSION, _("file supplier refunds on 1688"))
    pk = filing.pk if isinstance(filing, PlatformRefund) else filing
    try:
        order_id = policy.scope(by, PlatformRefund.objects).values_list("order_id", flat=True).get(pk=pk)
    except (PlatformRefund.DoesNotExist, ValueError, TypeError):
        raise Refused(_("This 1688 refund request does not exist.")) from None
    with operation("supplier_refund_filing_retried", order_id, by=by) as t:
        locked = PlatformRefund.objects.select_for_update().select_related("refund").get(pk=pk)
        if locked.filing != FilingStatus.FAILED:
            raise Refused(
                _("This 1688 refund request is “%(status)s”: only a failed one is tried again.")
                % {"status": locked.get_filing_display()}
            )
        if locked.refund.status != RefundStatus.REQUESTED:
            raise Refused(_("The supplier refund was answered or cancelled meanwhile: nothing to file."))
        now = timezone.now()
        changed: dict[str, Any] = {
            "filing": FilingStatus.PENDING,
            "attempts": 0,
            "next_attempt_at": now,
            "claimed_until": None,
            "updated_at": now,
        }
        PlatformRefund.objects.filter(pk=pk).update(**changed)
        t.event(refund=locked.refund_id, code=locked.error_code)
        hand_over(pk)
    locked.refresh_from_db()
    return locked
