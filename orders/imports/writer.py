"""Writing an import's checked rows: the one place an import writes orders.

New orders are inserted in bulk (PostgreSQL ``COPY`` through :mod:`shopops.pgcopy`,
``bulk_create`` elsewhere) in the file's status and their row's store, each with one
``imported`` history event (:func:`orders.workflow.events.event_values`); SKUs are created
by code and supplier orders created or updated. A changed existing order is applied by the
workflow (``orders.workflow.apply_import_changes``: row lock, fields, forward moves with one
history event each) in its own savepoint; a refusal undoes that row only and is reported.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Iterator
from datetime import datetime
from typing import Any

from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, models, transaction
from django.utils import timezone

from shopops import pgcopy
from shopops.errors import Refused

from .. import workflow
from ..models import Order, OrderEvent, Sku, SupplierOrder, purchase_status_for
from ..workflow.events import event_values
from .changes import COMPARED, ORDER_FIELDS, SUPPLIER_FIELDS, TRACKED_FIELDS, Changes, plan_changes
from .history import FINGERPRINT, Entry, Fingerprint, corrected_fields, refunded, stamped
from .result import ImportResult, RowIssue

Rows = list[tuple[int, dict[str, Any]]]  # (spreadsheet row number, checked values)
NULL = "\\N"  # COPY's text format for a missing value


def _insert(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    now: datetime,
    *,
    returning: bool = True,
    plain: bool = False,
) -> list[int]:
    """Insert ``rows`` (attname → value): COPY on PostgreSQL, ``bulk_create`` elsewhere; their
    primary keys in order (PostgreSQL: only with ``returning``)."""
    if connection.vendor == "postgresql":
        return pgcopy.insert(model, rows, now, returning=returning, plain=plain)
    if not rows:
        return []
    objects = [model(**row) for row in rows]
    model.objects.bulk_create(objects, batch_size=500)
    return [obj.pk for obj in objects]


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
        self.probe_table = False  # the temporary table of ``_probe_postgresql`` exists
        self.order_pks: list[int] = []  # the orders of the file's rows, as far as applied
        self.plain = False  # no cell of the current chunk contains a character COPY escapes

    # --- which rows are unchanged ------------------------------------------------------------

    def probe(self, entries: Iterable[Entry], fingerprint: Fingerprint) -> tuple[set[int], dict[str, int]]:
        """Which ``entries`` — (position, order id, status, store id, fingerprint text) — are
        unchanged, and which of their order ids Shopops already holds (→ the order's store id).

        A row is unchanged when its order exists, in the row's store (one the user may import
        into), still has the row's status, and its fingerprint is this row's digest stamped with
        the order's current ``updated_at``.
        """
        if connection.vendor == "postgresql":
            return self._probe_postgresql(entries, fingerprint.seed)
        entries = list(entries)
        found = Order.objects.filter(platform_order_id__in=[entry[1] for entry in entries])
        stored = {
            pid: (stamp, status, updated, pk, store)
            for pid, stamp, status, updated, pk, store in found.values_list(
                "platform_order_id", "import_hash", "status", "updated_at", "id", "store_id"
            )
        }
        unchanged = set()
        for position, order_id, status, store, text in entries:
            record = stored.get(order_id)
            if (
                record is not None
                and record[1] == status
                and record[4] == store
                and record[0] == stamped(fingerprint.digest(text), record[2])
            ):
                unchanged.add(position)
                self.order_pks.append(record[3])
        return unchanged, {pid: record[4] for pid, record in stored.items()}

    def _probe_postgresql(self, entries: Iterable[Entry], seed: str) -> tuple[set[int], dict[str, int]]:
        # The chunk's ids, statuses, stores and fingerprint texts stream to a temporary table in
        # one COPY, and PostgreSQL hashes and compares them in one join: a re-import hashes
        # nothing in Python.
        kept: list[Entry] = []

        def lines() -> Iterator[str]:
            self.plain = True
            for entry in entries:
                _position, order_id, status, store, text = entry
                if pgcopy.needs_escaping(text):  # the id is one of the cells: escaped too
                    order_id, text = pgcopy.escape(order_id), pgcopy.escape(text)
                    self.plain = False
                store_text = NULL if store is None else store
                yield f"{len(kept)}\t{order_id}\t{status}\t{store_text}\t{text}"
                kept.append(entry)

        with connection.cursor() as cursor:
            if not self.probe_table:
                cursor.execute(
                    "CREATE TEMP TABLE IF NOT EXISTS shopops_import_probe "
                    "(pos integer, order_id text, status text, store_id bigint, cells text) ON COMMIT DROP"
                )
                self.probe_table = True
            cursor.execute("TRUNCATE shopops_import_probe")
            pgcopy.copy_lines(cursor, "COPY shopops_import_probe FROM STDIN", lines())
            with pgcopy.index_lookups(cursor):
                cursor.execute(
                    "SELECT p.pos, o.id, o.store_id, o.status = p.status AND o.store_id = p.store_id "
                    "AND o.import_hash = md5(%s || p.cells) "
                    "|| ':' || ((EXTRACT(EPOCH FROM o.updated_at) * 1000000)::bigint)::text "
                    "FROM shopops_import_probe p "
                    "LEFT JOIN orders_order o ON o.platform_order_id = p.order_id",
                    [seed],
                )
                found = cursor.fetchall()
        unchanged, known = set(), {}
        for index, pk, store, same in found:
            if pk is not None:
                position, order_id, _status, _store, _text = kept[index]
                known[order_id] = store
                if same:
                    unchanged.add(position)
                    self.order_pks.append(pk)
        return unchanged, known

    # --- one chunk --------------------------------------------------------------------------

    def apply(self, rows: Rows, known: Collection[str]) -> None:
        """Write one chunk of checked rows; ``known`` are the ids among them already in Shopops."""
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
        new_rows = [(row, values) for row, values in rows if values["order_id"] not in existing]
        old_rows = [(row, values) for row, values in rows if values["order_id"] in existing]
        self._create(new_rows)
        if old_rows:
            pks = [existing[v["order_id"]]["id"] for _r, v in old_rows]
            suppliers = self._supplier_orders(pks)
            # Who owns what is read only for the orders the file would change (one query each).
            candidates = [
                existing[values["order_id"]]["id"]
                for _row, values in old_rows
                if self._differs(values, existing[values["order_id"]], suppliers)
            ]
            corrected = corrected_fields(candidates, TRACKED_FIELDS)
            with_refund = refunded(candidates)
            fields_only: list[tuple[int, dict[str, Any], dict[str, Any], Changes]] = []
            for row, values in old_rows:
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

    def _differs(self, values: dict[str, Any], record: dict[str, Any], suppliers: dict) -> bool:
        try:
            return bool(
                plan_changes(values, record, self.sku_ids[values["sku"]], suppliers.get(record["id"], []))
            )
        except Refused:
            return True

    def _skus(self, rows: Rows) -> None:
        titles: dict[str, str] = {}
        for _row, values in rows:
            if values["sku"] not in self.sku_ids:
                titles.setdefault(values["sku"], values.get("product_title", ""))
        if not titles:
            return
        found = Sku.objects.filter(code__in=list(titles)).values_list("code", "id", "title")
        blank_titles = []
        for code, pk, title in found:
            self.sku_ids[code] = pk
            if not title and titles[code]:
                blank_titles.append((pk, titles[code]))
        for pk, title in blank_titles:
            Sku.objects.filter(pk=pk).update(title=title)
        missing = [
            Sku(code=code, title=title, created_at=self.now)
            for code, title in titles.items()
            if code not in self.sku_ids
        ]
        if missing:
            Sku.objects.bulk_create(missing, batch_size=1000)
            for sku in missing:
                self.sku_ids[sku.code] = sku.pk

    # --- new orders -------------------------------------------------------------------------

    def _order_row(self, values: dict[str, Any]) -> dict[str, Any]:
        order = {field: values[column] for column, field in ORDER_FIELDS.items() if column in values}
        order.update(
            platform_order_id=values["order_id"],
            store_id=values["store_id"],
            status=values["status"],
            sku_id=self.sku_ids[values["sku"]],
            status_changed_at=self.now,
            created_at=self.now,
            updated_at=self.now,
            import_hash=stamped(values[FINGERPRINT], self.now),
        )
        return order

    def _create(self, rows: Rows) -> None:
        if not rows:
            return
        order_ids = _insert(
            Order, [self._order_row(values) for _row, values in rows], self.now, plain=self.plain
        )
        self.order_pks.extend(order_ids)
        events, supplier_orders = [], []
        actor_id = self.by.pk if self.by is not None else None
        file_name = self.result.file_name
        for (row, values), order_id in zip(rows, order_ids, strict=True):
            where = self.source if self.source is not None else {"file": file_name, "row": row}
            events.append(
                event_values(
                    order_id,
                    "imported",
                    from_status="",
                    to_status=values["status"],
                    actor_id=actor_id,
                    created_at=self.now,
                    data={**where, "platform_status": values.get("platform_status")},
                )
            )
            if self.written is not None:
                self.written.append((order_id, values, None))
            supplier = {
                field: values[column] for column, field in SUPPLIER_FIELDS.items() if column in values
            }
            if supplier:
                bought = bool(supplier.get("supplier_order_id")) or supplier.get("amount") is not None
                status = purchase_status_for(values["status"], bought=bought)
                supplier_orders.append(
                    {"order_id": order_id, "created_at": self.now, "status": status, **supplier}
                )
        _insert(OrderEvent, events, self.now, returning=False, plain=self.plain)
        _insert(SupplierOrder, supplier_orders, self.now, returning=False, plain=self.plain)
        self.result.new += len(rows)

    # --- existing orders -------------------------------------------------------------------

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
