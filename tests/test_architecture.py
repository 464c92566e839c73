"""The layout's rules, checked by reading the source (docs/architecture.md explains them).

- No Python module outside migrations is longer than 600 lines.
- No import circle between the project's modules. Imports inside functions and under
  ``TYPE_CHECKING`` count too: a circle hidden there is still two modules that need each other.
- No import circle between folders (``orders.workflow``, ``orders.imports``, ``evidence``…) but
  the ones listed in ``KNOWN_FOLDER_EDGES``, each with its reason.
- Each table is written only by the modules that own it (``tests/write_rule.py``: ``OWNERS``),
  read from the source here (``tests/write_reader.py``) and checked at run time in every test
  (``tests/write_audit.py``). Every model has owners; every ``ModelAdmin`` of one that may add,
  change or delete saves and deletes through them, never through the admin's defaults.

Each rule walks the whole tree, so a new module is checked without anyone listing it.
"""

from __future__ import annotations

import ast
import inspect
import textwrap
from functools import cache
from pathlib import Path

import pytest

from tests.source_support import parse
from tests.write_reader import Source
from tests.write_rule import OWNERS, WRITERS, project_modules, violations

ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("shopops", "orders", "evidence")
MAX_LINES = 600


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
    return parse(path.read_text(encoding="utf-8"), filename=str(path))


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


@cache
def _import_graph() -> dict[str, set[str]]:
    paths = _modules()
    known = {_name(p) for p in paths}
    return {_name(p): _imports(p, known) for p in paths}


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


# --- folders ----------------------------------------------------------------------------------

# Imports from one folder into another that close a circle between the two, each kept on purpose.
# A folder circle not made of these fails: move the helper to the folder that owns it instead.
KNOWN_FOLDER_EDGES = {
    ("orders.models.buyer_message", "orders.buyer_messages.spec"): (
        "BuyerMessageTemplate's message and language choices are the buyer messages' declarations "
        "(spec imports nothing of the project, like orders/transitions.py); the rest of "
        "orders/buyer_messages/ renders with the Supervisors' edits, above the models and selectors"
    ),
    ("orders.workflow.imported", "orders.imports.changes"): (
        "an import's change to an existing order is planned again under the order's row lock by the "
        "import's own rules (who owns which field, docs/import-ownership.md), so the first look "
        "and the locked one cannot differ; the import calls the workflow for every such change"
    ),
    ("orders.workflow.imported", "orders.imports.history"): (
        "the same locked second look reads the import history (fields staff corrected since, the "
        "row's fingerprint), which the import's first look reads too"
    ),
}


def _folder(module: str) -> str:
    """A module's folder: its package (``orders.workflow`` for ``orders.workflow.core``). A module
    directly in ``orders/`` is a folder of its own: the app's root holds modules of every layer."""
    parts = module.split(".")
    if (ROOT.joinpath(*parts) / "__init__.py").exists() or parts[:-1] == ["orders"]:
        return module
    return ".".join(parts[:-1])


def _folder_graph(skip: set[tuple[str, str]]) -> dict[str, set[str]]:
    graph: dict[str, set[str]] = {}
    for module, targets in _import_graph().items():
        here = graph.setdefault(_folder(module), set())
        here |= {_folder(t) for t in targets if (module, t) not in skip and _folder(t) != _folder(module)}
    return graph


def test_there_is_no_folder_circle_but_the_known_ones():
    assert _cycles(_folder_graph(skip=set(KNOWN_FOLDER_EDGES))) == []


@pytest.mark.parametrize("edge", sorted(KNOWN_FOLDER_EDGES), ids=" -> ".join)
def test_each_known_folder_edge_still_closes_a_circle(edge):
    source, target = edge
    assert target in _import_graph()[source], f"{source} no longer imports {target}: drop the exception"
    others = set(KNOWN_FOLDER_EDGES) - {edge}
    circles = _cycles(_folder_graph(skip=others))
    assert any({_folder(source), _folder(target)} <= set(c) for c in circles), f"{edge} closes no circle"


def test_the_buyer_message_declarations_import_nothing_of_the_project():
    # What makes the models' import of them harmless: they cannot lead back to the models. The
    # shared parsers they check texts with (shopops.inputs, errors, money) import nothing of
    # orders or evidence either.
    reached, todo = set(), ["orders.buyer_messages.spec"]
    while todo:
        for target in _import_graph().get(todo.pop(), set()) - reached:
            reached.add(target)
            todo.append(target)
    assert reached <= {"shopops.inputs", "shopops.errors", "shopops.money"}, reached


