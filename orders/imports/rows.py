"""Checking one import row: every cell parsed, required cells present, cross-column rules.

Every problem of a row is reported with its spreadsheet row number (the header is row 1),
column, value and why — all of them, not just the first.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.utils.translation import gettext as _

from .columns import (
    E164,
    MISS,
    OWN_STATUS_CODES,
    BadValue,
    fast_parsers,
    full_parsers,
    parse_phone,
)
from .reading import clean_cell
from .result import RowIssue
from .stores import FileStores

# Required columns whose cells must not be blank either.
REQUIRED_VALUES = (
    "order_id",
    "status",
    "placed_at",
    "buyer_name",
    "buyer_country",
    "sku",
    "quantity",
    "total_amount",
)


class RowParser:
    """The checked values of a row of a file with this header, by column (blank optional cells
    left out), or ``None`` when the row is invalid; every problem goes to ``report``.

    Each cell goes through its column's fast path first, and to the full parser only when that
    does not recognise it (about a fifth of the time of the full parsers alone on a typical file).
    The row's store (``orders.imports.stores``) is its values' ``store_id``.

    The AliExpress pull (``orders.platforms.sync``) uses the same parser on the values of a
    platform order (``orders.imports.values``): ``zone`` is then US Pacific, and ``required`` leaves
    out what the platform's order list does not carry (the buyer's country).
    """

    def __init__(
        self,
        header: list[str],
        stores: FileStores,
        *,
        zone: ZoneInfo | None = None,
        required: tuple[str, ...] = REQUIRED_VALUES,
    ):
        self.header = header
        self.width = len(header)
        self.index = {column: i for i, column in enumerate(header)}
        self.stores = stores
        self.store_index = self.index.get("store")
        self.required = required
        self.required_set = frozenset(required)
        fast, full = fast_parsers(zone), full_parsers(zone)
        self.full = {column: full[column] for column in header}
        # Text columns (their maximum length) and the others (their fast parser), apart: the
        # commonest cells need no call at all.
        self.texts = [
            (i, column, fast[column]) for i, column in enumerate(header) if fast[column].__class__ is int
        ]
        self.parsed = [
            (i, column, fast[column].known, fast[column].new)
            for i, column in enumerate(header)
            if fast[column].__class__ is not int
        ]

    def __call__(
        self, cells: list[str], row: int, report: Callable[[RowIssue], None]
    ) -> dict[str, Any] | None:
        if len(cells) != self.width:
            report(
                RowIssue(
                    row,
                    "",
                    "",
                    _("the row has %(cells)d cells but the header has %(columns)d columns")
                    % {"cells": len(cells), "columns": self.width},
                )
            )
            return None
        values: dict[str, Any] = {}
        slow: list[tuple[int, str, str]] = []  # cells the fast paths leave to the full parser
        for i, column, limit in self.texts:
            value = cells[i].strip()
            if value:
                # Printable (no control, format or line-break character) and short: as it is.
                if len(value) <= limit and value[0] != "'" and value.isprintable():
                    values[column] = value
                else:
                    slow.append((i, column, value))
        for i, column, known, fast in self.parsed:
            value = cells[i].strip()
            if value:
                parsed = known.get(value, MISS)
                if parsed is MISS:
                    parsed = fast(value) if value[0] != "'" else MISS
                    if parsed is MISS:
                        slow.append((i, column, value))
                        continue
                values[column] = parsed
        ok = True
        if slow:
            for _i, column, value in sorted(slow):  # reported in the file's column order
                value = clean_cell(value)
                if not value:
                    continue
                try:
                    values[column] = self.full[column](value, column)
                except BadValue as bad:
                    report(RowIssue(row, column, value, str(bad)))
                    ok = False
        ok = self._store(values, cells, row, report) and ok
        if not self.required_set.issubset(values):
            for column in self.required:
                if column not in values:
                    cell = cells[self.index[column]]
                    if not clean_cell(cell):
                        report(RowIssue(row, column, "", _("%(column)s is required") % {"column": column}))
                        ok = False
        if "status" in values:
            raw_status = clean_cell(cells[self.index["status"]])
            # Our own codes come from a Shopops export, not from the platform: nothing to record.
            if raw_status not in OWN_STATUS_CODES:
                values["platform_status"] = raw_status
        phone = values.get("buyer_phone")
        if phone is not None and not E164.match(phone):
            try:
                values["buyer_phone"] = parse_phone(phone, values.get("buyer_country"))
            except BadValue as bad:
                report(RowIssue(row, "buyer_phone", phone, str(bad)))
                ok = False
        placed = values.get("placed_at")
        if placed:
            for column in ("paid_at", "shipped_at"):
                moment = values.get(column)
                if moment is not None and moment < placed:
                    report(
                        RowIssue(
                            row,
                            column,
                            clean_cell(cells[self.index[column]]),
                            _("%(column)s is before placed_at") % {"column": column},
                        )
                    )
                    ok = False
        return values if ok else None

    def _store(
        self, values: dict[str, Any], cells: list[str], row: int, report: Callable[[RowIssue], None]
    ) -> bool:
        code = values.get("store")
        if code is None and self.store_index is not None and clean_cell(cells[self.store_index]):
            return False  # a store cell that is not a code: reported by its parser already
        found = self.stores.of_row(code)
        if isinstance(found, str):
            report(RowIssue(row, "store", code or "", found))
            return False
        values["store_id"] = found
        return True
