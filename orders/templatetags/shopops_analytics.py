"""The long lists of the analytics page, written in one pass instead of a template loop per cell.

The page shows tables of hundreds of rows (a day per row over a year, every SKU closed for out of
stock twice) and as many recommended actions: the template's loops, one variable node per cell,
cost more than the figures behind them. These tags write the same markup, each value shown as
``{{ value }}`` shows it (localized, then escaped).

- ``{% analytics_rows t.rows %}``: a table's body rows; the first cell a label, the others
  numbers (``class="num"``);
- ``{% analytics_recommendations recommendations %}``: one ``<li>`` per recommended action.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django import template
from django.template.base import render_value_in_context
from django.template.context import Context
from django.utils.safestring import SafeString, mark_safe

from orders.selectors.recommendations import Recommendation

register = template.Library()


class _Shown:
    """Values as ``{{ value }}`` shows them in ``context``: Django's own rendering, but a plain
    string escaped directly and each number localized once per distinct value."""

    def __init__(self, context: Context) -> None:
        self.context = context
        self.numbers: dict[tuple[type, str], str] = {}

    def __call__(self, value: object) -> str:
        if not self.context.autoescape:
            return render_value_in_context(value, self.context)
        if type(value) is str:
            return html.escape(value)
        if type(value) in (int, Decimal, float):
            # The localized text depends on the type and the digits only (Decimal's exponent
            # included: str(Decimal("1.0")) is not str(Decimal("1.00"))).
            key = (type(value), str(value))
            shown = self.numbers.get(key)
            if shown is None:
                shown = self.numbers[key] = render_value_in_context(value, self.context)
            return shown
        return render_value_in_context(value, self.context)


@register.simple_tag(takes_context=True)
def analytics_rows(context: Context, rows: Iterable[Sequence[object]]) -> SafeString:
    shown = _Shown(context)
    lines = []
    for row in rows:
        cells = [shown(cell) for cell in row]
        first = f"<td>{cells[0]}</td>" if cells else ""
        rest = "".join(f'<td class="num">{cell}</td>' for cell in cells[1:])
        lines.append(f"<tr>{first}{rest}</tr>\n    ")  # the card template's indentation
    return mark_safe("".join(lines))  # noqa: S308 - every value escaped above


@register.simple_tag(takes_context=True)
def analytics_recommendations(context: Context, recommendations: Iterable[Recommendation]) -> SafeString:
    shown = _Shown(context)
    items = [
        f'<li data-rule="{shown(r.rule)}"><strong>{shown(r.action)}</strong><br>{shown(r.why)}</li>'
        for r in recommendations
    ]
    # each item on a line of its own, indented as in the page's template
    return mark_safe("".join(f"\n        {item}\n      " for item in items))  # noqa: S308 - every value escaped above
