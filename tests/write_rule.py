"""Who writes which table: the ownership table, what counts as a write, and the verdict.

``OWNERS`` maps each model of the project (its table) to the modules allowed to write it; a new
model fails ``tests/test_architecture.py`` until it has a line here. :func:`violations` takes one
module as read by ``tests/write_reader.py`` and reports each write of a table the module does not
own. A *write* is any call of

- an ORM write: ``save``, ``delete``, ``update``, ``create``, ``bulk_create``, ``bulk_update``,
  ``get_or_create``, ``update_or_create`` (and their ``a…`` async forms and the private
  ``_update``/``_insert``/``_raw_delete``), whatever the receiver: a model class, its
  ``objects``/``_default_manager``/``_base_manager``, a related manager (``order.refunds``), a
  queryset or an instance held in a variable of any name, a ``ModelForm``;
- ``add``/``remove``/``clear``/``set`` on a related manager;
- raw SQL: ``execute``/``executemany``/``executescript``/``raw``/``copy`` (and ``pgcopy.insert``,
  ``pgcopy.copy_lines`` and ``pgcopy.copy_rows``) whose SQL inserts, updates, deletes, merges,
  truncates or copies into a table; the SQL text is followed through f-strings, concatenation,
  variables and the project functions that build it. A statement that starts with a part the
  reader cannot know is a write of a table it cannot tell; a part it cannot know inside a
  statement that starts with ``SELECT``, ``WITH`` or ``EXPLAIN`` is taken for a clause of it
  (names, a condition);
- ``super().save_model/delete_model/save_related/save_formset/delete_queryset``: the admin's
  default save or delete.

The receiver's type is inferred (imports resolved to the real objects, assignments,
annotations, return annotations of project functions, ``get_object_or_404``, ``apps.get_model``),
and a call is a write *unless the receiver is provably not a model*: a literal, an instance of a
class that is not a model, manager, queryset or model form, a value of a plain field, or a call
whose arguments no ORM write accepts (``QuerySet.update`` and ``create`` take keywords only;
``Model.save``'s positional options are deprecated since Django 5.1; ``commit=`` is a model
form's, ``save=False`` a file field's). A write whose table cannot be told counts against
a module that owns no table; in a module that owns some, it is left to the runtime audit
(``tests/write_audit.py``), which records the table each statement really writes.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("shopops", "orders", "evidence")

# --- the rule: who owns which table -----------------------------------------------------------

WORKFLOW = "orders/workflow/"
IMPORT_WRITER = "orders/imports/writer.py"
IMPORT_HISTORY = "orders/imports/history.py"
EVIDENCE = "evidence/services.py"
DEMO = "orders/demo/"

WRITERS = {
    WORKFLOW: "the workflow: the one place business state changes (the outbox's delivery "
    "bookkeeping too: orders/delivery.py claims and marks through orders.workflow.outbox)",
    IMPORT_WRITER: "the import's COPY writer: new orders with their 'imported' events and supplier "
    "orders, and the SKUs they name (a change to an existing order goes through "
    "orders.workflow.apply_import_changes)",
    IMPORT_HISTORY: "the import's own record of each import (OrderImport), which recognises a file "
    "imported before",
    EVIDENCE: "communications and attachments are recorded only through evidence.services",
    DEMO: "seed_demo builds a history that never happened, row by row",
}
OWNERS: dict[str, tuple[str, ...]] = {
    "orders.Order": (WORKFLOW, IMPORT_WRITER, DEMO),
    "orders.OrderEvent": (WORKFLOW, IMPORT_WRITER, DEMO),
    "orders.SupplierOrder": (WORKFLOW, IMPORT_WRITER, DEMO),
    "orders.Sku": (WORKFLOW, IMPORT_WRITER, DEMO),
    "orders.StockMovement": (WORKFLOW, DEMO),
    "orders.Refund": (WORKFLOW, DEMO),
    "orders.Notification": (WORKFLOW, DEMO),
    "orders.Feedback": (WORKFLOW, DEMO),
    "orders.FeedbackEvent": (WORKFLOW,),
    "orders.ExchangeRate": (WORKFLOW,),
    "orders.ExchangeRateChange": (WORKFLOW,),
    "orders.BuyerMessageTemplate": (WORKFLOW,),
    "orders.BuyerMessageTemplateVersion": (WORKFLOW,),
    "orders.OrderImport": (IMPORT_HISTORY,),
    "orders.Store": (WORKFLOW, DEMO),
    "orders.StoreConnection": (WORKFLOW,),
    "orders.SyncState": (WORKFLOW,),
    "orders.PlatformDispute": (WORKFLOW,),
    "orders.StaffPreference": (WORKFLOW,),
    "orders.PlatformRefund": (WORKFLOW,),
    "orders.OrderLedger": (WORKFLOW,),
    "evidence.Communication": (EVIDENCE,),
    "evidence.Attachment": (EVIDENCE,),
}
# Generic writers: they write the table their caller names, so the caller is checked instead (at
# the call of ``pgcopy.insert``/``copy_lines``/``copy_rows``; the runtime audit looks past them).
GENERIC_WRITERS = ("shopops/pgcopy.py", "shopops/appendonly.py")
# Code the ORM runs on the caller's behalf (a model's ``save``, its manager): the runtime audit
# looks past it to the caller. The reader checks it like any module: it starts no write itself.
MODEL_MODULES = ("orders/models/", "evidence/models.py")

ORM_WRITES = {
    "save", "save_base", "delete", "update", "create", "bulk_create", "bulk_update", "get_or_create",
    "update_or_create", "_update", "_insert", "_batched_insert", "_raw_delete",
    "asave", "adelete", "aupdate", "acreate", "abulk_create", "abulk_update", "aget_or_create",
    "aupdate_or_create",
}  # fmt: skip
RELATED_WRITES = {"add", "remove", "clear", "set", "aadd", "aremove", "aclear", "aset"}
SQL_CALLS = {"execute", "executemany", "executescript", "raw", "copy", "copy_expert", "copy_from", "callproc"}
ADMIN_WRITES = {"save_model", "delete_model", "save_related", "save_formset", "delete_queryset"}


def owned_by(path: str) -> set[str]:
    """The model labels the module at ``path`` (relative, POSIX) may write."""
    return {label for label, owners in OWNERS.items() if any(path.startswith(o) for o in owners)}


@cache
def tables() -> dict[str, str]:
    """Table name → model label, auto-created many-to-many tables included."""
    from django.apps import apps

    return {m._meta.db_table: m._meta.label for m in apps.get_models(include_auto_created=True)}


# --- SQL: which tables a statement writes ------------------------------------------------------

HOLE = "\x00"  # a part of the SQL text the reader cannot know
_READS = {
    "SELECT", "WITH", "EXPLAIN", "SET", "RESET", "SHOW", "VALUES", "TABLE", "BEGIN", "COMMIT", "ROLLBACK",
    "SAVEPOINT", "RELEASE", "LOCK", "PRAGMA", "ANALYZE", "VACUUM", "NOTIFY", "LISTEN", "DECLARE", "FETCH",
    "CLOSE", "DISCARD", "DEALLOCATE",
}  # fmt: skip
_DDL = {"CREATE", "DROP", "ALTER", "COMMENT", "GRANT", "REVOKE", "REINDEX", "CLUSTER", "REFRESH"}
_WRITES = {"INSERT", "UPDATE", "DELETE", "MERGE", "TRUNCATE", "COPY", "REPLACE"}
_DML = re.compile(
    r"\b(INSERT\s+(?:OR\s+\w+\s+)?INTO|REPLACE\s+INTO|UPDATE|DELETE\s+FROM|MERGE\s+INTO|TRUNCATE(?:\s+TABLE)?|COPY)"
    r"\s+(?:ONLY\s+)?([\w.\"`\x00]+)",
    re.IGNORECASE,
)
_NOT_A_WRITE_BEFORE_UPDATE = re.compile(r"\b(FOR|KEY|DO|ON|OR)\s*$", re.IGNORECASE)


def sql_writes(text: str) -> list[str | None]:
    """The tables ``text`` writes (``None``: a statement or table the text does not show)."""
    text = re.sub(r"--[^\n]*|/\*.*?\*/|\$\$.*?\$\$", " ", text, flags=re.DOTALL)
    text = re.sub(r"'(?:[^']|'')*'", "''", text)
    found: list[str | None] = []
    for statement in text.split(";"):
        statement = statement.strip().lstrip("(").strip()
        first = re.match(r"\w+|\x00", statement)
        if first is None:
            continue
        keyword = first.group(0).upper()
        if keyword in _DDL:
            continue
        if keyword not in _READS | _WRITES:
            found.append(None)  # a statement that starts with a hole, or one not known
            continue
        for match in _DML.finditer(statement):
            verb = match.group(1).split()[0].upper()
            before = statement[: match.start()]
            if verb == "UPDATE" and _NOT_A_WRITE_BEFORE_UPDATE.search(before):
                continue  # SELECT … FOR (NO KEY) UPDATE, ON CONFLICT DO UPDATE, ON UPDATE, OR UPDATE
            if verb == "COPY" and not re.match(r"[^;]*?\bFROM\b", statement[match.end() :], re.IGNORECASE):
                continue  # COPY … TO: a read
            table = match.group(2).strip('"`').rpartition(".")[2].strip('"`')
            found.append(None if HOLE in table or not table else table)
    return found


@dataclass(frozen=True)
class Write:
    path: str
    line: int
    call: str
    table: str | None  # the model's label; None: the reader cannot tell which

    def __str__(self) -> str:
        return f"{self.path}:{self.line} {self.call} writes {self.table or 'a table the reader cannot tell'}"


# --- the verdict ------------------------------------------------------------------------------


def violations(source) -> list[str]:
    """Each write in ``source`` of a table its module does not own (one that cannot be told,
    when the module owns none)."""
    if source.path.startswith(GENERIC_WRITERS):
        return []
    owned = owned_by(source.path)
    found = []
    for write in source.writes():
        if write.table is None:
            if not owned:
                found.append(str(write))
        elif write.table in OWNERS and write.table not in owned:
            found.append(str(write))
    return found


def project_modules() -> list[Path]:
    return [
        path
        for package in PACKAGES
        for path in sorted((ROOT / package).rglob("*.py"))
        if "migrations" not in path.parts
    ]
