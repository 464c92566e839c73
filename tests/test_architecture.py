"""The layout's rules, checked by reading the source (docs/architecture.md explains them).

- No Python module outside migrations is longer than 600 lines.
- No import circle between the project's modules. Imports inside functions and under
  ``TYPE_CHECKING`` count too: a circle hidden there is still two modules that need each other.
- Nothing outside ``orders/workflow/`` writes business state: no ``save()``, ``update()``,
  ``bulk_create()``, ``bulk_update()``, ``create()`` or ``delete()`` on orders, refunds,
  supplier orders, stock, feedback, notifications or history, except the import's COPY writer
  and the demo seeder.

Each rule walks the whole tree, so a new module is checked without anyone listing it.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("shopops", "orders", "evidence")
MAX_LINES = 600

# Where business state may be written, and why.
WRITERS = {
    "orders/workflow/": "the workflow: the one place business state changes",
    "orders/demo/": "the demo seeder builds a history that never happened, row by row",
    "orders/imports/writer.py": "the import's COPY writer (orders imported in bulk)",
}
BUSINESS_MODELS = {
    "Order",
    "Refund",
    "SupplierOrder",
    "Sku",
    "StockMovement",
    "Feedback",
    "FeedbackEvent",
    "Notification",
    "OrderEvent",
}
# Records that are not business state: evidence has its own services, users and groups are
# Django's, the import history is written by the import.
OTHER_MODELS = {"Communication", "Attachment", "Group", "Permission", "OrderImport", "PeriodicTask"}
WRITE_METHODS = {
    "save",
    "update",
    "bulk_create",
    "bulk_update",
    "create",
    "get_or_create",
    "update_or_create",
}
# Manager and queryset methods that hand back business rows: a write through them counts.
QUERY_METHODS = {"objects", "filter", "exclude", "all", "select_for_update", "select_related", "only"}


def _modules() -> list[Path]:
    found = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if "migrations" not in path.parts:
                found.append(path)
    return found


def _name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


@cache
def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(encoding="utf-8"), filename=str(path))


def _imports(path: Path, known: set[str]) -> set[str]:
    """The project modules ``path`` imports, resolved to the most specific module that exists."""
    tree = _tree(path)
    module = _name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            # ``from pkg import name``: the submodule pkg.name when there is one, else pkg itself.
            targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in known else base for a in node.names]
        else:
            continue
        for target in targets:
            while target and target not in known:
                target = target.rpartition(".")[0]
            if target and target != module:
                found.add(target)
    return found


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    result = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                result.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return result


def _import_graph() -> dict[str, set[str]]:
    paths = _modules()
    known = {_name(p) for p in paths}
    return {_name(p): _imports(p, known) for p in paths}


def _writes(path: Path) -> list[str]:
    """``file:line call`` for each call that writes a business model outside the workflow."""
    found = []
    calls = sorted(
        (n for n in ast.walk(_tree(path)) if isinstance(n, ast.Call)), key=lambda n: (n.lineno, n.col_offset)
    )
    for node in calls:
        if not (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)):
            continue
        if node.func.attr not in WRITE_METHODS:
            continue
        receiver = node.func.value
        chain = []
        while isinstance(receiver, ast.Call | ast.Attribute):
            if isinstance(receiver, ast.Call):
                receiver = receiver.func
                continue
            chain.append(receiver.attr)
            receiver = receiver.value
        root = receiver.id if isinstance(receiver, ast.Name) else ""
        if "objects" in chain and root not in OTHER_MODELS:
            # A manager write whose model is business or cannot be told (``type(x).objects``).
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node.func)}")
            continue
        through_manager = bool(chain) and set(chain) <= QUERY_METHODS | {
            "events",
            "supplier_orders",
            "refunds",
        }
        if (root in BUSINESS_MODELS and through_manager) or (
            node.func.attr == "save" and not chain and root in _business_variables(path)
        ):
            found.append(f"{path.relative_to(ROOT)}:{node.lineno} {ast.unparse(node.func)}")
    return found


@cache
def _business_variables(path: Path) -> frozenset[str]:
    """Names bound to a business model instance: ``x = Order.objects.get(...)``, ``order: Order``."""
    names = set()
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            text = ast.unparse(node.value.func)
            if text.split(".")[0] in BUSINESS_MODELS:
                names |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        elif isinstance(node, ast.arg | ast.AnnAssign) and node.annotation is not None:
            annotation = ast.unparse(node.annotation)
            target = node.arg if isinstance(node, ast.arg) else ast.unparse(node.target)
            if any(part.strip() in BUSINESS_MODELS for part in annotation.replace("|", " ").split()):
                names.add(target)
        elif isinstance(node, ast.FunctionDef) and node.name in {"save_model", "save_related"}:
            names.add("obj")
    return frozenset(names)


def _allowed_writer(path: Path) -> bool:
    relative = path.relative_to(ROOT).as_posix()
    return any(relative.startswith(prefix) for prefix in WRITERS)


# --- the rules --------------------------------------------------------------------------------


def test_no_module_is_longer_than_600_lines():
    long = {
        str(p.relative_to(ROOT)): n
        for p in [*_modules(), *sorted((ROOT / "tests").glob("*.py")), *sorted((ROOT / "bench").glob("*.py"))]
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES
    }
    assert long == {}


def test_there_is_no_import_circle():
    assert _cycles(_import_graph()) == []


def test_the_import_graph_is_read():
    # A broken resolver would find no edges and no circles: make sure it sees the real ones.
    graph = _import_graph()
    assert "orders.models" in graph["orders.workflow.events"]
    assert "shopops.errors" in graph["orders.workflow.core"] | graph["orders.workflow"]


def test_the_cycle_finder_finds_a_circle():
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_nothing_outside_the_workflow_writes_business_state():
    writes = [w for p in _modules() if not _allowed_writer(p) for w in _writes(p)]
    assert writes == []


def test_the_write_rule_sees_a_write(monkeypatch):
    sample = ROOT / "orders" / "_sample_for_the_rule.py"
    monkeypatch.setattr("tests.test_architecture._tree", lambda path: ast.parse(sample_code))
    sample_code = (
        "def f(order: Order, pk):\n"
        "    order.save()\n"
        "    Order.objects.filter(pk=pk).update(status='closed')\n"
        "    Refund.objects.create(order=order)\n"
        "    x = Notification.objects.get(pk=pk)\n"
        "    x.save()\n"
        "    form.save()\n"
    )
    _business_variables.cache_clear()
    try:
        found = [w.split(" ", 1)[1] for w in _writes(sample)]
    finally:
        _business_variables.cache_clear()
    assert found == [
        "order.save",
        "Order.objects.filter(pk=pk).update",
        "Refund.objects.create",
        "x.save",
    ]


@pytest.mark.parametrize("prefix", sorted(WRITERS))
def test_each_allowed_writer_exists(prefix):
    assert (ROOT / prefix).exists(), f"{prefix} is allowed to write but does not exist: update WRITERS"


# --- one CSV writer ---------------------------------------------------------------------------

# The one module that writes CSV (every cell a spreadsheet would run is quoted there).
CSV_WRITER = "shopops/csvout.py"
# What writes CSV without it: the csv module's writers, tablib (django-import-export's exports),
# and import-export's admin mixins that export through tablib.
_CSV_CALLS = {("csv", "writer"), ("csv", "DictWriter")}
_CSV_NAMES = {"tablib", "ExportMixin", "ExportActionMixin", "ImportExportMixin", "ImportExportModelAdmin"}


def _csv_writers(path: Path) -> list[str]:
    found = []
    for node in ast.walk(_tree(path)):
        where = f"{path.relative_to(ROOT)}:{getattr(node, 'lineno', 0)}"
        if (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and (node.value.id, node.attr) in _CSV_CALLS
        ):
            found.append(f"{where} {node.value.id}.{node.attr}")
        elif isinstance(node, ast.ImportFrom) and node.module == "csv":
            found += [
                f"{where} from csv import {a.name}" for a in node.names if a.name in ("writer", "DictWriter")
            ]
        elif isinstance(node, ast.Import | ast.ImportFrom):
            names = [a.name for a in node.names] + ([node.module] if isinstance(node, ast.ImportFrom) else [])
            found += [f"{where} {name}" for name in names if name and name.split(".")[0] in _CSV_NAMES]
        elif isinstance(node, ast.Name) and node.id in _CSV_NAMES:
            found.append(f"{where} {node.id}")
    return found


def test_every_csv_the_project_writes_goes_through_the_one_writer():
    """``manage.py loss_ledger`` printed an order id ``=HYPERLINK(…)`` unescaped while the admin's
    CSVs were escaped: one writer, ``shopops/csvout.py``, for every CSV (benchmarks and tests write
    the raw files they feed the import, and are not the project's output)."""
    writers = [w for p in _modules() if p.relative_to(ROOT).as_posix() != CSV_WRITER for w in _csv_writers(p)]
    assert writers == []
    assert _csv_writers(ROOT / CSV_WRITER)  # the rule sees a writer where there is one
