"""``seed_demo``'s data made once per test run, then put back for each test in a fraction of a second.

``seed_demo`` builds its history through the workflow, step by step: 8 to 15 seconds on SQLite,
20 to 50 on PostgreSQL. Ten tests need it (the browser walks, the layout tests, the worklist and
page-reference crawls), and each used to run it afresh. Here it runs once per test run, in a
transaction that is rolled back, with a private media folder, in the first worker that needs it;
what it wrote is kept, and the other workers read it from the run's temporary folder:

- every table's rows, as the database gave them;
- every file it stored (the evidence attachments).

:func:`restore` replaces every table's rows with the kept ones in one transaction (``DELETE``,
then ``executemany`` on SQLite, a ``COPY`` per table on PostgreSQL; there with the row triggers
off, as ``pg_restore --disable-triggers`` does: a superuser's right, which the tests' role has),
sets the sequences past the ids written, and copies the files into the test's media folder.
Every date and time moves forward by the time since the seeding ended, so a restored demo is as
old as a demo seeded now: an order due in an hour is still due in an hour.

``tests/test_demo.py`` proves a restore gives the very rows a seeding gives.
"""

from __future__ import annotations

import fcntl
import pickle
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from io import StringIO
from pathlib import Path

from django.apps import apps
from django.contrib.contenttypes.models import ContentType
from django.core.management.color import no_style
from django.db import connection, transaction
from django.test import override_settings
from django.utils import timezone


@dataclass(frozen=True)
class Table:
    name: str
    columns: tuple[str, ...]
    rows: tuple[tuple, ...]


@dataclass(frozen=True)
class Snapshot:
    taken_at: datetime
    tables: tuple[Table, ...]
    files: dict[str, bytes]  # path under MEDIA_ROOT -> content

    def count(self, table: str) -> int:
        return next((len(t.rows) for t in self.tables if t.name == table), 0)


@contextmanager
def _private_media() -> Iterator[Path]:
    from django.conf import settings

    with tempfile.TemporaryDirectory(prefix="demo-media-") as folder:
        storages = {
            **settings.STORAGES,
            "default": {**settings.STORAGES["default"], "OPTIONS": {"location": folder}},
        }
        with override_settings(STORAGES=storages, MEDIA_ROOT=folder):
            yield Path(folder)


class _Rollback(Exception):
    pass


def shared(folder: Path) -> Snapshot:
    """The snapshot of this test run: taken by the first process that asks, read by the others
    (pytest-xdist's workers share ``folder``), so the run seeds the demo once."""
    path = folder / "demo-snapshot.pickle"
    with (folder / "demo-snapshot.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # the others wait while the first seeds
        if path.exists():
            return pickle.loads(path.read_bytes())  # noqa: S301 -- written by this run, just now
        snapshot = take()
        path.write_bytes(pickle.dumps(snapshot))
        return snapshot


def take() -> Snapshot:
    """Seed the demo in a transaction, keep its rows and files, and roll it back."""
    from orders.demo import seed_demo

    kept: list[Snapshot] = []
    with _private_media() as media:
        try:
            with transaction.atomic():
                seed_demo(stdout=StringIO())
                # after the seeding, which stamps its rows with the time as it goes: each
                # restored time is then at most the time of its restore
                kept.append(read(timezone.now(), media))
                raise _Rollback
        except _Rollback:
            pass
    return kept[0]


def read(taken_at: datetime, media: Path) -> Snapshot:
    """Every table's rows and every file under ``media``, as they are now."""
    tables = []
    with connection.cursor() as cursor:
        for name in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(name)}")
            described = cursor.description
            columns = tuple(column[0] for column in described)
            rows = cursor.fetchall()
            tables.append(Table(name, columns, tuple(tuple(row) for row in rows)))
    files = {
        str(path.relative_to(media)): path.read_bytes() for path in sorted(media.rglob("*")) if path.is_file()
    }
    return Snapshot(taken_at, tuple(tables), files)


def emptying(tables: list[str], quote, *, triggers_off: bool) -> list[str]:
    """The statements that empty ``tables``: a ``DELETE`` of each, first turning PostgreSQL's row
    triggers off for the transaction (a superuser's right) when ``triggers_off``. The demo's
    restore and the tests' flush on PostgreSQL (``tests/conftest.py``) both empty this way."""
    off = ["SET LOCAL session_replication_role = replica"] if triggers_off else []
    return off + [f"DELETE FROM {quote(table)}" for table in tables]


def _as_json(value):
    """A JSON value that came back decoded (Django reads jsonb as text, json as Python values)."""
    if isinstance(value, dict | list):
        from psycopg.types.json import Jsonb

        return Jsonb(value)
    return value


def _moved(row: tuple, by: timedelta) -> tuple:
    return tuple(value + by if isinstance(value, datetime) else value for value in row)


def restore(snapshot: Snapshot) -> None:
    """Every table holds the snapshot's rows, and MEDIA_ROOT its files, as if seeded just now."""
    from django.conf import settings

    by = timezone.now() - snapshot.taken_at
    quote = connection.ops.quote_name
    postgresql = connection.vendor == "postgresql"
    with transaction.atomic(), connection.cursor() as cursor:
        # The rows go out and in as pg_restore --disable-triggers puts them: without the row
        # triggers, which refuse to delete an append-only record and check each row against rows
        # not yet written back (a supplier refund against its purchase); the kept rows passed
        # them when seeded.
        for statement in emptying([table.name for table in snapshot.tables], quote, triggers_off=postgresql):
            cursor.execute(statement)
        for table in snapshot.tables:
            if not table.rows:
                continue
            columns = ", ".join(quote(column) for column in table.columns)
            rows = [_moved(row, by) for row in table.rows]
            if postgresql:
                with cursor.cursor.copy(f"COPY {quote(table.name)} ({columns}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(tuple(_as_json(value) for value in row))
            else:
                marks = ", ".join(["%s"] * len(table.columns))
                cursor.executemany(f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})", rows)
        if postgresql:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
            # The planner's figures of each table as they are now: after the tests' flushes it
            # may believe a table of 10,000 rows empty and join it row by row (a list of the
            # demo took over 15 s); a seeding's own writes would have let autovacuum see them.
            filled = [quote(table.name) for table in snapshot.tables if table.rows]
            cursor.execute(f"ANALYZE {', '.join(filled)}")
        models = apps.get_models(include_auto_created=True)
        for statement in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(statement)
    ContentType.objects.clear_cache()  # the ids are the snapshot's now
    media = Path(settings.MEDIA_ROOT)
    for relative, content in snapshot.files.items():
        path = media / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)
