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
    """One success message naming the orders done, one error per order refused with its reason."""
    if done:
        messages.success(
            request,
            done_message(len(done)) % {"count": len(done), "orders": ", ".join(str(o) for o in done)},
        )
    for order, why in refused:
        messages.error(request, _("Order %(order)s was refused: %(why)s") % {"order": order, "why": why})
