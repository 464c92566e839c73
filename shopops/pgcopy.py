"""PostgreSQL ``COPY ... FROM STDIN`` at the physical floor: rows formatted here, written in batches.

Bulk writers (the order import) use it where ``INSERT`` is ten times too slow:

- :func:`insert` streams model rows into their table with one ``COPY`` in text format (a third
  of the cost of psycopg's ``write_row`` for such rows), drawing their ids from the table's
  sequence in one query;
- :func:`copy_lines` streams lines already in COPY text format, a batch at a time;
- :func:`escape`, :func:`needs_escaping` and :func:`formatter` turn values into COPY text;
- :func:`index_lookups` makes the planner probe indexes row by row, for the join that follows
  a COPY into a temporary table.

PostgreSQL only: callers keep their own path for other databases.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import Callable, Iterable, Iterator
from datetime import datetime
from typing import Any

from django.db import connection, models

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
    """The COPY text lines of one model's rows, for a COPY that a caller streams row by row.

    Every concrete column is written (the primary key first, with ``pk``): a row's own values
    are formatted by their field's :func:`formatter`; the others hold their model default
    (``auto_now`` fields: ``now``) or the value ``fixed`` gives every row, formatted once.
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
        self.template = [""] if pk else []
        self.slots: dict[str, tuple[int, Callable[[Any], str]]] = {}
        for position, f in enumerate(fields, start=len(self.template)):
            format_value = formatter(f)
            if f.attname in fixed:
                default = fixed[f.attname]
            elif getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                default = now
            else:
                default = f.get_default()
            self.template.append(format_value(default))
            self.slots[f.attname] = (position, format_value)
        table, key = model._meta.db_table, model._meta.pk.column
        quote = connection.ops.quote_name
        columns = ", ".join(quote(c) for c in [*([key] if pk else []), *(f.column for f in fields)])
        self.statement = f"COPY {quote(table)} ({columns}) FROM STDIN"
        self.table, self.key = table, key

    def line(self, row: dict[str, Any], pk: int | None = None, *, plain: bool = False) -> str:
        """The line of ``row`` (attname → value); ``plain``: its text needs no escaping."""
        parts = self.template.copy()
        if pk is not None:
            parts[0] = str(pk)
        slots = self.slots
        for name, value in row.items():
            position, format_value = slots[name]
            parts[position] = value if value.__class__ is str and plain else format_value(value)
        return "\t".join(parts)


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
    layout = Layout(model, now, pk=returning)
    with connection.cursor() as cursor:
        ids = next_ids(cursor, model, len(rows)) if returning else []
        if returning:
            lines: Iterable[str] = map(lambda row, pk: layout.line(row, pk, plain=plain), rows, ids)
        else:
            lines = (layout.line(row, plain=plain) for row in rows)
        copy_lines(cursor, layout.statement, lines)
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
    for name in switches:
        cursor.execute(f"SET LOCAL {name} = off")
    yield
    # Not after an error: the transaction is then aborted (and its rollback, to the savepoint
    # or whole, undoes the SET LOCAL anyway).
    for name in switches:
        cursor.execute(f"RESET {name}")
