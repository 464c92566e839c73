"""What the platforms' status codes mean, in the reader's language.

An order's ``platform_status`` holds AliExpress's code as the last import or pull read it
(``PLACE_ORDER_SUCCESS``), a 1688 request its refund status (``waitselleragree``); the pages show
what the code means ("Awaiting payment") rather than the code. A code not listed here (a new one,
or a CSV's own wording such as 待付款) is shown as it is. The meanings are the platforms' own
(``shared/platforms/aliexpress.md`` §6, ``1688.md`` §4.7 and §5).
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _

ALIEXPRESS, ALIBABA_1688_ORDER, ALIBABA_1688_REFUND = "aliexpress", "1688_order", "1688_refund"

WORDS = {
    # AliExpress: the sale's order status.
    ALIEXPRESS: {
        "PLACE_ORDER_SUCCESS": _("Awaiting the buyer's payment"),
        "RISK_CONTROL": _("Paid; in the platform's 24-hour risk check (do not ship yet)"),
        "WAIT_SELLER_SEND_GOODS": _("Paid, waiting for us to ship"),
        "WAIT_SELLER_EXAMINE_MONEY": _("Waiting for us to confirm the amount"),
        "IN_CANCEL": _("The buyer asked to cancel"),
        "SELLER_PART_SEND_GOODS": _("Partly shipped"),
        "WAIT_BUYER_ACCEPT_GOODS": _("Shipped, waiting for the buyer to receive it"),
        "FUND_PROCESSING": _("Received by the buyer; the money is being settled"),
        "IN_ISSUE": _("A dispute is open"),
        "IN_FROZEN": _("The money is frozen by the platform"),
        "FINISH": _("Ended"),
    },
    # 1688: the purchase order's status (baseInfo.status).
    ALIBABA_1688_ORDER: {
        "waitbuyerpay": _("waiting for our payment"),
        "waitsellersend": _("paid, waiting for the supplier to ship"),
        "waitbuyerreceive": _("shipped by the supplier, waiting for us to receive it"),
        "confirm_goods": _("received by us"),
        "success": _("completed"),
        "cancel": _("cancelled"),
        "terminated": _("terminated"),
    },
    # 1688: a refund request's status.
    ALIBABA_1688_REFUND: {
        "waitselleragree": _("waiting for the supplier's decision"),
        "waitbuyermodify": _("the supplier refused"),
        "waitbuyersend": _("the supplier agreed to the return: the goods are to be sent back"),
        "waitsellerreceive": _("the goods are on their way back to the supplier"),
        "refundsuccess": _("refunded"),
        "refundclose": _("closed without a refund"),
    },
}


def status_words(code: str | None, platform: str = ALIEXPRESS) -> str:
    """What ``code`` means on ``platform`` (one of :data:`WORDS`), in the active language; the
    code as it is when it is not known; "" for none."""
    if not code:
        return ""
    words = WORDS[platform].get(code.strip())
    return str(words) if words is not None else code
