"""Writing an import's checked rows: the one place an import writes orders.

New orders are inserted in bulk (PostgreSQL ``COPY`` through :mod:`shopops.pgcopy`,
``bulk_create`` elsewhere) in the file's status and their row's store, each with one
``imported`` history event (:func:`orders.workflow.events.event_values`); SKUs are created
by code and supplier orders created or updated.

On PostgreSQL a chunk's new orders are *streamed*: the checked rows come from a generator
(the parser working through the chunk) straight into the orders' ``COPY``, so PostgreSQL
stores and indexes each batch on the other core while this one parses the next. What the
COPY needs of the database is read before it starts (the SKUs the chunk names, its orders'
ids from the sequence): a row whose SKU is not in Shopops yet, and every row of an order
Shopops holds, is written after it, as on any other database.

A changed existing order is applied by the workflow (``orders.workflow.apply_import_changes``:
row lock, fields, forward moves with one history event each) in its own savepoint; a refusal
undoes that row only and is reported.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction
from django.utils import timezone

from shopops import pgcopy
from shopops.errors import Refused

from .. import workflow
from ..models import Order, OrderEvent, Sku, SupplierOrder
from .changes import COMPARED, SUPPLIER_FIELDS, TRACKED_FIELDS, Changes, plan_changes
from .history import Entry, Fingerprint, corrected_fields, refunded, stamp
from .lines import NewOrderLines, event_row, order_row, supplier_row
from .result import ImportResult, RowIssue

Rows = list[tuple[int, dict[str, Any]]]  # (spreadsheet row number, checked values)


class Writer:
    """Writes one file's chunks of checked rows, counting what it did in ``result``."""

    def __init__(
        self,
        result: ImportResult,
        by: AbstractBaseUser | None,
        *,
        source: dict[str, Any] | None = None,
        track: bool = False,
    ):
        self.result = result
        self.by = by
        # What the history events say the values came from: the file and row (a CSV import), or
        # ``source`` (the AliExpress pull: the platform and the store).
        self.source = source
        # With ``track``: (order pk, row values, what changed — None for a new order) of each row
        # written, for the pull's follow-ups (orders.platforms.sync).
        self.written: list[tuple[int, dict[str, Any], Changes | None]] | None = [] if track else None
        self.now = timezone.now()
        self.sku_ids: dict[str, int] = {}
        self.untitled: dict[str, int] = {}  # SKUs found without a title, not given one yet
        self.order_pks: list[int] = []  # the orders of the file's rows, as far as applied
        self.ids: deque[int] = deque()  # new orders' ids drawn from the sequence, not used yet
        self._lines: NewOrderLines | None = None

    # --- which rows are unchanged ------------------------------------------------------------

    def probe(self, entries: Iterable[Entry], fingerprint: Fingerprint) -> tuple[set[int], dict[str, int]]:
        """Which ``entries`` — (position, order id, status, store id, fingerprint text) — are
        unchanged, and which of their order ids Shopops already holds (→ the order's store id).

        A row is unchanged when its order exists, in the row's store (one the user may import
        into), still has the row's status, and its fingerprint is this row's digest stamped with
        the order's current ``updated_at``. One query reads the orders the entries name; only
        the rows of orders Shopops holds are hashed.
        """
        entries = list(entries)
        stored = self._stored([entry[1] for entry in entries])
        unchanged = set()
        digest = fingerprint.digest
        for position, order_id, status, store, text in entries:
            record = stored.get(order_id)
            if (
                record is not None
                and record[1] == status
                and record[4] == store
                and record[0] == digest(text) + record[2]
            ):
                unchanged.add(position)
                self.order_pks.append(record[3])
        return unchanged, {pid: record[4] for pid, record in stored.items()}

    @staticmethod
    def _stored(order_ids: list[str]) -> dict[str, tuple[str, str, str, int, int]]:
        """The orders Shopops holds among ``order_ids``: id → (fingerprint, status, the stamp a
        fingerprint of it now ends with (``history.stamp``), pk, store id)."""
        if not order_ids:
            return {}
        if connection.vendor == "postgresql":
            # One array parameter (not 10,000 placeholders), and the unique index probed once
            # per id even when the table's statistics are stale after a big import. The stamp
            # is computed by the database: no timestamp converted per row.
            with connection.cursor() as cursor, pgcopy.index_lookups(cursor):
                cursor.execute(
                    "SELECT platform_order_id, import_hash, status, "
                    "':' || ((EXTRACT(EPOCH FROM updated_at) * 1000000)::bigint)::text, id, store_id "
                    "FROM orders_order WHERE platform_order_id = ANY(%s::varchar[])",
                    [order_ids],
                )
                return {pid: record for pid, *record in cursor.fetchall()}
        found = Order.objects.filter(platform_order_id__in=order_ids).values_list(
            "platform_order_id", "import_hash", "status", "updated_at", "id", "store_id"
        )
        return {pid: (fp, status, stamp(updated), pk, store) for pid, fp, status, updated, pk, store in found}

    # --- one chunk --------------------------------------------------------------------------

    def apply(
        self,
        rows: Iterable[tuple[int, dict[str, Any]]],
        known: Collection[str],
        *,
        skus: Collection[str] = (),
        new: int = 0,
        proceed: Callable[[], bool] = lambda: True,
    ) -> None:
        """Write one chunk of checked rows; ``known`` are the ids among them already in Shopops.

        ``rows`` may be a generator that checks them as they are asked for: on PostgreSQL, the
        rows of new orders are written as they come (``skus``: the codes the chunk's cells
        name, looked up first; ``new``: at most how many new orders it has). Once ``proceed()``
        is false (an invalid row in a file that is all or nothing) nothing more is written.
        """
        if connection.vendor == "postgresql":
            later = self._stream(rows, known, skus, new, proceed)
        else:
            later = list(rows)
        if later and proceed():
            self._apply(later, known)

    def _apply(self, rows: Rows, known: Collection[str]) -> None:
        """Write checked rows one chunk at a time (the ones a stream left: orders Shopops holds,
        new SKUs; every row on SQLite)."""
        self._skus(rows)
        ids = [values["order_id"] for _row, values in rows if values["order_id"] in known]
        existing = (
            {
                record["platform_order_id"]: record
                for record in Order.objects.filter(platform_order_id__in=ids).values(*COMPARED)
            }
            if ids
            else {}
        )
        self._create([(row, values) for row, values in rows if values["order_id"] not in existing])
        old_rows = [(row, values) for row, values in rows if values["order_id"] in existing]
        if old_rows:
            self._existing(old_rows, existing)

    def _differs(self, values: dict[str, Any], record: dict[str, Any], suppliers: dict) -> bool:
        try:
            return bool(
                plan_changes(values, record, self.sku_ids[values["sku"]], suppliers.get(record["id"], []))
            )
        except Refused:
            return True

    # --- SKUs -------------------------------------------------------------------------------

    def _look_up_skus(self, codes: Iterable[str]) -> None:
        """Read the SKUs of ``codes`` Shopops holds (not looked up yet); creates none."""
        wanted = [code for code in codes if code and code not in self.sku_ids]
        if not wanted:
            return
        for code, pk, title in Sku.objects.filter(code__in=wanted).values_list("code", "id", "title"):
            self.sku_ids[code] = pk
            if not title:
                self.untitled[code] = pk

    def _title(self, code: str, title: str | None, titles: dict[int, str]) -> None:
        """The first row naming an untitled SKU gives it its title (when it has one)."""
        pk = self.untitled.pop(code)
        if title:
            titles[pk] = title

    def _skus(self, rows: Rows) -> None:
        """The SKUs of ``rows``: looked up, given a title, created when Shopops has none."""
        titles: dict[str, str] = {}
        for _row, values in rows:
            if values["sku"] not in self.sku_ids or values["sku"] in self.untitled:
                titles.setdefault(values["sku"], values.get("product_title", ""))
        if not titles:
            return
        self._look_up_skus(titles)
        given: dict[int, str] = {}
        for code in [code for code in titles if code in self.untitled]:
            self._title(code, titles[code], given)
        self._give_titles(given)
        missing = [
            Sku(code=code, title=title, created_at=self.now)
            for code, title in titles.items()
            if code not in self.sku_ids
        ]
        if missing:
            Sku.objects.bulk_create(missing, batch_size=1000)
            for sku in missing:
                self.sku_ids[sku.code] = sku.pk

    @staticmethod
    def _give_titles(titles: dict[int, str]) -> None:
        for pk, title in titles.items():
            Sku.objects.filter(pk=pk).update(title=title)

    # --- new orders -------------------------------------------------------------------------

    def _stream(
        self,
        rows: Iterable[tuple[int, dict[str, Any]]],
        known: Collection[str],
        skus: Collection[str],
        new: int,
        proceed: Callable[[], bool],
    ) -> Rows:
        """PostgreSQL: COPY the new orders among ``rows`` as the generator yields them; the rows
        it cannot write yet (an order Shopops holds, a SKU it does not) are returned."""
        if new <= 0:
            return list(rows)  # every order is one Shopops holds: nothing to stream
        self._look_up_skus(skus)
        self._draw_ids(new)
        sku_ids, ids = self.sku_ids, self.ids
        later: Rows = []
        titles: dict[int, str] = {}

        def writable() -> Iterator[tuple[int, dict[str, Any]]]:
            for row, values in rows:
                code = values["sku"]
                if values["order_id"] in known or code not in sku_ids or not ids:
                    later.append((row, values))
                    continue
                if code in self.untitled:
                    self._title(code, values.get("product_title"), titles)
                yield row, values

        self._copy_new(writable(), proceed)
        if titles and proceed():
            self._give_titles(titles)
        return later

    def _draw_ids(self, count: int) -> None:
        """Have at least ``count`` new orders' ids at hand (drawn from the sequence in one query)."""
        if count > len(self.ids):
            with connection.cursor() as cursor:
                self.ids.extend(pgcopy.next_ids(cursor, Order, count - len(self.ids)))

    def _create(self, rows: Rows) -> None:
        """Insert new orders (their SKUs known): a COPY on PostgreSQL, ``bulk_create`` elsewhere."""
        if not rows:
            return
        if connection.vendor == "postgresql":
            self._draw_ids(len(rows))
            self._copy_new(iter(rows))
            return
        orders = [Order(**order_row(values, self.sku_ids[values["sku"]], self.now)) for _row, values in rows]
        Order.objects.bulk_create(orders, batch_size=500)
        actor_id = self.by.pk if self.by is not None else None
        events, suppliers = [], []
        for (row, values), order in zip(rows, orders, strict=True):
            events.append(OrderEvent(**event_row(order.pk, values, self._where(row), actor_id, self.now)))
            supplier = supplier_row(values, order.pk, self.now)
            if supplier is not None:
                suppliers.append(SupplierOrder(**supplier))
        OrderEvent.objects.bulk_create(events, batch_size=500)
        SupplierOrder.objects.bulk_create(suppliers, batch_size=500)
        self._created([(order.pk, row, values) for (row, values), order in zip(rows, orders, strict=True)])

    def _where(self, row: int) -> dict[str, Any]:
        return self.source if self.source is not None else {"file": self.result.file_name, "row": row}

    def _copy_new(
        self, rows: Iterator[tuple[int, dict[str, Any]]], proceed: Callable[[], bool] = lambda: True
    ) -> None:
        """COPY new orders as ``rows`` yields them (one id each from ``self.ids``), then their
        events and supplier orders."""
        if self._lines is None:
            actor_id = self.by.pk if self.by is not None else None
            self._lines = NewOrderLines(
                self.now, actor_id=actor_id, file_name=self.result.file_name, source=self.source
            )
        lines, sku_ids, ids = self._lines, self.sku_ids, self.ids
        written: list[tuple[int, int, dict[str, Any]]] = []  # (order pk, row, values)

        def orders() -> Iterator[list[Any]]:
            for row, values in rows:
                pk = ids.popleft()
                written.append((pk, row, values))
                yield lines.order(values, pk, sku_ids[values["sku"]])

        with connection.cursor() as cursor:
            pgcopy.copy_rows(cursor, lines.orders, orders())
            if not written or not proceed():
                return
            events = (lines.event(pk, row, values) for pk, row, values in written)
            pgcopy.copy_rows(cursor, lines.events, events)
            suppliers = (lines.supplier(pk, values) for pk, _row, values in written)
            pgcopy.copy_rows(cursor, lines.suppliers, (supplier for supplier in suppliers if supplier))
        self._created(written)

    def _created(self, written: list[tuple[int, int, dict[str, Any]]]) -> None:
        self.order_pks.extend(pk for pk, _row, _values in written)
        self.result.new += len(written)
        if self.written is not None:
            self.written.extend((pk, values, None) for pk, _row, values in written)

    # --- existing orders -------------------------------------------------------------------

    def _existing(self, rows: Rows, existing: dict[str, dict[str, Any]]) -> None:
        """Rows of orders Shopops holds (``existing``: each as read, by order id)."""
        pks = [existing[v["order_id"]]["id"] for _r, v in rows]
        suppliers = self._supplier_orders(pks)
        # Who owns what is read only for the orders the file would change (one query each).
        candidates = [
            existing[values["order_id"]]["id"]
            for _row, values in rows
            if self._differs(values, existing[values["order_id"]], suppliers)
        ]
        corrected = corrected_fields(candidates, TRACKED_FIELDS)
        with_refund = refunded(candidates)
        fields_only: list[tuple[int, dict[str, Any], dict[str, Any], Changes]] = []
        for row, values in rows:
            record = existing[values["order_id"]]
            self.order_pks.append(record["id"])
            changes = self._plan(
                row,
                values,
                record,
                suppliers.get(record["id"], []),
                corrected.get(record["id"], set()),
                record["id"] in with_refund,
            )
            if changes is None:
                continue
            if changes.moves or changes.supplier:
                self._update(row, values, record, changes)
            else:
                fields_only.append((row, values, record, changes))
        self._update_fields(fields_only)

    @staticmethod
    def _supplier_orders(order_pks: list[int]) -> dict[int, list[dict[str, Any]]]:
        found: dict[int, list[dict[str, Any]]] = {}
        records = SupplierOrder.objects.filter(order_id__in=order_pks).order_by("id")
        for record in records.values("id", "order_id", *SUPPLIER_FIELDS.values()):
            found.setdefault(record["order_id"], []).append(record)
        return found

    def _plan(
        self,
        row: int,
        values: dict[str, Any],
        record: dict[str, Any],
        supplier_orders: list[dict[str, Any]],
        corrected: set[str],
        has_refund: bool,
    ) -> Changes | None:
        """What the row changes; ``None`` when it changes nothing or is refused (both reported)."""
        try:
            changes = plan_changes(
                values,
                record,
                self.sku_ids[values["sku"]],
                supplier_orders,
                corrected=corrected,
                has_refund=has_refund,
            )
        except Refused as refused:
            self._refused(row, refused, values.get("platform_status") or values["status"], values)
            return None
        if not changes:
            self._kept(row, changes)
            self.result.unchanged += 1  # the common case on a re-import: no write, no lock
            return None
        return changes

    def _update_fields(self, rows: list[tuple[int, dict[str, Any], dict[str, Any], Changes]]) -> None:
        """Rows that only change fields of their order: applied together (a constant number of
        statements, ``workflow.apply_import_changes_batch``); an order changed since it was read
        is applied on its own, planned again under its lock."""
        if not rows:
            return
        stale = workflow.apply_import_changes_batch(
            [
                (record["id"], values, record, changes, (self.result.file_name, row))
                for row, values, record, changes in rows
            ],
            by=self.by,
            source=self.source,
        )
        for row, values, record, changes in rows:
            if record["id"] in stale:
                self._update(row, values, record, changes)
                continue
            self._kept(row, changes)
            self.result.updated += 1
            if self.written is not None:
                self.written.append((record["id"], values, changes))

    def _update(self, row: int, values: dict[str, Any], record: dict[str, Any], changes: Changes) -> None:
        shown = values.get("platform_status") or values["status"]
        try:
            # A savepoint per changed row: a refusal undoes this row only.
            with transaction.atomic():
                applied = workflow.apply_import_changes(
                    record["id"],
                    by=self.by,
                    values=values,
                    seen=record,
                    sku_id=self.sku_ids[values["sku"]],
                    changes=changes,
                    file=(self.result.file_name, row),
                    source=self.source,
                )
        except Refused as refused:
            self._refused(row, refused, shown, values)
            return
        self._kept(row, applied)
        if not applied:
            self.result.unchanged += 1
            return
        self.result.updated += 1
        self.result.moves += len(applied.moves)
        if self.written is not None:
            self.written.append((record["id"], values, applied))

    def _refused(self, row: int, refused: Refused, shown: str, values: dict[str, Any]) -> None:
        column = refused.field or "status"
        value = shown if column == "status" else str(values.get(column, ""))
        self.result.add_refused(RowIssue(row, column, value, refused.message))

    def _kept(self, row: int, changes: Changes) -> None:
        for kept in changes.kept:
            self.result.add_kept(RowIssue(row, kept.field, str(kept.in_file), kept.message()))
