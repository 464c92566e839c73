"""The order import (SPEC section 6): one engine for the admin screen and ``import_orders``.

The rules, in the order the engine applies them:

1. **Encoding and header** (``reading``). UTF-8, UTF-8 with a BOM and GBK/GB18030, detected
   from the bytes; English or Chinese column names in any order. Anything else is refused as a
   whole with a message saying how to save the file.
2. **Rows** (``columns``, ``rows``). Each value is parsed and normalised (platform-zone times →
   UTC, currency signs stripped, phone numbers to E.164, country / currency / email / status
   checked). Every bad value is reported with its spreadsheet row number (the header is row 1),
   column, value and why; a duplicate ``order_id`` too.
   **Stores** (``stores``, SPEC section 11): each row's store is its ``store`` cell, else the
   store chosen for the file, else the only store; a file naming none while there are several
   is refused, naming them. A store that does not exist or that the importing user does not
   work for is a row error naming it; each code is looked up once. An order Shopops holds in
   another store is refused (an order never moves), or a row error when the user does not
   work for that store.
3. **All or nothing.** The whole file runs in one transaction, streamed in chunks so memory stays
   bounded; one invalid row anywhere and the transaction is rolled back — nothing is written
   (on PostgreSQL a chunk's new orders stream into their COPY as its rows are checked: rows
   before an invalid one may have reached the database, and are rolled back with the rest).
   A dry run (the admin's preview) does everything and always rolls back. A thread reads the
   file one chunk ahead (``reading.ReadAhead``: string work only) while the import waits for
   the database.
4. **Writes** (``changes``, ``writer``). New orders are inserted in bulk in the file's status,
   each with one ``imported`` history event; existing orders are compared field by field and
   move *forward only*, through ``orders.workflow``. A row that may not be applied is reported
   as *refused* and nothing of it is applied. Blank optional cells never erase anything.
5. **One at a time.** On PostgreSQL an import (or a preview) holds a transaction-level advisory
   lock while it writes: two imports naming the same new order run one after the other (the
   second then finds the order), and one that waits longer than ``LOCK_WAIT_SECONDS`` is refused
   as *not done, try again*. A database error is reported the same way — never half written.
6. **History** (``history``). An applied import is recorded (``OrderImport``). The very same
   bytes imported again, while none of the file's orders has changed since an import of them
   that refused nothing, into the same store, change nothing: that is said at once, without
   reading a row, to a user who works for its store. Any other file is checked row by row —
   where a row's fingerprint shows it was applied as it is, in its store, and its order
   untouched since, without parsing it.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import io
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, BinaryIO

from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, connection, transaction
from django.utils.translation import gettext as _

from shopops.errors import Refused

from .. import policy
from ..models import OrderImport, Store
from .columns import STATUS_VALUES
from .history import FINGERPRINT, Entry, Fingerprint, file_rules, record_import, same_file
from .reading import ImportFileError, ReadAhead, clean_cell, not_csv_message, open_rows, sha256_of
from .result import ImportResult, RowIssue
from .rows import RowParser
from .stores import FileStores, chosen_store
from .writer import Writer

__all__ = ["ImportFileError", "ImportResult", "RowIssue", "import_orders"]

CHUNK_ROWS = 10_000
LOCK_KEY = 0x5_0F_0A_12  # the advisory lock every import takes while it writes (PostgreSQL)
LOCK_WAIT_SECONDS = 120.0


class ImportBusy(Exception):
    """Another import kept the import lock longer than ``LOCK_WAIT_SECONDS``."""


def _one_import_at_a_time() -> None:
    """Wait for the import lock (held until the transaction ends), or raise ``ImportBusy``.

    Imports create orders and SKUs by their unique codes with COPY: two at once would collide
    on the same new code (a unique violation) instead of the second seeing the first's order.
    """
    if connection.vendor != "postgresql":
        return  # SQLite runs one writing transaction at a time anyway
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    with connection.cursor() as cursor:
        while True:
            cursor.execute("SELECT pg_try_advisory_xact_lock(%s)", [LOCK_KEY])
            if cursor.fetchone()[0]:
                return
            if time.monotonic() >= deadline:
                raise ImportBusy
            time.sleep(0.2)


@contextlib.contextmanager
def _no_cyclic_gc() -> Iterator[None]:
    """Pause the cyclic garbage collector while a file is read.

    An import allocates millions of short-lived, acyclic objects (cells, rows, values), which
    keep triggering collections that walk every object the process holds — a third of a
    re-import's time. Reference counting still frees all of them; the collector runs again after.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


