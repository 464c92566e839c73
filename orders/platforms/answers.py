"""Reading the 1688 refunds back: the supplier's answers (docs/platforms.md).

A store's pass reads the refunds it holds open on 1688 — every supplier refund still waiting
for the supplier whose reference is a 1688 refund id (``TQ…``: filed by Shopops or typed in),
and those 1688 still waits on us for:

1. a refund never read yet is read on its own (``refund.OpQueryOrderRefund``, with its history);
2. then the buyer's refunds changed since the last read (``refund.buyer.queryOrderRefundList``,
   ``modifyStartTime`` = the last read's mark — the first time, the oldest open request — less
   ``SHOPOPS_SYNC_OVERLAP_MINUTES``, 0-based pages); a refused one is read on its own too, for
   the supplier's words in its history.

Each answer is parsed by the same parsers as everything typed (``shopops.inputs``: a hostile text
is refused and reported, never stored) and recorded by ``workflow.refund_answers``: approval,
refusal with its reason as the supplier's communication, or what 1688 waits for from us.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils.translation import gettext as _

from shopops import inputs
from shopops.errors import Refused

from ..models import PlatformRefund
from ..selectors.platform_refunds import never_read, oldest_request, refunds_to_read
from ..workflow.refund_answers import STATUSES, RefundState, note_unknown, record_refund_state
from .alibaba1688 import Alibaba1688Client
from .common import PlatformError, from_china

PAGE_SIZE = 50
LOOK_BACK = timedelta(days=729)  # the refund list answers the last 730 days only (APPLY_TIME_ERROR)
MAX_FEN = 10**12  # more than any purchase: a larger "refunded" is not an amount


def read_refunds(
    store, client: Alibaba1688Client, *, mark: datetime | None, report: Any, now: datetime
) -> datetime | None:
    """Read ``store``'s open 1688 refunds; count and report what happened in ``report`` (a
    ``sync.StoreReport``). Returns the new mark (``None``: nothing to read, the mark stays)."""
    wanted = refunds_to_read(store)
    if not wanted:
        return None
    reader = _Reader(client, report, wanted)
    for platform_id, refund_pk in never_read(store, wanted).items():
        reader.detail(platform_id, refund_pk)
    since = (mark or oldest_request(wanted) or now) - timedelta(
        minutes=float(settings.SHOPOPS_SYNC_OVERLAP_MINUTES)
    )
    since = max(since, now - LOOK_BACK)
    page, seen = 0, 0
    while True:
        rows, total = client.refunds(page=page, page_size=PAGE_SIZE, modified_since=since)
        for row in rows:
            reader.listed(row)
        seen += len(rows)
        if not rows or seen >= total:
            break
        page += 1
    return now - timedelta(minutes=1)


class _Reader:
    def __init__(self, client: Alibaba1688Client, report: Any, wanted: dict[str, int]):
        self.client, self.report, self.wanted = client, report, wanted
        self.counts: Counter = report.counts
        self.done: set[str] = set()
        self.statuses = dict(
            PlatformRefund.objects.filter(refund_id__in=wanted.values()).values_list(
                "refund_id", "platform_status"
            )
        )

    def detail(self, platform_id: str, refund_pk: int) -> None:
        self.done.add(platform_id)
        self.counts["refunds_read"] += 1
        try:
            row = self.client.refund_detail(platform_id)
        except PlatformError as error:
            if error.retryable or error.code.startswith(("gw.", "HTTP", "malformed", "too large")):
                raise  # the gateway or the store's account: the pass fails, the next one reads again
            note_unknown(refund_pk, platform_id, error.message or str(error))  # "refund data error"
            self.report.problem(platform_id, str(error))  # reported once: not read again
            return
        self.apply(refund_pk, row)

    def listed(self, row: dict[str, Any]) -> None:
        platform_id = str(row.get("refundId") or "").strip()
        refund_pk = self.wanted.get(platform_id)
        if refund_pk is None or platform_id in self.done:
            return
        self.done.add(platform_id)
        self.counts["refunds_read"] += 1
        status = row.get("status")
        if status == self.statuses.get(refund_pk):
            return  # 1688 changed something we do not keep (a note, a deadline)
        if status == "waitbuyermodify":
            row = {**row, **self.client.refund_detail(platform_id)}  # the supplier's words in the history
        self.apply(refund_pk, row)

    def apply(self, refund_pk: int, row: dict[str, Any]) -> None:
        try:
            state = parse_state(row)
            outcome = record_refund_state(refund_pk, state)
        except Refused as refused:
            self.report.problem(str(row.get("refundId") or "")[:32], refused.message)
            return
        self.counts[f"refunds_{outcome}"] += 1


def _plain(value: Any) -> str:
    return "" if value is None or isinstance(value, dict | list | bool) else str(value)


def parse_state(row: dict[str, Any]) -> RefundState:
    """One 1688 refund (a list row or a detail) as ``RefundState``; ``Refused`` for a hostile or
    malformed one (the refund named, nothing recorded)."""
    platform_id = inputs.text(_plain(row.get("refundId")), "refundId", max_length=32, required=True)
    status = inputs.text(_plain(row.get("status")), "status", max_length=32, required=True)
    if status not in STATUSES:
        raise Refused(
            _("1688 refund %(id)s: unknown status “%(status)s”.")
            % {"id": platform_id, "status": inputs.shown(status)}
        )
    payment = _plain(row.get("refundPayment")).strip()
    if payment and (not payment.isdigit() or int(payment) > MAX_FEN):
        raise Refused(
            _("1688 refund %(id)s: the amount refunded “%(amount)s” is not an amount in fen.")
            % {"id": platform_id, "amount": inputs.shown(payment)}
        )
    return RefundState(
        platform_id=platform_id,
        status=status,
        modified_at=from_china(_plain(row.get("gmtModified"))),
        refund_payment=int(payment) if payment else None,
        reject_reason=inputs.text(
            _plain(row.get("rejectReason")), "rejectReason", max_length=1000, multiline=True
        ),
        seller_address=inputs.text(
            _plain(row.get("sellerReceiveAddress")), "sellerReceiveAddress", max_length=500
        ),
        history=_history(row.get("refundOperationList")),
    )


def _history(operations: Any) -> str:
    """The refund's operations as lines of text, oldest first: who, when, from → to, what was said."""
    if not isinstance(operations, list):
        return ""
    roles = {"1": "buyer", "2": "supplier"}
    lines = []
    for op in reversed(operations[:50]):
        if not isinstance(op, dict):
            continue
        when = from_china(_plain(op.get("gmtCreate")))
        said = (
            _plain(op.get("rejectReason")) or _plain(op.get("operateRemark")) or _plain(op.get("discription"))
        )
        line = (
            f"{when.isoformat() if when else '?'} {roles.get(_plain(op.get('operatorRoleId')), 'platform')}: "
            f"{_plain(op.get('beforeOperateStatus')) or '—'} → {_plain(op.get('afterOperateStatus'))}"
            + (f" — {said}" if said else "")
        )
        try:
            lines.append(inputs.text(line, "refundOperationList", max_length=1000))
        except Refused:
            lines.append("(an operation whose text was refused)")
    return "\n".join(lines)
