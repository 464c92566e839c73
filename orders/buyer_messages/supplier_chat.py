"""Ready texts for the 1688 supplier: what the operator pastes into the Wangwang chat at a step.

Suppliers on 1688 are written to in Chinese, whatever the operator's language; the meaning is
shown beside the text in English for an operator whose interface is not Chinese. Not buyer
messages: no buyer language, no Supervisor's wording, no check across fifteen languages. The
transition forms show them next to (never instead of) nothing for the buyer: the dispute with the
supplier on 1688 offers only these, a buyer's dispute only the buyer's.

Recording one as sent is ``orders.workflow.buyer_chat.record_chat_message`` (an outbound message
to the supplier on 1688 Wangwang).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.utils.translation import gettext_lazy as _

from ..models import Order, RefundDirection
from ..selectors.purchase import main_purchase, supplier_request_default
from ..selectors.refunds import refundable

SUPPLIER_LANGUAGE = "zh-hans"


@dataclass(frozen=True)
class SupplierMessage:
    id: str  # "supplier.<name>"
    label: object  # lazy text
    text: str  # Chinese, with {placeholders}
    meaning: str  # English


SUPPLIER_MESSAGES: dict[str, SupplierMessage] = {
    m.id: m
    for m in (
        SupplierMessage(
            "supplier.cancel_purchase",
            _("1688 chat: cancel the purchase before it ships"),
            "您好，1688订单 {supplier_order_id} 的买家已取消订单，我们需要取消这笔采购。"
            "请不要发货，我们已在1688申请全额退款 {amount}，麻烦尽快同意，谢谢！",
            "Hello, the buyer behind 1688 order {supplier_order_id} has cancelled, so we need to cancel "
            "this purchase. Please do not ship it: we have asked on 1688 for a full refund of {amount}; "
            "please agree to it soon. Thank you!",
        ),
        SupplierMessage(
            "supplier.ask_refund",
            _("1688 chat: ask for the refund"),
            "您好，1688订单 {supplier_order_id} 的货品有质量问题，买家已退货。"
            "我们已在1688申请退款 {amount}（{units} 件），请尽快处理，谢谢配合！",
            "Hello, the goods of 1688 order {supplier_order_id} have a quality problem and the buyer "
            "returned them. We have asked on 1688 for a refund of {amount} ({units} unit(s)); please "
            "deal with it soon. Thank you!",
        ),
        SupplierMessage(
            "supplier.dispute_won",
            _("1688 chat: dispute decided for us (the supplier refunds)"),
            "您好，关于1688订单 {supplier_order_id} 的退款纠纷，平台已裁定支持我方，"
            "退款 {remaining} 请按平台结果尽快处理，谢谢配合。",
            "Hello, 1688 has decided the refund dispute on order {supplier_order_id} in our favour: "
            "please refund {remaining} as the platform decided, soon. Thank you.",
        ),
        SupplierMessage(
            "supplier.dispute_partial",
            _("1688 chat: dispute decided with a partial refund"),
            "您好，关于1688订单 {supplier_order_id} 的退款纠纷，平台已裁定部分退款，请按平台结果处理，谢谢。",
            "Hello, 1688 has decided the refund dispute on order {supplier_order_id} with a partial "
            "refund: please refund as the platform decided. Thank you.",
        ),
        SupplierMessage(
            "supplier.dispute_lost",
            _("1688 chat: dispute decided for the supplier (no refund)"),
            "您好，关于1688订单 {supplier_order_id} 的退款纠纷，平台已裁定不予退款，我们接受平台结果。"
            "希望今后合作中货品质量能得到保障。",
            "Hello, 1688 has decided the refund dispute on order {supplier_order_id}: no refund. We accept "
            "the platform's decision, and hope the quality of the goods will be assured from now on.",
        ),
    )
}

# The supplier's ready texts, by the transition whose form offers them (resolve_dispute: only for
# a dispute with the supplier).
SUPPLIER_CHAT: dict[str, tuple[str, ...]] = {
    "record_buyer_consent": ("supplier.cancel_purchase",),
    "request_supplier_refund": ("supplier.ask_refund",),
    "resolve_dispute": ("supplier.dispute_won", "supplier.dispute_partial", "supplier.dispute_lost"),
}


def yuan(amount) -> str:
    """An amount in CNY as a supplier reads it: ``¥90.00``."""
    return f"¥{amount}"


def supplier_facts(order: Order) -> dict[str, str]:
    """What the supplier's texts name: the 1688 order id, what is still asked (CNY), the units."""
    purchase = main_purchase(order)
    _kind, units, asked = supplier_request_default(order)
    remaining = refundable(order, RefundDirection.FROM_SUPPLIER)
    return {
        "supplier_order_id": (purchase.supplier_order_id if purchase else "") or order.platform_order_id,
        "amount": yuan(asked if asked is not None else remaining),
        "remaining": yuan(remaining),
        "units": str(units or order.quantity),
    }


def render(message_id: str, facts: dict[str, str]) -> tuple[str, str]:
    """(the Chinese text, its English meaning) with the facts filled in."""
    message = SUPPLIER_MESSAGES[message_id]
    return message.text.format(**facts), message.meaning.format(**facts)