class FileRows:
    """Checks a file's rows a chunk at a time and hands the valid ones to the writer.

    A file is all or nothing: after one invalid row, the rows are only checked, never written.
    The AliExpress pull (``orders.imports.values``) runs the same rules on each page of platform
    orders with ``all_or_nothing=False``: an invalid order is reported and left out, the others
    are written. ``prepare(values)`` completes each checked row before it is planned.
    """

    def __init__(
        self,
        header: list[str],
        writer: Writer,
        result: ImportResult,
        stores: FileStores,
        *,
        parse: RowParser | None = None,
        fingerprint: Fingerprint | None = None,
        all_or_nothing: bool = True,
        prepare: Callable[[dict[str, Any]], None] | None = None,
    ):
        self.parse = parse or RowParser(header, stores)
        self.fingerprint = fingerprint or Fingerprint(header)
        self.all_or_nothing = all_or_nothing
        self.prepare = prepare
        self.width = len(header)
        self.id_index, self.status_index = header.index("order_id"), header.index("status")
        self.store_index = header.index("store") if "store" in header else None
        self.sku_index = header.index("sku") if "sku" in header else None
        self.stores = stores
        self.writer = writer
        self.result = result
        self.seen: dict[str, int] = {}  # order id → the row it was first seen on

    def read(self, chunk: list[tuple[int, list[str]]]) -> ChunkCells:
        """What the probe needs of each row, read from its cells alone (no database, no
        translation: the read-ahead thread runs it while this one waits for PostgreSQL)."""
        cells = ChunkCells(chunk)
        width, id_index, status_index = self.width, self.id_index, self.status_index
        store_index, sku_index, text_of = self.store_index, self.sku_index, self.fingerprint.text
        for position, (_row, row_cells) in enumerate(chunk):
            if len(row_cells) != width:
                continue
            order_id = cells.ids[position] = clean_cell(row_cells[id_index])
            if store_index is not None:
                code = cells.stores[position] = clean_cell(row_cells[store_index])
                cells.store_codes.add(code)
            if not order_id:
                continue
            cells.statuses[position] = STATUS_VALUES.get(clean_cell(row_cells[status_index]), "")
            cells.texts[position] = text_of(row_cells)
            if sku_index is not None:
                cells.sku_codes.add(clean_cell(row_cells[sku_index]))
            cells.positions.append(position)
        return cells

    def import_chunk(self, chunk: list[tuple[int, list[str]]], cells: ChunkCells | None = None) -> None:
        """Check and write one chunk; ``cells``: what :meth:`read` found in it, if read already."""
        result = self.result
        result.rows += len(chunk)
        cells = cells if cells is not None else self.read(chunk)
        # First the id, status and fingerprint of each well-formed row, and which of them
        # Shopops holds unchanged (one round trip), to skip those without parsing.
        self._look_up_stores(cells)
        stores: list[int | None] = [None] * len(chunk)  # each row's store, as probed
        entries = list(self._entries(cells, stores))
        unchanged, known = self.writer.probe(entries, self.fingerprint)
        # An order held in another store is answered after the chunk (its answer may read the
        # database, which the stream of new orders occupies meanwhile).
        conflicts: list[tuple[int, dict[str, Any], int]] = []
        checked = self._checked(chunk, cells.ids, cells.texts, stores, unchanged, known, conflicts)
        if self._writing():
            new = sum(1 for _position, order_id, *_rest in entries if order_id not in known)
            self.writer.apply(checked, known, skus=cells.sku_codes, new=new, proceed=self._writing)
        for _row in checked:
            pass  # after an invalid row, the rest are only checked, never written
        for row, values, current in conflicts:
            self._conflict(row, values, current)

    def _writing(self) -> bool:
        """Are checked rows still written? Not after an invalid one, in a file (all or nothing)."""
        return not (self.all_or_nothing and self.result.error_count)

    def _checked(
        self,
        chunk: list[tuple[int, list[str]]],
        ids: list[str],
        texts: list[str],
        stores: list[int | None],
        unchanged: set[int],
        known: dict[str, int],
        conflicts: list[tuple[int, dict[str, Any], int]],
    ) -> Iterator[tuple[int, dict[str, Any]]]:
        """The chunk's rows checked one by one: each valid row to write, as (row, values); each
        problem reported as it is found."""
        result = self.result
        parse, digest, seen = self.parse, self.fingerprint.digest, self.seen
        for position, (row, cells) in enumerate(chunk):
            if position in unchanged:
                values = None  # imported before as it is, in its store, untouched since: unchanged
                order_id = ids[position]
            else:
                values = parse(cells, row, result.add_error)
                if values is None:
                    continue
                values[FINGERPRINT] = digest(texts[position])
                if self.prepare is not None:
                    self.prepare(values)
                order_id = values["order_id"]
            first = seen.get(order_id)
            if first is not None:
                result.add_error(
                    RowIssue(
                        row,
                        "order_id",
                        order_id,
                        _("order_id '%(id)s' appears more than once in the file (first on row %(first)d)")
                        % {"id": order_id, "first": first},
                    )
                )
                continue
            seen[order_id] = row
            if values is None:
                self.stores.seen.add(stores[position])
                result.unchanged += 1
                continue
            store = values["store_id"]
            self.stores.seen.add(store)
            current = known.get(order_id)
            if current is not None and current != store:
                conflicts.append((row, values, current))
                continue
            if self._writing():
                yield row, values

    def _look_up_stores(self, cells: ChunkCells) -> None:
        """Look up the chunk's new store codes now, and what a row naming none is told when the
        file has no store: the rows are checked while their new orders stream to the database
        (a COPY), when no other query may run on the connection."""
        self.stores.look_up(cells.store_codes)
        if self.stores.default_id is None and (self.store_index is None or "" in cells.store_codes):
            self.stores.choose_message()

    def _conflict(self, row: int, values: dict[str, Any], current: int) -> None:
        """A row of an order Shopops holds in another store: an error, or refused (never moved)."""
        named = bool(values.get("store"))
        error, message = self.stores.conflict(values["order_id"], current, values["store_id"], named)
        if error:
            self.result.add_error(RowIssue(row, "order_id", values["order_id"], message))
        else:
            shown = values["store"] if named else self.stores.code_of(values["store_id"])
            self.result.add_refused(RowIssue(row, "store", shown, message))

    def _entries(self, cells: ChunkCells, stores: list[int | None]) -> Iterator[Entry]:
        store_of, default = self.stores.quietly, self.stores.default_id
        no_store_column = self.store_index is None
        ids, statuses, texts, codes = cells.ids, cells.statuses, cells.texts, cells.stores
        for position in cells.positions:
            store = stores[position] = default if no_store_column else store_of(codes[position])
            yield position, ids[position], statuses[position], store, texts[position]


