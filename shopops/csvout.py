"""The one CSV writer: every CSV the project writes goes through :func:`writer`.

The order export, the analytics page's tables and its ledger, and ``manage.py loss_ledger`` all
write here, so that no cell a spreadsheet would evaluate leaves the project as a formula: an
order id ``=HYPERLINK("http://evil", "refund")`` printed raw by ``loss_ledger`` was a link in the
spreadsheet that opened it. A text cell starting like a formula (OWASP's list: ``=`` ``+`` ``-``
``@``, tab, carriage return) gets a leading quote, which the import removes again
(``orders.imports.reading.clean_cell``); numbers (``int``, ``Decimal``, ``float``) stay numbers;
a moment is written ``2026-12-09 16:54`` in ``TIME_ZONE`` and a day ``2026-12-09``, as every page
shows them (``shopops.formats``), whatever the reader's language.
``tests/test_architecture.py`` checks that no other module of the project calls ``csv.writer`` or
``csv.DictWriter``.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from datetime import date, datetime
from decimal import Decimal
from typing import Any, TextIO

from django.utils import timezone

# Cells a spreadsheet would evaluate: OWASP's list (= + - @, tab, carriage return).
DANGEROUS_PREFIXES = ("=", "+", "-", "@", "\t", "\r")


def escape_cell(value: object) -> object:
    """A text cell that starts like a formula gets a leading quote; anything else is returned as is."""
    if isinstance(value, str) and value.startswith(DANGEROUS_PREFIXES):
        return "'" + value
    return value


_NUMBERS = (int, Decimal, float)


def cell(value: object) -> object:
    """One cell as written: ``None`` empty, a number as it is, a moment or a day as every page
    shows it, anything else as escaped text."""
    kind = type(value)
    if kind is str:  # the common cases first: an export is hundreds of thousands of cells
        return "'" + value if value.startswith(DANGEROUS_PREFIXES) else value
    if kind in _NUMBERS:
        return value
    if value is None:
        return ""
    if isinstance(value, int | Decimal | float) and not isinstance(value, bool):
        return value
    if isinstance(value, datetime):
        return (timezone.localtime(value) if timezone.is_aware(value) else value).strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    return escape_cell(str(value))


class Writer:
    """``csv.writer`` whose every cell goes through :func:`cell`."""

    def __init__(self, stream: TextIO | Any, *, lineterminator: str = "\r\n") -> None:
        self._writer = csv.writer(stream, lineterminator=lineterminator)

    def writerow(self, row: Iterable[object]) -> None:
        self._writer.writerow([cell(value) for value in row])

    def writerows(self, rows: Iterable[Iterable[object]]) -> None:
        for row in rows:
            self.writerow(row)


def writer(stream: TextIO | Any, *, lineterminator: str = "\r\n", bom: bool = False) -> Writer:
    """A CSV writer on ``stream`` (a text stream, or anything with ``write(str)``: an
    ``HttpResponse``, a command's ``stdout``). ``bom``: start with a UTF-8 byte-order mark, so
    that Excel on a Chinese system reads the text as UTF-8."""
    if bom:
        stream.write("\ufeff")
    return Writer(stream, lineterminator=lineterminator)
