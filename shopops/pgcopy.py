"""PostgreSQL ``COPY ... FROM STDIN`` at the physical floor: rows formatted here, written in batches.

Bulk writers (the order import) use it where ``INSERT`` is ten times too slow:

- :func:`insert` streams model rows into their table with one ``COPY`` in text format (a third
  of the cost of psycopg's ``write_row`` for such rows), drawing their ids from the table's
  sequence in one query;
- :func:`copy_lines` streams lines already in COPY text format, a batch at a time;
- :func:`copy_rows` streams rows of Python values in COPY's binary format (:class:`Layout`),
  for a writer that produces its rows as it goes (the order import);
- :func:`escape`, :func:`needs_escaping` and :func:`formatter` turn values into COPY text;
- :func:`index_lookups` makes the planner probe indexes row by row, for the join that follows
  a COPY into a temporary table.

PostgreSQL only: callers keep their own path for other databases.
"""

from __future__ import annotations

import contextlib
import json
import re
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from django.db import connection, models
from psycopg import postgres
from psycopg.adapt import Dumper
from psycopg.pq import Format

NULL = "\\N"
# Rows a COPY write carries: small enough for the server to store and index one batch on the
# other core while this one formats the next.
BATCH_ROWS = 1_000
_CACHE_LIMIT = 50_000  # distinct timestamps whose text is remembered (bounded memory)
_ESCAPES = str.maketrans({"\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r"})


def needs_escaping(text: str) -> bool:
    """Whether ``text`` holds a character COPY text escapes (backslash, tab, newline, CR)."""
    return "\\" in text or "\t" in text or "\n" in text or "\r" in text


def escape(value: str) -> str:
    """``value`` as a COPY text field."""
    # Tabs, newlines and backslashes are the only characters COPY text needs escaped; they are
    # rare, so check (fast, in C) before translating.
    if "\\" in value or not value.isprintable():
        return value.translate(_ESCAPES)
    return value


def _text(value: Any) -> str:
    """Any value as a COPY text field (``\\N`` for NULL)."""
    if isinstance(value, str):
        return escape(value)
    if value is None:
        return NULL
    if value is True or value is False:
        return "t" if value else "f"
    if isinstance(value, datetime):
        return value.isoformat()
    return str(value)  # int, Decimal, date


def _moment(value: datetime | None, _seen: dict[datetime, str] = {}) -> str:  # noqa: B006
    # Rows share their timestamps (a writer's own "now" several times a row, repeated times):
    # remember the text of the ones seen, bounded.
    if value is None:
        return NULL
    text = _seen.get(value)
    if text is None:
        if len(_seen) >= _CACHE_LIMIT:
            _seen.clear()
        text = _seen[value] = value.isoformat()
    return text


def _number(value: Any) -> str:
    return NULL if value is None else str(value)


def formatter(field: models.Field) -> Callable[[Any], str]:
    """The cheapest correct COPY text formatter for the values of ``field``."""
    if isinstance(field, models.JSONField):
        encode = (field.encoder or json.JSONEncoder)(ensure_ascii=False).encode  # one encoder, reused
        return lambda value: escape(encode(value))
    if isinstance(field, models.DateTimeField):
        return _moment
    if isinstance(field, models.CharField | models.TextField) and not field.null:
        return escape
    if isinstance(field, models.DecimalField | models.IntegerField | models.ForeignKey):
        return _number
    return _text


class QueryDuringCopy(RuntimeError):
    """Code producing a COPY's lines ran a query: the connection is busy with the COPY (the
    driver would wait for itself for ever). Whatever the lines need is read before the COPY."""


def _no_query_during_copy(execute, sql, params, many, context):
    raise QueryDuringCopy(f"a query while a COPY streams its lines: {sql[:120]}")


def copy_lines(cursor, statement: str, lines: Iterable[str]) -> None:
    """Run ``COPY ... FROM STDIN`` ``statement`` with ``lines`` (COPY text, without their newline).

    Written a batch at a time: PostgreSQL stores and indexes each batch on the other core while
    this one produces the next — ``lines`` may be a generator doing real work (the import checks
    its rows as they are written). It may not query the database: that raises
    ``QueryDuringCopy`` (the connection is busy with the COPY). A database error is raised as
    Django's (``IntegrityError``, ``OperationalError``, …), like any other query's, not as the
    driver's own.
    """
    with (
        connection.wrap_database_errors,
        connection.execute_wrapper(_no_query_during_copy),
        cursor.copy(statement) as copy,
    ):
        batch: list[str] = []
        for line in lines:
            batch.append(line)
            if len(batch) == BATCH_ROWS:
                batch.append("")
                copy.write("\n".join(batch))
                batch = []
        if batch:
            batch.append("")
            copy.write("\n".join(batch))


