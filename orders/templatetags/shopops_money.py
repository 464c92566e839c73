"""``{{ amount|money }}`` / ``{{ amount|money:currency }}``: an amount to the cent, whatever the
database returned (``shopops.money``)."""

from __future__ import annotations

from django import template

from shopops.money import format_money

register = template.Library()


@register.filter(name="money")
def money_filter(amount, currency: str = "") -> str:
    try:
        return format_money(amount, currency or "")
    except ValueError:
        return str(amount)
