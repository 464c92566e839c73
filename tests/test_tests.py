"""The tests themselves, read as source: each can fail, and each stands on public ground.

- Every test function asserts something: an ``assert``, ``pytest.raises`` / ``pytest.fail``, or a
  call to a helper that does (any function of the test modules, support modules and conftest
  whose body asserts, found by name, transitively; and the few outside ones in ``ASSERTING``).
  A test that cannot fail cannot be added.
- No test imports another test module (shared helpers live in ``tests/*_support.py`` or
  ``conftest.py``), and none reaches a private name (``_name``) of the project's modules.
"""

from __future__ import annotations

import ast
from functools import cache
from pathlib import Path

from tests.source_support import parse

TESTS = Path(__file__).parent
ROOT = TESTS.parent
PROJECT_PACKAGES = ("orders", "evidence", "shopops")
# Helpers outside tests/ that fail the test when what they check does not hold.
ASSERTING = {
    "raises",  # pytest.raises
    "fail",  # pytest.fail
    "expect",  # playwright's expect(locator).to_…
    "wait_for_selector",  # playwright: times out (fails) when the element never shows
    "expect_download",  # playwright: fails when no download starts
    "assertNumQueries",
    "assertEqual",
    "assertContains",
}


@cache
def _tree(path: Path) -> ast.Module:
    return parse(path.read_text(encoding="utf-8"), filename=str(path))


def _called_names(node: ast.AST) -> set[str]:
    names = set()
    for call in ast.walk(node):
        if isinstance(call, ast.Call):
            func = call.func
            if isinstance(func, ast.Name):
                names.add(func.id)
            elif isinstance(func, ast.Attribute):
                names.add(func.attr)
    return names


def _asserts_itself(node: ast.AST) -> bool:
    return any(isinstance(n, ast.Assert) for n in ast.walk(node)) or bool(_called_names(node) & ASSERTING)


def _functions() -> dict[str, list[ast.FunctionDef]]:
    found: dict[str, list[ast.FunctionDef]] = {}
    for path in sorted(TESTS.glob("*.py")):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
                found.setdefault(node.name, []).append(node)
    return found


@cache
def asserting_helpers() -> frozenset[str]:
    """Names of the functions in tests/ that assert, directly or through another that does."""
    functions = _functions()
    asserting = {name for name, nodes in functions.items() if any(_asserts_itself(n) for n in nodes)}
    while True:
        more = {
            name
            for name, nodes in functions.items()
            if name not in asserting and any(_called_names(n) & asserting for n in nodes)
        }
        if not more:
            return frozenset(asserting)
        asserting |= more


def _test_functions():
    for path in sorted(TESTS.glob("test_*.py")):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name.startswith("test_"):
                yield path, node


def test_every_test_function_asserts_something():
    helpers = asserting_helpers()
    silent = [
        f"{path.name}:{node.lineno} {node.name}"
        for path, node in _test_functions()
        if not _asserts_itself(node) and not (_called_names(node) & helpers)
    ]
    assert silent == [], "tests that cannot fail (no assert, no pytest.raises, no asserting helper)"


def test_the_check_finds_a_test_that_cannot_fail():
    sample = parse(
        "def helper(x):\n    assert x\n\n"
        "def test_calls_helper():\n    helper(1)\n\n"
        "def test_checks_nothing():\n    print('ran')\n"
    )
    tests = {n.name: n for n in sample.body if n.name.startswith("test_")}
    asserting = {"helper"}
    assert _called_names(tests["test_calls_helper"]) & asserting
    assert not _asserts_itself(tests["test_checks_nothing"])
    assert not _called_names(tests["test_checks_nothing"]) & (asserting | ASSERTING)


def test_no_test_imports_another_test_module():
    imports = []
    for path in sorted(TESTS.glob("*.py")):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("tests.test_"):
                imports.append(f"{path.name}:{node.lineno} from {node.module}")
            if isinstance(node, ast.Import):
                imports += [
                    f"{path.name}:{node.lineno} {a.name}"
                    for a in node.names
                    if a.name.startswith("tests.test_")
                ]
    assert imports == [], "move shared helpers to tests/*_support.py or conftest.py"


