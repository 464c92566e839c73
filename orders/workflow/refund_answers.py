"""What 1688 says of a supplier refund, read back by the platforms' pass (docs/platforms.md).

:func:`record_refund_state` takes one refund as 1688 shows it now (:class:`RefundState`, parsed
by ``orders.platforms.answers``) and, when it changed since the last read:

- records the change: one ``platform_refund`` event (1688's status before and after);
- **refunded** (``refundsuccess``): the supplier's approval with the amount 1688 refunded —
  ``record_supplier_approval`` while the order waits for it, else (the sale closed meanwhile)
  ``record_purchase_refund_approval``;
- **refused** (``waitbuyermodify``): the supplier's reason recorded as its refusal (a
  communication, ``evidence.services``), then ``record_supplier_refusal`` with the 1688 refund
  id as the reference (the order goes to a dispute with the supplier), or, the sale closed,
  ``record_purchase_refund_refusal``;
- **what 1688 waits for from us** (``PlatformRefund.action``): modify the request (refused),
  send the goods back (a return agreed), check why it closed without a refund. The order page
  says so and the queue "1688 waits for us" lists it.

Everything acts as the system on 1688's word: every event names 1688 (``events.on_behalf_of``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from evidence import services as evidence
from evidence.models import Channel, Counterparty, Direction, Kind

from .. import said
from ..models import (
    PlatformAction,
    PlatformRefund,
    Refund,
    RefundStatus,
    Status,
)
from .core import lock_order
from .events import on_behalf_of, record_event
from .purchase import record_purchase_refund_approval, record_purchase_refund_refusal
from .refunds import requested_refunds
from .supplier import record_supplier_approval, record_supplier_refusal

PLATFORM = "1688"
STATUSES = (
    "waitselleragree",
    "waitbuyermodify",
    "waitbuyersend",
    "waitsellerreceive",
    "refundsuccess",
    "refundclose",
)


@dataclass(frozen=True)
class RefundState:
    """One 1688 refund as a read found it (its texts already parsed as one-line or note text)."""

    platform_id: str
    status: str  # one of STATUSES
    modified_at: datetime | None = None
    refund_payment: int | None = None  # fen, once refunded
    reject_reason: str = ""
    seller_address: str = ""
    history: str = ""  # the refund's operations, as text (kept with the refusal)


def action_for(status: str, refund_status: str) -> str:
    """What 1688 waits for from us in ``status`` (``PlatformAction``)."""
    if status == "waitbuyermodify":
        return PlatformAction.MODIFY
    if status == "waitbuyersend":
        return PlatformAction.SEND_GOODS
    if status == "refundclose" and refund_status == RefundStatus.REQUESTED:
        return PlatformAction.CHECK
    return PlatformAction.NONE


def record_refund_state(refund_pk: int, state: RefundState) -> str:
    """Record what 1688 says of supplier refund ``refund_pk`` (see the module). Returns what it
    did: ``unchanged``, ``changed`` (1688's status only), ``approved`` or ``refused``. Raises
    ``Refused`` when the answer cannot be recorded (the order moved meanwhile); nothing is
    written then."""
    if state.status not in STATUSES:
        raise ValueError(f"not a 1688 refund status: {state.status!r}")
    now = timezone.now()
    with on_behalf_of(PLATFORM), transaction.atomic():
        order_id = Refund.objects.values_list("order_id", flat=True).get(pk=refund_pk)
        order = lock_order(order_id)
        refund = Refund.objects.select_for_update().get(pk=refund_pk)
        link, _created = PlatformRefund.objects.select_for_update().get_or_create(
            refund=refund,
            defaults={
                "order": order,
                "store_id": order.store_id,
                "key": f"refund-{refund.pk}-1688",
                "platform_id": state.platform_id,
                "created_at": now,
                "updated_at": now,
            },
        )
        before = (link.platform_status, link.reject_reason, link.seller_address)
        link.platform_id = link.platform_id or state.platform_id
        link.platform_status = state.status
        link.platform_modified_at = state.modified_at or link.platform_modified_at
        link.refund_payment = (
            state.refund_payment if state.refund_payment is not None else link.refund_payment
        )
        link.reject_reason = state.reject_reason or link.reject_reason
        link.seller_address = state.seller_address or link.seller_address
        link.read_at = now
        if before == (link.platform_status, link.reject_reason, link.seller_address):
            link.save(update_fields=["read_at", "platform_modified_at"])
            return "unchanged"
        link.action = action_for(state.status, refund.status)
        link.updated_at = now
        link.save()
        record_event(
            order,
            "platform_refund",
            by=None,
            data={
                "refund": refund.pk,
                "reference": link.platform_id,
                "status_on_1688": {"old": before[0], "new": state.status},
                "refunded_fen": state.refund_payment if state.status == "refundsuccess" else None,
                "reject_reason": state.reject_reason if state.status == "waitbuyermodify" else None,
            },
        )
        if refund.status != RefundStatus.REQUESTED:
            return "changed"
        if state.status == "refundsuccess":
            _approve(order, refund, link.platform_id, state)
            return "approved"
        if state.status == "waitbuyermodify":
            _refuse(order, refund, link.platform_id, state)
            return "refused"
    return "changed"


def note_unknown(refund_pk: int, platform_id: str, message: str) -> None:
    """1688 does not know refund ``platform_id`` (a reference typed wrong, another account's
    refund): kept on its request — read once, reported once, said on the order page."""
    now = timezone.now()
    with transaction.atomic():
        refund = Refund.objects.select_related("order").get(pk=refund_pk)
        link, _created = PlatformRefund.objects.select_for_update().get_or_create(
            refund=refund,
            defaults={
                "order": refund.order,
                "store_id": refund.order.store_id,
                "key": f"refund-{refund.pk}-1688",
                "platform_id": platform_id,
                "created_at": now,
                "updated_at": now,
            },
        )
        PlatformRefund.objects.filter(pk=link.pk).update(
            read_at=now, error_code="unknown refund", error_message=message[:2000], updated_at=now
        )


def _waits_for(order, refund: Refund) -> bool:
    """Whether the order's own status waits for this refund's answer (its latest request)."""
    if order.status != Status.SUPPLIER_REFUND_PENDING:
        return False
    pending = requested_refunds(order, refund.direction)
    return bool(pending) and pending[0].pk == refund.pk


def _approve(order, refund: Refund, platform_id: str, state: RefundState) -> None:
    paid = Decimal(state.refund_payment or 0) / 100
    amount = min(paid, refund.amount) if paid > 0 else None
    note = _("Refunded on 1688 (%(id)s): %(paid)s CNY.") % {"id": platform_id, "paid": f"{paid:.2f}"}
    if paid > refund.amount:
        note += " " + _("More than the %(asked)s CNY asked: the amount asked is recorded.") % {
            "asked": refund.amount
        }
    if _waits_for(order, refund):
        record_supplier_approval(order.pk, by=None, amount=amount, reference=platform_id, note=note)
    else:
        record_purchase_refund_approval(refund.pk, by=None, amount=amount, reference=platform_id, note=note)


def _refuse(order, refund: Refund, platform_id: str, state: RefundState) -> None:
    reason = state.reject_reason or _("(1688 gives no reason)")
    data = said.supplier_refused_on_1688(platform_id, str(reason)[:150])
    evidence.record_communication(
        order,
        by=None,
        counterparty=Counterparty.SUPPLIER,
        channel=Channel.WANGWANG,
        direction=Direction.INBOUND,
        kind=Kind.REFUSAL,
        summary=said.told(data),
        data=data,
        body="\n\n".join(part for part in (reason, state.history) if part),
        occurred_at=_sane(state.modified_at),
    )
    note = _("Refused on 1688: %(reason)s") % {"reason": reason}
    if _waits_for(order, refund):
        record_supplier_refusal(order.pk, by=None, reference=platform_id, note=note)
    else:
        record_purchase_refund_refusal(refund.pk, by=None, reference=platform_id, note=note)


def _sane(moment: datetime | None) -> datetime | None:
    """1688's time of the refusal, unless it lies ahead of ours (clocks differ): then now."""
    if moment is None or moment > timezone.now():
        return None
    return moment