class Layout:
    """One model's rows for a *binary* COPY (:func:`copy_rows`), which a caller streams row by row.

    Every concrete column is written (the primary key first, with ``pk``). ``template`` holds
    each column's value for a row that gives none: its model default (``auto_now`` fields:
    ``now``) or what ``fixed`` gives every row; ``position`` says where a row's own value goes.
    Values are Python's own (str, int, Decimal, aware datetime): the driver converts them in C
    to PostgreSQL's binary form, and the server parses no text — a third of the client's work
    of text lines, and less of the server's. A ``jsonb`` value is given as its JSON text.
    """

    def __init__(
        self,
        model: type[models.Model],
        now: datetime,
        *,
        pk: bool = True,
        fixed: dict[str, Any] | None = None,
    ):
        fields = [f for f in model._meta.concrete_fields if not f.primary_key]
        fixed = fixed or {}
        key = model._meta.pk
        self.template: list[Any] = [None] if pk else []
        self.types = [_type_name(key)] if pk else []
        self.position: dict[str, int] = {}
        for f in fields:
            if f.attname in fixed:
                value = fixed[f.attname]
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                value = now
            else:
                value = f.get_default()
            if isinstance(f, models.JSONField):
                value = json.dumps(value, cls=f.encoder, ensure_ascii=False)
            self.position[f.attname] = len(self.template)
            self.template.append(value)
            self.types.append(_type_name(f))
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in [*([key.column] if pk else []), *(f.column for f in fields)])
        self.statement = f"COPY {quote(model._meta.db_table)} ({columns}) FROM STDIN (FORMAT BINARY)"

    def row(self, values: dict[str, Any], pk: int | None = None) -> list[Any]:
        """The row of ``values`` (attname → value)."""
        row = self.template.copy()
        if pk is not None:
            row[0] = pk
        position = self.position
        for name, value in values.items():
            row[position[name]] = value
        return row


def _type_name(field: models.Field) -> str:
    """The PostgreSQL type of ``field``'s column, without its modifier (``varchar(64)`` → ``varchar``)."""
    return re.sub(r"\(.*\)", "", field.db_type(connection) or "").strip()


class _JsonText(Dumper):
    """A ``jsonb`` value given as its JSON text, in the binary form (version 1, then the text)."""

    format = Format.BINARY
    oid = postgres.types["jsonb"].oid

    def dump(self, obj: str) -> bytes:
        return b"\x01" + obj.encode()


def copy_rows(cursor, layout: Layout, rows: Iterable[Sequence[Any]]) -> None:
    """Run ``layout``'s binary COPY with ``rows`` (each a sequence of the layout's columns).

    Streamed as :func:`copy_lines` is (the driver sends each 32 KB it has), with the same rules:
    ``rows`` may be a generator doing real work, but may not query the database
    (``QueryDuringCopy``); a database error is raised as Django's.
    """
    with (
        connection.wrap_database_errors,
        connection.execute_wrapper(_no_query_during_copy),
        cursor.copy(layout.statement) as copy,
    ):
        copy.cursor.adapters.register_dumper(None, _JsonText)  # by oid only: this COPY's jsonb
        copy.set_types(layout.types)
        write_row = copy.write_row
        for row in rows:
            write_row(row)


def next_ids(cursor, model: type[models.Model], count: int) -> list[int]:
    """``count`` new primary keys of ``model`` from its table's sequence, in one query."""
    if count <= 0:
        return []
    cursor.execute(
        # The sequence looked up once, not once a row; the ids come back as one array.
        "SELECT array_agg(nextval(s.seq)) "
        "FROM (SELECT pg_get_serial_sequence(%s, %s)::regclass AS seq) s, generate_series(1, %s)",
        [model._meta.db_table, model._meta.pk.column, count],
    )
    (ids,) = cursor.fetchone()
    return ids


def insert(
    model: type[models.Model],
    rows: list[dict[str, Any]],
    now: datetime,
    *,
    returning: bool = True,
    plain: bool = False,
) -> list[int]:
    """COPY ``rows`` (attname → value) into ``model``'s table; their primary keys, in order (or
    nothing, without ``returning``: the table then numbers them itself).

    Fields the rows leave out get their model default (``auto_now`` fields: ``now``), so a field
    added to the model later still imports. ``plain``: no text value contains a character COPY
    escapes (the caller has checked where they come from), so text is written as it is.
    """
    if not rows:
        return []
    fields = [f for f in model._meta.concrete_fields if not f.primary_key]
    # Each line starts as the defaults' text (after the id); only the values a row gives are
    # formatted.
    template = [""] if returning else []
    slots: dict[str, tuple[int, Callable[[Any], str]]] = {}
    for position, f in enumerate(fields, start=len(template)):
        default = (
            now if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False) else f.get_default()
        )
        format_value = formatter(f)
        template.append(format_value(default))
        slots[f.attname] = (position, format_value)
    table, pk = model._meta.db_table, model._meta.pk.column
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in [*([pk] if returning else []), *(f.column for f in fields)])
    ids: list[int] = []

    def lines() -> Iterator[str]:
        for index, row in enumerate(rows):
            parts = template.copy()
            if returning:
                parts[0] = str(ids[index])
            for name, value in row.items():
                position, format_value = slots[name]
                parts[position] = value if value.__class__ is str and plain else format_value(value)
            yield "\t".join(parts)

    with connection.cursor() as cursor:
        if returning:
            ids = next_ids(cursor, model, len(rows))
        copy_lines(cursor, f"COPY {quote(table)} ({columns}) FROM STDIN", lines())
    return ids


@contextlib.contextmanager
def index_lookups(cursor) -> Iterator[None]:
    """Plan the next statements as nested loops of index lookups.

    A temporary table has no statistics, and a table's are stale right after a big COPY (they
    may say 17,000 rows where there are 200,000): the planner then reads and hashes the whole
    table (0.3 s a statement) instead of probing the index once per row. The penalties that
    forbid those plans make any plan look costly enough to be compiled by the JIT — 0.2 s a
    statement for nothing — so the JIT is off too.
    """
    switches = ("enable_seqscan", "enable_hashjoin", "enable_mergejoin", "jit")
    # One round trip each way (statements without parameters go as one simple query).
    cursor.execute("; ".join(f"SET LOCAL {name} = off" for name in switches))
    yield
    # Not after an error: the transaction is then aborted (and its rollback, to the savepoint
    # or whole, undoes the SET LOCAL anyway).
    cursor.execute("; ".join(f"RESET {name}" for name in switches))
