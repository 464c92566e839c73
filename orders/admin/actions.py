"""What every bulk action shares: a bounded selection, and a report of each row's outcome.

A bulk action runs each row in its own transaction (the workflow's): one refusal spoils no
other, and the operator is told, row by row, what was done and what was refused and why.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.translation import gettext as _

from ..models import Order
from ..naming import listed, order_named, sentence_start

# A bulk action runs one transaction per row inside one request: keep the request bounded.
BULK_ACTION_LIMIT = 500


def bounded_selection(request: HttpRequest, queryset: QuerySet, refusal: str) -> list | None:
    """The selected rows, or None when more than ``BULK_ACTION_LIMIT`` were selected.

    Then ``refusal`` (with ``%(limit)d``) is shown and nothing is done: a bulk action never
    handles part of a selection without a word.
    """
    rows = list(queryset.order_by("pk")[: BULK_ACTION_LIMIT + 1])
    if len(rows) > BULK_ACTION_LIMIT:
        messages.error(request, refusal % {"limit": BULK_ACTION_LIMIT})
        return None
    return rows


def report_orders(
    request: HttpRequest,
    done: list[Any],
    refused: list[tuple[Any, str]],
    done_message: Callable[[int], str],
) -> None:
    """One success message naming the orders done, one error per order refused with its reason
    (``orders.naming``: each by its number and buyer)."""
    if done:
        messages.success(
            request,
            done_message(len(done)) % {"count": len(done), "orders": listed(order_named(o) for o in done)},
        )
    for order, why in refused:
        report_refused(request, order, why)


def report_refused(request: HttpRequest, order: Order, why: str) -> None:
    """One order a bulk action refused, named in words, and why."""
    name = order_named(order) if isinstance(order, Order) else _("order %(number)s") % {"number": order}
    messages.error(request, _("%(order)s was refused: %(why)s") % {"order": sentence_start(name), "why": why})
