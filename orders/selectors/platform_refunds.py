"""Reads of the 1688 refund requests (``PlatformRefund``): whether Shopops files an order's
supplier refund on 1688, which requests wait to be sent, which refunds a pass reads back, what
the order page says of each, and 1688's error codes in words (``shared/platforms/1688.md`` §4.3).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.db.models import Min, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from ..models import (
    FilingStatus,
    Order,
    Platform,
    PlatformAction,
    PlatformRefund,
    Refund,
    RefundDirection,
    RefundStatus,
    Store,
    StoreConnection,
)
from ..platform_words import ALIBABA_1688_REFUND, status_words
from .purchase import main_purchase

# A 1688 refund id (``TQ`` and digits): a supplier refund whose reference is one is read back.
REFUND_ID_PREFIX = "TQ"

# 1688's codes in words (shared/platforms/1688.md §3, §4.3), for the order page.
CODE_WORDS = {
    "5001": gettext_noop("the 1688 order does not exist: check the purchase's 1688 order id."),
    "ORDER_NOT_EXIST": gettext_noop("the 1688 order does not exist: check the purchase's 1688 order id."),
    "5002": gettext_noop("the 1688 order was not bought by the account this store is connected with."),
    "5003": gettext_noop("1688 does not know the goods status sent."),
    "5004": gettext_noop("the refund reason is not one 1688 offers for this order."),
    "5005": gettext_noop("this refund reason needs vouchers: attach photos to the order and try again."),
    "5006": gettext_noop("for this refund reason the carriage refunded must be 0."),
    "5010": gettext_noop(
        "1688 does not allow this refund now: the order's state does not allow it, goods can be "
        "returned only once received, an order entry is wrong, or a request is already open on "
        "these goods."
    ),
    "5011": gettext_noop(
        "the amount is wrong: more than was paid and not yet refunded (or, while the supplier has "
        "not shipped, less than all of it), or carriage above the shipping fee."
    ),
    "5012": gettext_noop("the description must be 2 to 150 characters."),
    "5013": gettext_noop("the quantity to return is wrong."),
    "5100": gettext_noop("1688 refused the request for another reason (see its words)."),
    "gw.InvalidAccessToken": gettext_noop(
        "the store's 1688 access token is invalid or expired: connect the store again."
    ),
    "gw.SignatureInvalid": gettext_noop("the store's 1688 app secret is wrong: connect the store again."),
    "gw.APIACLDecline": gettext_noop(
        "the store's 1688 app may not use this API: apply for it on open.1688.com."
    ),
    "not connected": gettext_noop("the store is not connected to 1688 (or its secrets cannot be read)."),
    "no 1688 order": gettext_noop("the purchase has no 1688 order id."),
    "order status": gettext_noop("the 1688 order is in a state where no refund can be asked."),
    "no vouchers": gettext_noop(
        "1688 needs vouchers for every reason it offers here, and the order has no photo the 1688 "
        "evidence pack takes: attach photos to the order and try again."
    ),
    "unexpected": gettext_noop("an unexpected error in Shopops; it is logged."),
    # A refund 1688 does not know (OpQueryOrderRefund's "refund data error").
    "unknown refund": gettext_noop("1688 has no such refund for this store's buying account."),
}
PROVIDER_SIDE = gettext_noop("1688 had a problem on its side; try again later.")


def code_words(code: str) -> str:
    """What 1688's ``code`` (or ours) means, in the reader's language ("" for none known)."""
    if code in CODE_WORDS:
        return _(CODE_WORDS[code])
    if code.isdigit() and code.startswith("4"):
        return _(PROVIDER_SIDE)
    return ""


def files_on_1688(order: Order) -> bool:
    """Whether Shopops files ``order``'s supplier refunds on 1688 itself: its store is connected to
    1688 and its purchase has a 1688 order id (then a request's ``reference`` may be left out)."""
    if not StoreConnection.objects.filter(store_id=order.store_id, platform=Platform.ALIBABA_1688).exists():
        return False
    purchase = main_purchase(order)
    return purchase is not None and bool(purchase.supplier_order_id)


def filings_due(store: Store, now: datetime) -> list[int]:
    """The store's requests waiting to be sent (or whose sender died), oldest first."""
    due = Q(filing=FilingStatus.PENDING, next_attempt_at__lte=now) | Q(
        filing=FilingStatus.SENDING, claimed_until__lt=now
    )
    return list(PlatformRefund.objects.filter(due, store=store).order_by("pk").values_list("pk", flat=True))


def refunds_to_read(store: Store) -> dict[str, int]:
    """1688 refund id → supplier refund, of every refund of ``store`` a pass reads back: those
    still waiting for the supplier with a 1688 refund id, and those 1688 still waits on us for."""
    rows = Refund.objects.filter(
        Q(status=RefundStatus.REQUESTED, reference__startswith=REFUND_ID_PREFIX)
        | Q(on_1688__action__gt="", on_1688__platform_id__gt=""),
        order__store=store,
        direction=RefundDirection.FROM_SUPPLIER,
    )
    found: dict[str, int] = {}
    for pk, reference, platform_id in rows.values_list("pk", "reference", "on_1688__platform_id"):
        found[platform_id or reference] = pk
    return found


def never_read(store: Store, wanted: dict[str, int]) -> dict[str, int]:
    """Those of ``wanted`` (``refunds_to_read``) no pass has read yet."""
    read = set(
        PlatformRefund.objects.filter(refund_id__in=wanted.values(), store=store)
        .exclude(platform_status="", read_at__isnull=True)  # read, or found unknown to 1688
        .values_list("refund_id", flat=True)
    )
    return {platform_id: pk for platform_id, pk in wanted.items() if pk not in read}


def oldest_request(wanted: dict[str, int]) -> datetime | None:
    """When the oldest of ``wanted``'s refunds was asked of the supplier (``None``: none)."""
    return Refund.objects.filter(pk__in=wanted.values()).aggregate(first=Min("requested_at"))["first"]


def known_platform_ids(store: Store, order_id: int) -> set[str]:
    """The 1688 refund ids Shopops already holds for ``order_id``'s refunds (not to be taken for a
    new request's)."""
    ids = set(
        PlatformRefund.objects.filter(order_id=order_id)
        .exclude(platform_id="")
        .values_list("platform_id", flat=True)
    )
    ids |= set(
        Refund.objects.filter(order_id=order_id, direction=RefundDirection.FROM_SUPPLIER)
        .exclude(reference="")
        .values_list("reference", flat=True)
    )
    return ids


@dataclass(frozen=True)
class RefundOn1688:
    """One supplier refund's 1688 request as the order page shows it."""

    row: PlatformRefund
    sentence: str  # where it stands, in words
    problem: str  # the failure: 1688's code in words and its own words ("" when none)
    can_retry: bool


def _status_words(row: PlatformRefund) -> str:
    return status_words(row.platform_status, ALIBABA_1688_REFUND)


def describe(row: PlatformRefund) -> RefundOn1688:
    """Where ``row`` stands, in the reader's language."""
    problem = ""
    values = {"id": row.platform_id, "reason": row.reject_reason, "address": row.seller_address}
    if row.filing in (FilingStatus.PENDING, FilingStatus.SENDING) and not row.error_code:
        sentence = _("Being filed on 1688 (it is sent after it was recorded; the page shows the result).")
    elif row.filing in (FilingStatus.PENDING, FilingStatus.SENDING):
        sentence = _("Being filed on 1688: the last try failed and it is tried again shortly.")
        problem = failure_words(row)
    elif row.filing == FilingStatus.FAILED:
        sentence = _("Not filed on 1688: 1688 refused the request, or it failed.")
        problem = failure_words(row)
    elif row.filing == FilingStatus.NOT_NEEDED:
        sentence = _("Not filed on 1688: the refund was answered or cancelled first.")
    elif row.platform_status:
        sentence = _("On 1688 (%(id)s): %(status)s.") % {"id": row.platform_id, "status": _status_words(row)}
    elif row.read_at:
        sentence = _("1688 does not know the refund %(id)s: check the reference.") % values
        problem = failure_words(row)
    else:
        sentence = _("Filed on 1688 (%(id)s); not read back yet.") % values
    if row.action == PlatformAction.MODIFY:
        sentence += " " + (
            _(
                "1688 waits for us: the supplier refused (“%(reason)s”); modify the request on "
                "1688, or escalate."
            )
            % values
        )
    elif row.action == PlatformAction.SEND_GOODS:
        sentence += " " + (
            _(
                "1688 waits for us: send the goods back to the supplier (%(address)s) and enter "
                "the waybill on 1688."
            )
            % {"address": row.seller_address or _("the address 1688 shows")}
        )
    elif row.action == PlatformAction.CHECK:
        sentence += " " + _("1688 closed it without a refund: check why on 1688.")
    return RefundOn1688(row, sentence, problem, can_retry=row.filing == FilingStatus.FAILED)


# The codes that are Shopops' own (a request stopped before 1688 was asked), not 1688's.
OWN_CODES = ("not connected", "no 1688 order", "order status", "no vouchers", "unexpected")


def failure_words(row: PlatformRefund) -> str:
    """“1688 answered 5010: <meaning> (1688's words: …)”, or why Shopops did not ask 1688."""
    meaning = code_words(row.error_code) or _("see 1688's words.")
    if row.error_code in OWN_CODES:
        detail = f" ({row.error_message})" if row.error_message else ""
        return _("Shopops did not send it: %(meaning)s%(detail)s") % {"meaning": meaning, "detail": detail}
    said = _(" (1688's words: %(message)s)") % {"message": row.error_message} if row.error_message else ""
    return _("1688 answered %(code)s: %(meaning)s%(said)s") % {
        "code": row.error_code,
        "meaning": meaning,
        "said": said,
    }


def order_requests(order: Order) -> list[RefundOn1688]:
    """The order's supplier refunds as 1688 knows them, oldest first."""
    rows = PlatformRefund.objects.filter(order=order).select_related("refund").order_by("created_at", "pk")
    return [describe(row) for row in rows]