def test_folders_are_read():
    assert _folder("orders.workflow.core") == "orders.workflow"
    assert _folder("orders.workflow") == "orders.workflow"
    assert _folder("orders.delivery") == "orders.delivery"
    assert _folder("evidence.services") == "evidence"
    # Without the exceptions the known circles are found.
    found = _cycles(_folder_graph(skip=set()))
    assert ["orders.imports", "orders.workflow"] in found
    assert any({"orders.models", "orders.buyer_messages"} <= set(c) for c in found)


# --- who writes which table ---------------------------------------------------------------


def test_each_table_is_written_only_by_its_owners():
    found = [v for path in project_modules() for v in violations(Source.of(path))]
    assert found == []


def test_every_model_has_owners():
    from django.apps import apps

    models = {m._meta.label for m in apps.get_models() if m._meta.app_label in {"orders", "evidence"}}
    assert models - set(OWNERS) == set(), "a new model: say which modules write it in tests/write_rule.py"
    assert set(OWNERS) - models == set(), "a model gone: drop it from OWNERS"


@pytest.mark.parametrize("prefix", sorted(WRITERS))
def test_each_writer_exists_and_owns_a_table(prefix):
    assert (ROOT / prefix).exists(), f"{prefix} is allowed to write but does not exist: update WRITERS"
    assert any(prefix in owners for owners in OWNERS.values())
    assert all(owner in WRITERS for owners in OWNERS.values() for owner in owners)


ADMIN_SAVES = ("save_model", "save_related")
ADMIN_DELETES = ("delete_model", "delete_queryset")


def _calls_super(method, name: str) -> bool:
    tree = parse(textwrap.dedent(inspect.getsource(method)))
    return any(
        isinstance(n, ast.Call)
        and isinstance(n.func, ast.Attribute)
        and n.func.attr == name
        and isinstance(n.func.value, ast.Call)
        and getattr(n.func.value.func, "id", "") == "super"
        for n in ast.walk(tree)
    )


def _admin_gaps(site, request) -> list[str]:
    """Each way a ``ModelAdmin`` of an owned model writes through Django's default save or delete."""
    gaps = []
    for model, model_admin in site._registry.items():
        if model._meta.label not in OWNERS:
            continue
        inlines = [inline(model, site) for inline in model_admin.inlines]
        writable_inlines = [
            i.model._meta.label
            for i in inlines
            if i.has_add_permission(request, None)
            or i.has_change_permission(request, None)
            or i.has_delete_permission(request, None)
        ]
        needed: list[str] = []
        if model_admin.has_add_permission(request) or model_admin.has_change_permission(request):
            needed.append("save_model")
            if model._meta.many_to_many or writable_inlines:
                needed.append("save_related")
        if model_admin.has_delete_permission(request):
            needed += ADMIN_DELETES
        for name in needed:
            method = getattr(type(model_admin), name)
            if method.__module__.startswith("django."):
                gaps.append(
                    f"{type(model_admin).__name__}.{name} is Django's default: it writes outside the owners"
                )
            elif _calls_super(method, name):
                gaps.append(f"{type(model_admin).__name__}.{name} hands on to Django's default")
    return gaps


@pytest.mark.django_db
def test_every_admin_of_an_owned_model_saves_and_deletes_through_the_owners(rf):
    from django.contrib import admin
    from django.contrib.auth import get_user_model

    import shopops.urls  # noqa: F401 - registers every ModelAdmin (admin.autodiscover)

    # A superuser holds every permission: a write the admin would refuse them, it refuses everyone.
    request = rf.get("/admin/")
    request.user = get_user_model()(username="anyone", is_active=True, is_staff=True, is_superuser=True)
    assert _admin_gaps(admin.site, request) == []


@pytest.mark.django_db
def test_the_admin_rule_finds_a_default_save(rf):
    from django.contrib import admin
    from django.contrib.auth import get_user_model

    from orders.models import Sku

    site = admin.AdminSite(name="probe")
    site.register(Sku)  # a plain ModelAdmin: the default save_model
    request = rf.get("/admin/")
    request.user = get_user_model()(username="anyone", is_active=True, is_staff=True, is_superuser=True)
    assert _admin_gaps(site, request) == [
        "ModelAdmin.save_model is Django's default: it writes outside the owners",
        "ModelAdmin.delete_model is Django's default: it writes outside the owners",
        "ModelAdmin.delete_queryset is Django's default: it writes outside the owners",
    ]


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
