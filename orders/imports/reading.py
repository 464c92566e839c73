"""Reading an import file: its encoding, its header, its rows as cells (SPEC section 6).

UTF-8, UTF-8 with a BOM and GBK/GB18030 are detected from the bytes (strict decoding of the
whole file, never a guess that lets ``\\ufffd`` or mojibake through); any other file is refused
with a message telling the user how to save it. Header names are English or Chinese, in any
order; unknown, repeated and missing required columns are reported by name.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import hashlib
import io
import queue
import re
import threading
from collections.abc import Callable, Iterator
from typing import Any, BinaryIO

from django.utils.translation import gettext as _

from shopops.csvout import DANGEROUS_PREFIXES

from ..resources import COLUMNS

SAVE_AS_HINT = (
    "Save the file as “CSV UTF-8 (Comma delimited)” in Excel (or as CSV in GBK on a Chinese system) "
    "and import it again."
)


class ImportFileError(Exception):
    """The file as a whole cannot be read (encoding, header, size): nothing was imported."""


# --- encoding -------------------------------------------------------------------------------

_DECODE_CHUNK = 1 << 20
# Characters that never appear in an order file but do in a wrongly decoded one: C0/C1 controls
# and the private-use area (where GB18030 puts byte pairs that no real GBK text uses).
_IMPLAUSIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ue000-\uf8ff\ufffd]")


def _decodes(raw: BinaryIO, encoding: str) -> bool:
    raw.seek(0)
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    try:
        while chunk := raw.read(_DECODE_CHUNK):
            if _IMPLAUSIBLE.search(decoder.decode(chunk)):
                return False
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(raw: BinaryIO) -> str:
    """The encoding of an import file: ``utf-8-sig``, ``utf-8`` or ``gb18030``.

    Raises ``ImportFileError`` for anything else (UTF-16, Shift-JIS, a workbook, binary data)
    with a message telling the user how to save the file. Reads the whole file once or twice.
    """
    raw.seek(0)
    head = raw.read(4096)
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)) or (b"\x00" in head):
        what = (
            _("an Excel workbook") if head.startswith(b"PK\x03\x04") else _("not a CSV text file we can read")
        )
        raise ImportFileError(
            _("This file is %(what)s (it is UTF-16 or binary). %(hint)s")
            % {"what": what, "hint": _(SAVE_AS_HINT)}
        )
    if head.startswith(codecs.BOM_UTF8):
        if _decodes(raw, "utf-8-sig"):
            return "utf-8-sig"
    elif _decodes(raw, "utf-8"):
        return "utf-8"
    elif _decodes(raw, "gb18030"):
        return "gb18030"
    raise ImportFileError(
        _(
            "The file's encoding is not UTF-8 or GBK (Chinese): its text would be garbled, so "
            "nothing was imported. %(hint)s"
        )
        % {"hint": _(SAVE_AS_HINT)}
    )


def sha256_of(raw: BinaryIO) -> str:
    """The SHA-256 of the file's bytes (hex); leaves it at its start."""
    raw.seek(0)
    digest = hashlib.sha256()
    while block := raw.read(1 << 20):
        digest.update(block)
    raw.seek(0)
    return digest.hexdigest()


class CountingReader(io.RawIOBase):
    """Counts the bytes read, for the progress bar (cheap: one call per 8 KB read)."""

    def __init__(self, raw: BinaryIO):
        self.raw = raw
        self.bytes_read = 0

    def readable(self) -> bool:
        return True

    def readinto(self, buffer) -> int:
        data = self.raw.read(len(buffer))
        buffer[: len(data)] = data
        self.bytes_read += len(data)
        return len(data)


# --- header ---------------------------------------------------------------------------------

_HEADER_NAMES: dict[str, str] = {}
for _column in COLUMNS:
    _HEADER_NAMES[_column.name] = _column.name
    _HEADER_NAMES[_column.chinese] = _column.name
_REQUIRED = [c.name for c in COLUMNS if c.required]


def map_header(header: list[str]) -> list[str]:
    """The contract column for each header cell (English or Chinese, any case, any order).

    Raises ``ImportFileError`` naming unknown, repeated and missing required columns.
    """
    mapped: list[str] = []
    unknown, repeated = [], []
    for cell in header:
        name = _HEADER_NAMES.get(cell.strip().lstrip("\ufeff").strip().lower()) or _HEADER_NAMES.get(
            cell.strip().lstrip("\ufeff").strip()
        )
        if name is None:
            unknown.append(cell.strip())
        elif name in mapped:
            repeated.append(cell.strip())
        mapped.append(name or "")
    missing = [name for name in _REQUIRED if name not in mapped]
    problems = []
    if unknown:
        problems.append(
            _("unknown column(s): %(columns)s") % {"columns": ", ".join(f"“{c}”" for c in unknown)}
        )
    if repeated:
        problems.append(
            _("column(s) given twice: %(columns)s") % {"columns": ", ".join(f"“{c}”" for c in repeated)}
        )
    if missing:
        problems.append(
            _("missing required column(s): %(columns)s")
            % {"columns": ", ".join(f"“{c}” ({_chinese(c)})" for c in missing)}
        )
    if problems:
        raise ImportFileError(
            _("The header row cannot be read: %(problems)s. The columns are: %(expected)s.")
            % {"problems": "; ".join(problems), "expected": ", ".join(c.name for c in COLUMNS)}
        )
    return mapped