def _project_modules(tree: ast.Module) -> set[str]:
    """Local names bound to the project's modules (``from orders import delivery``), not to the
    objects in them (a Celery app's own private attributes are not ours)."""
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PROJECT_PACKAGES:
            package = ROOT.joinpath(*node.module.split("."))
            names |= {
                a.asname or a.name
                for a in node.names
                if (package / f"{a.name}.py").is_file() or (package / a.name / "__init__.py").is_file()
            }
        elif isinstance(node, ast.Import):
            names |= {
                (a.asname or a.name).split(".")[0]
                for a in node.names
                if a.name.split(".")[0] in PROJECT_PACKAGES
            }
    return names


def _private(name: str) -> bool:
    return name.startswith("_") and not name.startswith("__")


def test_no_test_reaches_a_private_name_of_the_project():
    reached = []
    for path in sorted(TESTS.glob("*.py")):
        tree = _tree(path)
        modules = _project_modules(tree)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] in PROJECT_PACKAGES:
                reached += [
                    f"{path.name}:{node.lineno} {node.module}.{a.name}"
                    for a in node.names
                    if _private(a.name)
                ]
            elif (
                isinstance(node, ast.Attribute)
                and _private(node.attr)
                and isinstance(node.value, ast.Name)
                and node.value.id in modules
            ):
                reached.append(f"{path.name}:{node.lineno} {node.value.id}.{node.attr}")
            elif isinstance(node, ast.Constant) and isinstance(node.value, str):
                dotted = node.value.split(".")
                if dotted[0] in PROJECT_PACKAGES and len(dotted) > 1 and any(_private(p) for p in dotted[1:]):
                    reached.append(f"{path.name}:{node.lineno} {node.value!r}")
    assert reached == [], "test through public names (make the name public if a test needs it)"


# --- waiting for another thread: one way ---------------------------------------------------------


def _sleeps(node: ast.AST) -> bool:
    return any(
        isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute) and n.func.attr == "sleep"
        for n in ast.walk(node)
    )


def _reads_the_database(node: ast.AST) -> bool:
    """A model manager (``X.objects``), a row read again, or a request to the test client."""
    return any(
        (isinstance(n, ast.Attribute) and n.attr in {"objects", "refresh_from_db"})
        or (
            isinstance(n, ast.Call)
            and isinstance(n.func, ast.Attribute)
            and n.func.attr == "get"
            and isinstance(n.func.value, ast.Name)
            and n.func.value.id == "client"
        )
        for n in ast.walk(node)
    )


def test_a_test_waits_for_rows_through_wait_until():
    """A loop that sleeps between reads of the database waits for another thread's writes: on
    SQLite such a read fails at once with "database table is locked" while the other thread
    writes. ``tests/concurrency_support.wait_until`` takes that as "not yet"; a loop of its own
    would fail the test one run in many (the team walk's did)."""
    loops = [
        f"{path.name}:{node.lineno}"
        for path in sorted(TESTS.glob("*.py"))
        for node in ast.walk(_tree(path))
        if isinstance(node, ast.While) and _sleeps(node) and _reads_the_database(node)
    ]
    assert loops == []


def test_the_check_finds_a_loop_of_its_own():
    loop = parse("while not Order.objects.filter(pk=1).exists():\n    time.sleep(0.1)\n").body[0]
    network = parse("while not provider.requests:\n    time.sleep(0.02)\n").body[0]
    assert _sleeps(loop) and _reads_the_database(loop)
    assert not _reads_the_database(network)


def test_the_source_is_parsed_again_after_cpythons_shared_depth_mismatch(monkeypatch):
    """gh-106905: another thread building an AST at the same moment (a traceback's ^^^ marks)
    makes ``ast.parse`` raise a SystemError for sound source; it is tried again, and any other
    SystemError is not hidden."""
    import pytest

    from tests import source_support

    real, failures = (
        ast.parse,
        iter([SystemError("AST constructor recursion depth mismatch (before=153, after=35)")] * 2),
    )

    def flaky(*args, **kwargs):
        error = next(failures, None)
        if error:
            raise error
        return real(*args, **kwargs)

    monkeypatch.setattr(source_support.ast, "parse", flaky)
    assert isinstance(parse("x = 1"), ast.Module)
    monkeypatch.setattr(
        source_support.ast, "parse", lambda *a, **k: (_ for _ in ()).throw(SystemError("other"))
    )
    with pytest.raises(SystemError, match="other"):
        parse("x = 1")
