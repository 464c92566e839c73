"""Supplier chasing and the overdue flag: the system's own operations on supplier refunds.

The periodic jobs (``orders.jobs``) run them with ``by=None`` (the system); a staff user may run
them too with ``orders.request_supplier_refund``. Each writes its changes, the outbox messages,
the evidence and one history event per order in one transaction.

Events written: ``chase_supplier`` (a reminder went to the supplier) and
``supplier_refund_overdue`` (the refund passed its respond-by deadline and was reported).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from evidence import services as evidence
from evidence.models import Channel, Counterparty, Direction, Kind
from shopops.errors import Refused

from .. import policy, said
from ..models import NotificationChannel, NotificationTemplate, Refund, SupplierOrder
from ..notifications import render
from ..selectors import due
from . import outbox
from .batches import BatchResult, skipped_ids, unique_ids
from .events import record_events

logger = logging.getLogger(__name__)

PERMISSION = "orders.request_supplier_refund"
# At most this many refunds are listed in one digest email (all are counted).
DIGEST_LISTED = 200


@transaction.atomic
def chase_supplier_refund(
    refund: Refund | int, *, by: AbstractBaseUser | None, now: datetime | None = None
) -> Refund | None:
    """Remind the supplier of a refund still requested and not chased within the chase interval.

    Claims the refund (``FOR UPDATE SKIP LOCKED`` and still due, so parallel passes never chase
    one refund twice); returns None when it is not due any more or someone else holds it.
    Otherwise increments ``chase_count``, sets ``last_chased_at``, records the Chinese reminder
    email in the outbox, the same text as a ``reminder`` communication with the supplier, and a
    ``chase_supplier`` event. Refused when no supplier order has a contact email.
    """
    pk = refund.pk if isinstance(refund, Refund) else refund
    result, chased = _chase([pk], by=by, now=now)
    if pk in result.refused:
        raise Refused(result.refused[pk])
    return chased[0] if chased else None


def chase_supplier_refunds(
    refund_ids: Iterable[int], *, by: AbstractBaseUser | None, now: datetime | None = None
) -> BatchResult:
    """:func:`chase_supplier_refund` for a batch of refunds, in one transaction.

    The same claim, rules and records, with one query each for the claim, the supplier
    contacts and the counters, and one write each (a COPY on PostgreSQL) for the outbox rows,
    the communications and the events, whatever the batch size. Refunds held by another pass
    or no longer due are skipped; those without a supplier contact are refused.
    """
    return _chase(refund_ids, by=by, now=now)[0]


def _chase(
    refund_ids: Iterable[int], *, by: AbstractBaseUser | None, now: datetime | None
) -> tuple[BatchResult, list[Refund]]:
    policy.require(by, PERMISSION, _("chase supplier refunds"))
    now = now or timezone.now()
    ids = unique_ids(refund_ids)
    result = BatchResult()
    with transaction.atomic():
        locked = list(
            policy.scope(by, due.supplier_refunds_to_chase(now))
            .select_for_update(skip_locked=True, of=("self",))
            .select_related("order")
            .filter(pk__in=ids)
            .order_by("pk")
        )
        result.skipped = skipped_ids(ids, (r.pk for r in locked))
        contacts = due.supplier_contacts([r.order_id for r in locked])
        chased = []
        for refund in locked:
            if refund.order_id in contacts:
                chased.append(refund)
            else:
                result.refused[refund.pk] = _(
                    "Supplier refund %(refund)s on order %(order)s: no supplier contact to chase."
                ) % {"refund": refund.pk, "order": refund.order.platform_order_id}
        if not chased:
            return result, []
        Refund.objects.filter(pk__in=[r.pk for r in chased]).update(
            chase_count=F("chase_count") + 1, last_chased_at=now
        )
        communications, history = [], []
        occurred_at = min(now, timezone.now())
        with outbox.recorded_together():
            for refund in chased:
                supplier_order = contacts[refund.order_id]
                number = refund.chase_count + 1
                context = outbox.supplier_reminder_context(refund, supplier_order, number)
                text = render(
                    NotificationTemplate.SUPPLIER_REMINDER, NotificationChannel.EMAIL, "zh-hans", context
                )
                refund.chase_count, refund.last_chased_at = number, now
                outbox.record_supplier_reminder(
                    refund,
                    supplier_order=supplier_order,
                    chase_number=number,
                    subject=text.subject,
                    body=text.body,
                )
                communications.append(_reminder_evidence(refund, supplier_order, text, occurred_at))
                contact = supplier_order.supplier_contact
                history.append(
                    (refund.order, {"refund": refund.pk, "chase_number": number, "contact": contact})
                )
        evidence.record_communications(communications, by=by)
        record_events("chase_supplier", history, by=by)
    result.done = [r.pk for r in chased]
    return result, chased


def _reminder_evidence(refund: Refund, supplier_order: SupplierOrder, text, occurred_at: datetime) -> dict:
    """The reminder as a communication with the supplier: the text that is sent."""
    data = said.refund_reminder(refund.chase_count, supplier_order.supplier_contact)
    return {
        "order": refund.order,
        "counterparty": Counterparty.SUPPLIER,
        "channel": Channel.EMAIL,
        "direction": Direction.OUTBOUND,
        "kind": Kind.REMINDER,
        "summary": said.told(data),
        "data": data,
        "body": f"{text.subject}\n\n{text.body}",
        "occurred_at": occurred_at,
    }


@dataclass(frozen=True)
class OverdueReport:
    """What one overdue report did: refunds flagged and listed, and refunds left unflagged."""

    flagged: int = 0
    left: int = 0


def _listing(refunds: list[Refund]) -> list[dict]:
    contacts = due.first_supplier_orders([r.order_id for r in refunds])
    listed = []
    for refund in refunds:
        supplier_order = contacts.get(refund.order_id)
        listed.append(
            {
                "order_id": refund.order.platform_order_id,
                "supplier_name": supplier_order.supplier_name if supplier_order else "",
                "supplier_order_id": supplier_order.supplier_order_id if supplier_order else "",
                "amount": str(refund.amount),
                "reference": refund.reference,
                "respond_by": timezone.localtime(refund.respond_by).strftime("%Y-%m-%d %H:%M"),
                "chase_count": refund.chase_count,
            }
        )
    return listed


@transaction.atomic
def report_overdue_supplier_refunds(
    *, by: AbstractBaseUser | None, recipients: Iterable[str], now: datetime | None = None
) -> OverdueReport:
    """Flag supplier refunds newly past their respond-by deadline; one digest to ``recipients``.

    Takes the overdue refunds not yet reported (``FOR UPDATE SKIP LOCKED``), sets their
    ``overdue_notified_at``, records one ``supplier_refund_overdue`` event per refund and one
    digest email per recipient listing them (with the suggestion to ask 1688 to intervene). A
    refund is reported once. With no recipient nothing is flagged (``left`` counts them), so the
    refunds are reported once someone is there to read it.
    """
    policy.require(by, PERMISSION, _("report overdue supplier refunds"))
    now = now or timezone.now()
    recipients = list(recipients)
    refunds = list(
        policy.scope(by, due.supplier_refunds_overdue_unreported(now))
        .select_for_update(skip_locked=True, of=("self",))
        .select_related("order")
        .order_by("respond_by", "pk")
    )
    if not refunds:
        return OverdueReport()
    if not recipients:
        logger.warning(
            "%d supplier refund(s) overdue but no supervisor email to report them to "
            "(set SHOPOPS_SUPERVISOR_EMAILS or give the Supervisors email addresses)",
            len(refunds),
        )
        return OverdueReport(left=len(refunds))
    ids = [r.pk for r in refunds]
    digest_id = hashlib.sha256(",".join(map(str, sorted(ids))).encode()).hexdigest()[:20]
    Refund.objects.filter(pk__in=ids).update(overdue_notified_at=now)
    record_events(
        "supplier_refund_overdue",
        [(r.order, {"refund": r.pk, "respond_by": r.respond_by, "digest": digest_id}) for r in refunds],
        by=by,
    )
    outbox.record_overdue_digest(
        digest_id=digest_id, recipients=recipients, refunds=_listing(refunds[:DIGEST_LISTED]), total=len(ids)
    )
    return OverdueReport(flagged=len(ids))
