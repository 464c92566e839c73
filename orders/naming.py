"""How the things staff act on are named to them in messages: one rule for every confirmation and
refusal a screen shows.

An order is its platform number and its buyer ("order 8100000000000834 (Ana García)"); a refund
is what it is: its amount, whose refund it is and of which order ("the refund of 25.00 USD to the
buyer of order 8100000000000834 (Ana García)"). Never a row id ("#834"), which means nothing to
anyone outside the database. People are named by ``orders.people.person``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from shopops.money import format_money

from .models import Order, Refund, RefundDirection


def order_named(order: Order) -> str:
    """``order 8100000000000834 (Ana García)``; the number alone when the buyer has no name."""
    if order.buyer_name:
        return _("order %(number)s (%(buyer)s)") % {
            "number": order.platform_order_id,
            "buyer": order.buyer_name,
        }
    return _("order %(number)s") % {"number": order.platform_order_id}


def refund_named(refund: Refund) -> str:
    """``the refund of 25.00 USD to the buyer of order 8100… (Ana García)``, or the supplier's."""
    values = {"amount": format_money(refund.amount, refund.currency), "order": order_named(refund.order)}
    if refund.direction == RefundDirection.FROM_SUPPLIER:
        return _("the supplier's refund of %(amount)s for %(order)s") % values
    return _("the refund of %(amount)s to the buyer of %(order)s") % values


def sentence_start(name: str) -> str:
    """A name at the start of a sentence: ``Order 8100… (Ana García) was refused: …``."""
    return capfirst(name)


def listed(names: Iterable[Any]) -> str:
    """Several names in one message, each whole (a name may hold a comma)."""
    return "; ".join(str(name) for name in names)
