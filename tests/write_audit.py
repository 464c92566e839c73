"""The write rule at run time: which module wrote which table, read from the stack of each statement.

:class:`WriteAudit` wraps the database's execute (``connection.execute_wrapper``) and
``shopops.pgcopy.copy_lines`` and ``copy_rows`` (a COPY does not pass through execute). For each
statement that writes a table of ``OWNERS`` it finds the writer on the stack, innermost first:

- Django admin's default ``save_model``, ``delete_model``, ``save_related``, ``save_formset`` or
  ``delete_queryset`` (``django/contrib/admin/options.py``): a write no project code asked for,
  which no table's owners include;
- else the first frame of project code, looking past the generic writers (``shopops.pgcopy``,
  ``shopops.appendonly``) and the models' own code, which run on their caller's behalf.

The write is allowed when that module owns the table (``tests/write_rule.py``). A statement with
no project code on the stack (a test's set-up, a factory, Django's flush) is not the project's
and is not recorded. This sees what reading the source cannot: a table named at run time, a
receiver the reader could not tell, SQL built anywhere, a default the admin falls back to.

Every test runs under one (``tests/conftest.py``): a write outside its owners fails the test.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from types import FrameType
from unittest import mock

from tests.write_rule import (
    ADMIN_WRITES,
    GENERIC_WRITERS,
    MODEL_MODULES,
    OWNERS,
    PACKAGES,
    ROOT,
    owned_by,
    sql_writes,
    tables,
)

_MAYBE_WRITE = re.compile(r"\s*\(?\s*(INSERT|UPDATE|DELETE|WITH|COPY|TRUNCATE|REPLACE|MERGE)\b", re.I)
_LOOK_PAST = GENERIC_WRITERS + MODEL_MODULES


@dataclass(frozen=True)
class Recorded:
    table: str  # the model's label
    writer: str  # "orders/admin/stock.py:101 (save_model)", or the admin's default
    path: str | None  # the writer's module ("orders/admin/stock.py"); None: the admin's default
    statement: str

    @property
    def allowed(self) -> bool:
        return self.path is not None and self.table in owned_by(self.path)

    def __str__(self) -> str:
        verdict = "" if self.allowed else f" — not an owner of {self.table} ({', '.join(OWNERS[self.table])})"
        return f"{self.writer} wrote {self.table}{verdict}: {self.statement[:160]}"


@cache
def _admin_options() -> str:
    import django.contrib.admin.options

    return str(Path(django.contrib.admin.options.__file__).resolve())


@cache
def _project_file(filename: str) -> str | None:
    """``filename`` relative to the project (POSIX) when it is project code, else ``None``."""
    try:
        path = Path(filename).resolve().relative_to(ROOT)
    except ValueError:
        return None
    return path.as_posix() if path.parts[0] in PACKAGES and "migrations" not in path.parts else None


def writer(frame: FrameType | None) -> tuple[str, str | None] | None:
    """Who on the stack from ``frame`` outwards wrote: (description, project path or ``None``)."""
    admin = _admin_options()
    while frame is not None:
        code = frame.f_code
        if code.co_name in ADMIN_WRITES and str(Path(code.co_filename).resolve()) == admin:
            return f"django.contrib.admin's default ModelAdmin.{code.co_name}", None
        path = _project_file(code.co_filename)
        if path is not None and not path.startswith(_LOOK_PAST):
            return f"{path}:{frame.f_lineno} ({code.co_name})", path
        frame = frame.f_back
    return None


class WriteAudit:
    """Records every write of an owned table made while :meth:`installed`, with its writer."""

    def __init__(self) -> None:
        self.records: list[Recorded] = []

    @property
    def violations(self) -> list[Recorded]:
        return [r for r in self.records if not r.allowed]

    def take_violations(self) -> list[Recorded]:
        """The violations so far, forgotten: for a test that provokes one on purpose."""
        found = self.violations
        self.records = [r for r in self.records if r.allowed]
        return found

    def record(self, statement: object, frame: FrameType | None) -> None:
        if not isinstance(statement, str) or not _MAYBE_WRITE.match(statement):
            return
        labels = tables()
        for table in sql_writes(statement):
            label = labels.get(table) if table else None
            if label not in OWNERS:
                continue  # a table that is not the project's, or a temporary one
            found = writer(frame)
            if found is None:
                continue  # no project code asked for it: a test's set-up
            where, path = found
            self.records.append(Recorded(label, where, path, statement))

    def __call__(self, execute, sql, params, many, context):
        self.record(sql, sys._getframe(1))
        return execute(sql, params, many, context)

    @contextmanager
    def installed(self) -> Iterator[WriteAudit]:
        from django.db import connections

        from shopops import pgcopy

        copy_lines, copy_rows = pgcopy.copy_lines, pgcopy.copy_rows

        def audited_copy(cursor, statement, lines):
            self.record(statement, sys._getframe(1))
            return copy_lines(cursor, statement, lines)

        def audited_copy_rows(cursor, layout, rows):
            self.record(layout.statement, sys._getframe(1))
            return copy_rows(cursor, layout, rows)

        with ExitStack() as stack:
            for alias in connections:
                stack.enter_context(connections[alias].execute_wrapper(self))
            stack.enter_context(mock.patch.object(pgcopy, "copy_lines", audited_copy))
            stack.enter_context(mock.patch.object(pgcopy, "copy_rows", audited_copy_rows))
            yield self
