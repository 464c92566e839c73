"""Money as people read it: two decimals (USD and CNY, the currencies Shopops deals in), whatever
the database returned (SQLite's sums come back with fourteen decimals: ``0.00000000000000``).

Every amount shown — the order page, the timeline, a form's initial value — goes through
:func:`money`, and the reads that compute amounts return it already quantized.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")


def money(amount: Decimal | int | float | str | None) -> Decimal | None:
    """``amount`` to the cent (half up); ``None`` stays ``None``."""
    if amount is None or amount == "":
        return None
    try:
        value = amount if isinstance(amount, Decimal) else Decimal(str(amount))
        return value.quantize(CENT, rounding=ROUND_HALF_UP) + Decimal("0.00")  # never "-0.00"
    except (InvalidOperation, ValueError):
        raise ValueError(f"{amount!r} is not an amount") from None


def format_money(amount: Decimal | int | float | str | None, currency: str = "") -> str:
    """``"21.50 USD"``: the amount to the cent, then the currency; ``"—"`` for no amount."""
    value = money(amount)
    if value is None:
        return "—"
    return f"{value} {currency}".strip()