def _chinese(name: str) -> str:
    return next(c.chinese for c in COLUMNS if c.name == name)


# --- rows -----------------------------------------------------------------------------------


def open_csv(source: BinaryIO) -> tuple[CountingReader, Iterator[list[str]]]:
    """The one CSV reader of both imports (orders and feedback): a byte counter, and the rows.

    Raises ``ImportFileError`` for a file whose encoding is not UTF-8 or GBK/GB18030. Iterating
    raises ``csv.Error`` on a malformed line or a cell over ``csv.field_size_limit()`` (131,072
    characters): each import reports it with ``not_csv_message`` where it happened.
    """
    encoding = detect_encoding(source)
    source.seek(0)
    counter = CountingReader(source)
    text = io.TextIOWrapper(io.BufferedReader(counter, 1 << 16), encoding=encoding, newline="")
    return counter, csv.reader(text)


def not_csv_message(error: csv.Error) -> str:
    """What a user is told about the line the CSV reader could not read."""
    return _("the file is not valid CSV here: %(error)s") % {"error": error}


def open_rows(source: BinaryIO) -> tuple[CountingReader, list[str], Iterator[list[str]]]:
    """The file's byte counter, its header as contract columns, and the rest of it as cells.

    Raises ``ImportFileError`` for a file that cannot be decoded, is empty or has a bad header.
    """
    counter, reader = open_csv(source)
    try:
        header_cells = next(reader)
    except StopIteration:
        raise ImportFileError(_("The file is empty: it has no header row and no orders.")) from None
    except csv.Error as error:
        raise ImportFileError(_("The file is not a CSV file: %(error)s") % {"error": error}) from None
    return counter, map_header(header_cells), reader


def chunks(reader: Iterator[list[str]], size: int) -> Iterator[list[tuple[int, list[str]]]]:
    """The rows as (spreadsheet row number, cells), ``size`` at a time; blank lines left out."""
    chunk: list[tuple[int, list[str]]] = []
    for row, cells in enumerate(reader, start=2):  # the header is row 1, as in a spreadsheet
        if not (cells and cells[0].strip()) and not "".join(cells).strip():
            continue  # Excel leaves empty lines (",,,,") at the end of a sheet
        chunk.append((row, cells))
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


Chunk = list[tuple[int, list[str]]]
_END = object()


class ReadAhead:
    """The rows of ``reader`` as :func:`chunks` of ``size``, each with ``prepare(chunk)``, read by
    a thread one chunk ahead of the one being imported.

    Reading the next chunk (decoding, the csv module, ``prepare``: string work only — no
    database, no translation) then runs while the importing thread waits for PostgreSQL (a
    COPY's end, the commit) instead of after it. A ``csv.Error`` is raised where the reading
    stopped, as it would be without the thread. Leaving the ``with`` block stops the thread.
    """

    def __init__(self, reader: Iterator[list[str]], size: int, prepare: Callable[[Chunk], Any]):
        self._reader, self._size, self._prepare = reader, size, prepare
        self._queue: queue.Queue = queue.Queue(maxsize=1)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._read, name="import-read-ahead", daemon=True)

    def __enter__(self) -> ReadAhead:
        self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        while self._thread.is_alive():
            with contextlib.suppress(queue.Empty):
                self._queue.get(timeout=0.05)  # unblock a put waiting for room
        self._thread.join()

    def __iter__(self) -> Iterator[tuple[Chunk, Any]]:
        while True:
            item = self._queue.get()
            if item is _END:
                return
            if isinstance(item, BaseException):
                raise item
            yield item

    def _read(self) -> None:
        try:
            for chunk in chunks(self._reader, self._size):
                if not self._put((chunk, self._prepare(chunk))):
                    return
            self._put(_END)
        except BaseException as error:
            self._put(error)  # raised in the importing thread, where the reading stopped

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._queue.put(item, timeout=0.05)
            except queue.Full:
                continue
            return True
        return False


def clean_cell(cell: str) -> str:
    """A cell's value: stripped, and without the quote our export puts before formula-like text."""
    value = cell.strip()
    if value[:1] == "'" and value[1:2].startswith(DANGEROUS_PREFIXES):
        value = value[1:].strip()
    return value