class ChunkCells:
    """What :meth:`FileRows.read` finds in a chunk's cells, by position: the cleaned order id,
    status, fingerprint text and store cell of each well-formed row (``positions``: those with
    an order id), and the store and SKU codes the chunk names."""

    __slots__ = ("ids", "positions", "sku_codes", "statuses", "store_codes", "stores", "texts")

    def __init__(self, chunk: list[tuple[int, list[str]]]):
        size = len(chunk)
        self.ids: list[str] = [""] * size
        self.statuses: list[str] = [""] * size
        self.texts: list[str] = [""] * size
        self.stores: list[str] = [""] * size
        self.positions: list[int] = []
        self.store_codes: set[str] = set()
        self.sku_codes: set[str] = set()


def import_orders(
    source: Path | str | BinaryIO,
    *,
    by: AbstractBaseUser | None = None,
    store: Store | str | None = None,
    dry_run: bool = False,
    file_name: str | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Import an order file (SPEC section 6) all or nothing; see the module docstring for the rules.

    ``by`` is the importing user (their permissions apply to the status moves, their stores to
    the rows) or ``None`` for the system (every store). ``store`` (a Store or its code) is the
    store of the rows that name none (SPEC section 11; ``orders.imports.stores``). ``dry_run``
    does everything and rolls back: the preview. ``progress(done, total)`` is called with bytes
    read after each chunk. Writes orders, SKUs, supplier orders and history events in one
    transaction, or nothing when the file has any invalid row.
    """
    if isinstance(source, str | Path):
        with open(source, "rb") as raw:
            return import_orders(
                raw,
                by=by,
                store=store,
                dry_run=dry_run,
                file_name=file_name or Path(source).name,
                progress=progress,
            )
    result = ImportResult(file_name=file_name or getattr(source, "name", "") or "orders.csv", dry_run=dry_run)
    try:
        stores = FileStores(by, chosen_store(by, store))
    except Refused as refused:
        result.file_error = refused.message
        return result
    source.seek(0, io.SEEK_END)
    total_bytes = source.tell()
    sha256 = sha256_of(source)
    try:
        _import_file(source, result, sha256, total_bytes, stores, dry_run=dry_run, progress=progress)
    except ImportBusy:
        result.failed = _(
            "The import did not happen: another import was running for more than %(seconds)d "
            "seconds. Nothing was written; try again in a moment."
        ) % {"seconds": LOCK_WAIT_SECONDS}
    except DatabaseError as error:
        result.failed = _(
            "The import did not happen: the database reported an error (%(error)s). Nothing was "
            "written; it can be tried again."
        ) % {"error": str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__}
    if result.invalid:
        result.new = result.updated = result.unchanged = result.moves = 0
        result.refused, result.refused_count = [], 0
        result.kept, result.kept_count = [], 0
    return result


def _vouches(previous: OrderImport | None, by: AbstractBaseUser | None) -> bool:
    """May ``by`` be told an earlier import's file is unchanged? Only if they may see that
    import (they work for its store; for an import of several stores, for every store): else
    its rows are checked one by one, as any other file's."""
    return previous is not None and policy.visible(by, previous)


def _import_file(
    source: BinaryIO,
    result: ImportResult,
    sha256: str,
    total_bytes: int,
    stores: FileStores,
    *,
    dry_run: bool,
    progress: Callable[[int, int], None] | None,
) -> None:
    by = stores.by
    rules = file_rules(stores.default_id)
    with transaction.atomic():
        previous = same_file(sha256, rules)
        if _vouches(previous, by):
            result.rows = result.unchanged = previous.rows
            result.same_as = previous
            if not dry_run:
                record_import(result, None, sha256, by, file_rules=rules, store_id=previous.store_id)
            return
    try:
        counter, header, reader = open_rows(source)
        if "store" not in header and stores.default is None:
            raise ImportFileError(stores.choose_message())
        writer = Writer(result, by)
        file_rows = FileRows(header, writer, result, stores)
        with transaction.atomic(), _no_cyclic_gc(), ReadAhead(reader, CHUNK_ROWS, file_rows.read) as read:
            _one_import_at_a_time()
            try:
                for chunk, cells in read:
                    file_rows.import_chunk(chunk, cells)
                    if progress is not None:
                        progress(counter.bytes_read, total_bytes)
            except csv.Error as error:
                result.add_error(
                    RowIssue(
                        result.rows + 2,
                        "",
                        "",
                        not_csv_message(error),
                    )
                )
            if result.error_count or dry_run:
                transaction.set_rollback(True)
            elif result.rows:
                only = next(iter(stores.seen)) if len(stores.seen) == 1 else None
                record_import(result, writer.order_pks, sha256, by, file_rules=rules, store_id=only)
        if not result.rows and not result.error_count:
            raise ImportFileError(_("The file has a header row but no orders."))
    except ImportFileError as error:
        result.file_error = str(error)
