"""The import's rules on values that come from a platform, not from a file (the AliExpress pull).

A platform order is given as the text a CSV row would hold, by column (``PLATFORM_COLUMNS``); the
same code as the CSV import then checks and writes it: each value through the same parser
(``columns``, ``shopops.inputs``: one-line text, amounts, dates in the sane window), the same row
checks (``rows``), the same fingerprint of an order untouched since (``history``), the same
ownership rules on an order Shopops holds (``changes``: staff corrections kept, the shop's notes,
money frozen once it moves, forward moves only) and the same writer (``writer``: new orders with
COPY and one ``imported`` event, changes through ``orders.workflow.apply_import_changes``).

What differs from a file: the caller's transaction holds one page, not a whole file; an invalid
order is reported and left out while the page's other orders are written (a file is all or
nothing); times without a zone are read in the platform's zone; the buyer's country is not
required (the platform's order list does not carry it); the events name the platform as their
source rather than a file and row.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from zoneinfo import ZoneInfo

from django.contrib.auth.models import AbstractBaseUser

from ..models import Store
from .changes import Changes
from .history import FINGERPRINTED, Fingerprint
from .result import ImportResult
from .rows import RowParser
from .service import FileRows
from .stores import FileStores
from .writer import Writer

PLATFORM_COLUMNS = [
    "order_id",
    "status",
    "platform_status",
    "placed_at",
    "paid_at",
    "shipped_at",
    "buyer_name",
    "buyer_email",
    "buyer_phone",
    "buyer_country",
    "buyer_language",
    "sku",
    "product_title",
    "quantity",
    "unit_price",
    "total_amount",
    "currency",
    "tracking_number",
    "carrier",
]
REQUIRED = ("order_id", "status", "placed_at", "buyer_name", "sku", "quantity", "total_amount")
# The platform's own status is part of an order's fingerprint: a change of it alone is a change.
FINGERPRINTED_WITH_STATUS = (*FINGERPRINTED, "platform_status")

Written = list[tuple[int, dict[str, Any], Changes | None]]


class PlatformRows:
    """The import's rules for one store's platform orders, a page at a time."""

    def __init__(
        self, store: Store, *, zone: ZoneInfo, source: dict[str, Any], by: AbstractBaseUser | None = None
    ):
        self.by = by
        self.source = source
        self.stores = FileStores(by, store)
        self.parse = RowParser(PLATFORM_COLUMNS, self.stores, zone=zone, required=REQUIRED)
        self.fingerprint = Fingerprint(PLATFORM_COLUMNS, FINGERPRINTED_WITH_STATUS)

    def apply(
        self,
        rows: list[tuple[int, dict[str, str]]],
        *,
        prepare: Callable[[dict[str, Any]], None] | None = None,
        label: str = "",
    ) -> tuple[ImportResult, Written]:
        """Check and write ``rows`` — (number, {column: text}) — in the caller's transaction.

        Returns what was done (counts, each invalid order in ``errors`` and each refused one in
        ``refused``, by its number) and each order written: (order pk, its values, what changed —
        ``None`` for a new order).
        """
        result = ImportResult(file_name=label)
        writer = Writer(result, self.by, source=self.source, track=True)
        file_rows = FileRows(
            PLATFORM_COLUMNS,
            writer,
            result,
            self.stores,
            parse=self.parse,
            fingerprint=self.fingerprint,
            all_or_nothing=False,
            prepare=prepare,
        )
        file_rows.import_chunk(
            [(number, [values.get(c) or "" for c in PLATFORM_COLUMNS]) for number, values in rows]
        )
        return result, writer.written or []
