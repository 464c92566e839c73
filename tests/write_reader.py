"""The write rule's reader: one module's source, every write in it, and the table each writes.

See ``tests/write_rule.py`` for what counts as a write and who may write which table. The reader
infers the receiver of each call from the source: imports are resolved to the real objects (so
``Order`` is the model, ``default_storage`` a storage), names are followed to their assignments,
loop targets, ``with`` targets and annotated parameters, and calls to their results (a model
class gives an instance, a manager or queryset method a queryset, a project function its return
annotation or what its ``return`` statements give). SQL text is followed the same way through
f-strings, ``+``, ``join``, variables and the project functions that build it.
"""

from __future__ import annotations

import ast
import builtins
from functools import cache
from pathlib import Path
from typing import Any

from tests.source_support import parse
from tests.write_rule import (
    ADMIN_WRITES,
    HOLE,
    ORM_WRITES,
    RELATED_WRITES,
    ROOT,
    SQL_CALLS,
    Write,
    sql_writes,
    tables,
)
from tests.write_values import (
    MANAGERS,
    MISSING,
    ORM_MODULES,
    SAFE,
    UNKNOWN,
    Inst,
    Local,
    Model,
    Obj,
    file_fields,
    from_object,
    is_model_class,
    labels,
    merge,
    model_attribute,
    model_of_class,
    ormish_class,
    project_path,
    receiver,
    resolve,
)

_SCOPES = (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)
_SCALARS = {"count", "exists", "aggregate", "explain", "contains", "acount", "aexists", "aaggregate"}
_SQL_KEYWORDS = ("sql", "query", "raw_query", "statement")
# Expressions whose value is never a model: literals, comprehensions, arithmetic, lambdas.
_LITERALS = (
    ast.Constant, ast.JoinedStr, ast.List, ast.Tuple, ast.Set, ast.Dict, ast.ListComp, ast.SetComp,
    ast.DictComp, ast.GeneratorExp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Lambda,
)  # fmt: skip


class Source:
    """One module's syntax tree, and what the reader infers from it."""

    def __init__(self, text: str, path: str):
        self.path = path  # relative to the project, POSIX
        self.tree = parse(text, filename=path)
        parts = list(Path(path).with_suffix("").parts)
        self.package = ".".join(parts[:-1])  # what a relative import starts from
        self.parents: dict[ast.AST, ast.AST] = {}
        for parent in ast.walk(self.tree):
            for child in ast.iter_child_nodes(parent):
                self.parents[child] = parent
        self._memo: dict[int, Any] = {}
        self._bindings_memo: dict[int, dict[str, list[tuple]]] = {}

    @staticmethod
    @cache
    def of(path: Path) -> Source:
        path = path.resolve()
        return Source(path.read_text(encoding="utf-8"), path.relative_to(ROOT).as_posix())

    # --- the writes ----------------------------------------------------------------------------

    def writes(self) -> list[Write]:
        calls = [n for n in ast.walk(self.tree) if isinstance(n, ast.Call)]
        calls.sort(key=lambda n: (n.lineno, n.col_offset))
        return [w for node in calls for w in self._call_writes(node)]

    def _write(self, node: ast.Call, table: str | None) -> Write:
        return Write(self.path, node.lineno, ast.unparse(node.func)[:80], table)

    def _call_writes(self, node: ast.Call) -> list[Write]:
        func = node.func
        if isinstance(func, ast.Attribute):
            name = func.attr
            if name in ADMIN_WRITES and self._admin_default(node):
                return [self._write(node, None)]
            if name in ORM_WRITES:
                if self._delegates(node):
                    return []
                receiver = self._receiver_of(func.value)
                if receiver == SAFE or self._not_an_orm_call(node, name, receiver):
                    return []
                return [self._write(node, receiver.label if isinstance(receiver, Model) else None)]
            if name in RELATED_WRITES:
                receiver = self._receiver_of(func.value)
                return [self._write(node, receiver.label)] if isinstance(receiver, Model) else []
            if name in SQL_CALLS:
                named = (k.value for k in node.keywords if k.arg in _SQL_KEYWORDS)
                sql = node.args[0] if node.args else next(named, None)
                return [] if sql is None else [self._write(node, t) for t in self._sql_tables(sql)]
        target = self._value(func)
        if isinstance(target, Obj):
            from shopops import pgcopy

            if target.value is pgcopy.insert and node.args:
                receiver = self._receiver_of(node.args[0])
                return [self._write(node, receiver.label if isinstance(receiver, Model) else None)]
            if target.value is pgcopy.copy_lines and len(node.args) > 1:
                return [self._write(node, t) for t in self._sql_tables(node.args[1])]
            if target.value is pgcopy.copy_rows:
                return [self._write(node, None)]  # a Layout's table: told by the runtime audit
        return []

    def _admin_default(self, node: ast.Call) -> bool:
        """A call of Django admin's own ``save_model``/``delete_queryset``/…: the default save or
        delete (``super().save_model(…)``, ``admin.ModelAdmin.save_model(self, …)``)."""
        target = self._value(node.func)
        if isinstance(target, Obj):
            return (getattr(target.value, "__module__", None) or "").startswith("django.contrib.admin")
        return self._is_super(node.func.value) and not isinstance(target, Local)

    def _sql_tables(self, node: ast.expr) -> list[str | None]:
        text = "".join(HOLE if part is None else part for part in self._sql(node, 0))
        labels = tables()
        return [labels[t] if t is not None else None for t in sql_writes(text) if t is None or t in labels]

    def _not_an_orm_call(self, node: ast.Call, name: str, receiver: Model | str) -> bool:
        """Whether no ORM write accepts these arguments."""
        positional = bool(node.args) and not any(isinstance(a, ast.Starred) for a in node.args)
        false = {k.arg for k in node.keywords if isinstance(k.value, ast.Constant) and k.value.value is False}
        if name in {"update", "aupdate", "create", "acreate"}:
            return positional  # QuerySet.update(**kwargs), QuerySet.create(**kwargs)
        if name in {"save", "asave", "delete", "adelete"}:
            if "commit" in false or "save" in false:
                return True  # ModelForm.save(commit=False); FieldFile.save/delete(…, save=False)
            # Model.save's positional options are deprecated: ``x.save(buffer)`` is a workbook's,
            # an image's… unless ``x`` is a model (``Order.save(order)``) or a file field.
            file_field = isinstance(node.func.value, ast.Attribute) and node.func.value.attr in file_fields()
            return name == "save" and positional and receiver == UNKNOWN and not file_field
        return False

    # --- scopes and names ----------------------------------------------------------------------

    def _enclosing(self, node: ast.AST, kinds: tuple) -> ast.AST | None:
        node = self.parents.get(node)
        while node is not None and not isinstance(node, kinds):
            node = self.parents.get(node)
        return node

    def _is_super(self, node: ast.expr) -> bool:
        return isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "super"

    def _delegates(self, node: ast.Call) -> bool:
        """``super().save()`` inside ``def save``: an override handing on its caller's write."""
        function = self._enclosing(node, _FUNCTIONS)
        return self._is_super(node.func.value) and function is not None and function.name == node.func.attr

    def _scopes(self, at: ast.AST) -> list[ast.AST]:
        scopes, node, in_function = [], self.parents.get(at), False
        while node is not None:
            if isinstance(node, (*_FUNCTIONS, ast.Lambda)):
                scopes.append(node)
                in_function = True
            elif isinstance(node, ast.ClassDef) and not in_function:
                scopes.append(node)
            node = self.parents.get(node)
        return [*scopes, self.tree]

    @staticmethod
    def _own_nodes(scope: ast.AST):
        stack = list(ast.iter_child_nodes(scope))
        while stack:
            node = stack.pop()
            yield node
            if not isinstance(node, _SCOPES):
                stack.extend(ast.iter_child_nodes(node))

    def _bindings(self, scope: ast.AST, name: str) -> list[tuple]:
        """How ``name`` is bound in ``scope`` (not in the scopes nested in it), in source order."""
        index = self._bindings_memo.get(id(scope))
        if index is None:
            index = self._bindings_memo[id(scope)] = self._index(scope)
        return index.get(name, [])

    def _index(self, scope: ast.AST) -> dict[str, list[tuple]]:
        found: dict[str, list[tuple]] = {}

        def bind(name: str, *binding) -> None:
            found.setdefault(name, []).append(binding)

        if isinstance(scope, (*_FUNCTIONS, ast.Lambda)):
            args = scope.args
            for index, arg in enumerate([*args.posonlyargs, *args.args, *args.kwonlyargs]):
                bind(arg.arg, "param", arg, scope, index)
            for arg in (args.vararg, args.kwarg):
                if arg is not None:
                    bind(arg.arg, "value", SAFE)
        nodes = sorted(
            self._own_nodes(scope), key=lambda n: (getattr(n, "lineno", 0), getattr(n, "col_offset", 0))
        )
        for node in nodes:
            if isinstance(node, ast.Assign | ast.AnnAssign | ast.AugAssign | ast.NamedExpr):
                for target in node.targets if isinstance(node, ast.Assign) else [node.target]:
                    if isinstance(target, ast.Name):
                        bind(target.id, "assign", node)
                    elif isinstance(target, ast.Tuple | ast.List):
                        for position, element in enumerate(target.elts):
                            if isinstance(element, ast.Name):
                                bind(element.id, "unpack", node.value, position)
            elif isinstance(node, ast.For | ast.AsyncFor | ast.comprehension):
                for name in {n.id for n in ast.walk(node.target) if isinstance(n, ast.Name)}:
                    bind(name, "element", node.iter)
            elif isinstance(node, ast.withitem) and isinstance(node.optional_vars, ast.Name):
                bind(node.optional_vars.id, "expr", node.context_expr)
            elif isinstance(node, ast.Import | ast.ImportFrom):
                for alias in node.names:
                    bind(alias.asname or alias.name.split(".")[0], "import", node, alias)
            elif isinstance(node, (*_FUNCTIONS, ast.ClassDef)):
                bind(node.name, "value", Local(node))
            elif isinstance(node, ast.ExceptHandler) and node.name:
                bind(node.name, "value", SAFE)
            elif isinstance(node, ast.Global | ast.Nonlocal):
                for name in node.names:
                    bind(name, "value", UNKNOWN)
        return found

    def _lookup(self, name: str, at: ast.AST, depth: int) -> Any:
        for scope in self._scopes(at):
            bindings = self._bindings(scope, name)
            if bindings:
                return merge([self._binding_value(b, depth) for b in bindings])
        if hasattr(builtins, name):
            return Obj(getattr(builtins, name))
        return UNKNOWN

    def _binding_value(self, binding: tuple, depth: int) -> Any:
        kind = binding[0]
        if kind == "value":
            return binding[1]
        if kind == "param":
            _kind, arg, function, index = binding
            owner = self.parents.get(function)
            if index == 0 and isinstance(owner, ast.ClassDef) and isinstance(function, _FUNCTIONS):
                decorators = {ast.unparse(d) for d in function.decorator_list}
                if "staticmethod" not in decorators:
                    return Local(owner) if "classmethod" in decorators else Inst(owner)
            return UNKNOWN if arg.annotation is None else self._annotation(arg.annotation, depth + 1)
        if kind == "assign":
            node = binding[1]
            if isinstance(node, ast.AugAssign):
                return SAFE if isinstance(node.op, ast.Add) else UNKNOWN  # x += …: numbers and text
            if isinstance(node, ast.AnnAssign):
                hinted = self._annotation(node.annotation, depth + 1)
                if hinted != UNKNOWN or node.value is None:
                    return hinted
            return self._value(node.value, depth + 1)
        if kind == "unpack":
            value_node, index = binding[1], binding[2]
            if isinstance(value_node, ast.Tuple | ast.List) and index < len(value_node.elts):
                return self._value(value_node.elts[index], depth + 1)
            value = self._value(value_node, depth + 1)
            return value if isinstance(value, Model) else UNKNOWN
        if kind == "element":
            return self._element(binding[1], depth + 1)
        if kind == "expr":
            return self._value(binding[1], depth + 1)
        if kind == "import":
            return self._imported(binding[1], binding[2])
        return UNKNOWN

    def _imported(self, node: ast.Import | ast.ImportFrom, alias: ast.alias) -> Any:
        if isinstance(node, ast.Import):
            dotted = alias.name if alias.asname else alias.name.split(".")[0]
        else:
            base = node.module or ""
            if node.level:
                anchor = self.package.split(".")
                anchor = anchor[: len(anchor) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            dotted = f"{base}.{alias.name}"
        found = resolve(dotted)
        return UNKNOWN if found is MISSING else from_object(found)

    # --- values --------------------------------------------------------------------------------

    def _value(self, node: ast.expr, depth: int = 0) -> Any:
        if depth > 20:
            return UNKNOWN
        key = id(node)
        if key in self._memo:
            return self._memo[key]
        self._memo[key] = UNKNOWN  # a name that depends on itself
        value = self._compute(node, depth)
        self._memo[key] = value
        return value

    def _compute(self, node: ast.expr, depth: int) -> Any:
        if isinstance(node, _LITERALS):
            return SAFE
        if isinstance(node, ast.Name):
            return self._lookup(node.id, node, depth)
        if isinstance(node, ast.Attribute):
            return self._attribute(self._value(node.value, depth + 1), node.attr, depth)
        if isinstance(node, ast.Call):
            return self._call(node, depth)
        if isinstance(node, ast.Subscript):
            base = self._value(node.value, depth + 1)
            return base if isinstance(base, Model) else UNKNOWN
        if isinstance(node, ast.Await | ast.NamedExpr):
            return self._value(node.value, depth + 1)
        if isinstance(node, ast.IfExp):
            return merge([self._value(node.body, depth + 1), self._value(node.orelse, depth + 1)])
        if isinstance(node, ast.BoolOp):
            return merge([self._value(v, depth + 1) for v in node.values])
        return UNKNOWN

    def _element(self, node: ast.expr, depth: int) -> Any:
        """What iterating ``node`` gives."""
        if isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp):
            return self._value(node.elt, depth + 1)
        if isinstance(node, ast.List | ast.Tuple | ast.Set):
            return merge([self._value(e, depth + 1) for e in node.elts]) if node.elts else SAFE
        value = self._value(node, depth + 1)
        return value if isinstance(value, Model) else UNKNOWN

    def _attribute(self, base: Any, attr: str, depth: int) -> Any:
        if isinstance(base, Model):
            if attr in MANAGERS:
                return base
            if base.label is None or base.label not in labels():
                return model_attribute(None, attr)
            return model_attribute(base.label, attr)
        if isinstance(base, Obj):
            try:
                return from_object(getattr(base.value, attr))
            except Exception:
                return UNKNOWN
        if isinstance(base, Inst | Local) and isinstance(base.node, ast.ClassDef):
            return self._class_attribute(base.node, attr, depth, own=not getattr(base, "is_super", False))
        if base == UNKNOWN:
            return model_attribute(None, attr)
        return UNKNOWN

    def _class_attribute(self, node: ast.ClassDef, attr: str, depth: int, *, own: bool = True) -> Any:
        """``attr`` of the class ``node`` (``own=False``: of its bases, as ``super()`` sees it)."""
        for statement in node.body if own else []:
            if isinstance(statement, (*_FUNCTIONS, ast.ClassDef)) and statement.name == attr:
                return Local(statement)
        for base in self._bases(node, depth):
            if isinstance(base, Obj) and hasattr(base.value, attr):
                return from_object(getattr(base.value, attr))
        return model_attribute(None, attr)

    def _bases(self, node: ast.ClassDef, depth: int) -> list[Any]:
        return [self._value(b, depth + 1) for b in node.bases]

    def _class_kind(self, node: ast.ClassDef, depth: int = 0) -> Any:
        """A class defined here: a model (or manager, queryset, model form), ``SAFE``, or ``UNKNOWN``."""
        kinds = []
        for base in self._bases(node, depth):
            if isinstance(base, Model):
                kinds.append(Model(None))
            elif isinstance(base, Obj) and isinstance(base.value, type):
                kinds.append(Model(None) if ormish_class(base.value) else SAFE)
            elif isinstance(base, Local) and isinstance(base.node, ast.ClassDef) and depth < 10:
                kinds.append(self._class_kind(base.node, depth + 1))
            else:
                kinds.append(UNKNOWN)
        if any(isinstance(k, Model) for k in kinds):
            return Model(None)
        return SAFE if all(k == SAFE for k in kinds) else UNKNOWN

    def _receiver_of(self, node: ast.expr) -> Model | str:
        value = self._value(node)
        if isinstance(value, Inst):
            return self._class_kind(value.node)
        if isinstance(value, Local):
            return UNKNOWN
        return receiver(value)

    def _call(self, node: ast.Call, depth: int) -> Any:
        func = node.func
        if isinstance(func, ast.Name) and func.id == "super":
            owner = self._enclosing(node, (ast.ClassDef,))
            return Inst(owner, is_super=True) if owner is not None else UNKNOWN
        if isinstance(func, ast.Attribute):
            if func.attr == "get_model" and node.args and all(isinstance(a, ast.Constant) for a in node.args):
                return Model(".".join(str(a.value) for a in node.args[:2]))
            receiver = self._value(func.value, depth + 1)
            if isinstance(receiver, Model):
                return SAFE if func.attr in _SCALARS else Model(receiver.label)
            target = self._attribute(receiver, func.attr, depth)
        else:
            target = self._value(func, depth + 1)
        return self._result(target, node, depth)

    def _result(self, target: Any, node: ast.Call, depth: int) -> Any:
        """What calling ``target`` gives."""
        if isinstance(target, Model):
            return target
        if isinstance(target, Local):
            if isinstance(target.node, ast.ClassDef):
                return self._class_kind(target.node, depth)
            return self._returned(target.node, depth)
        if not isinstance(target, Obj):
            return UNKNOWN
        value = target.value
        name = f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}"
        if name in {"django.shortcuts.get_object_or_404", "django.shortcuts.get_list_or_404"} and node.args:
            found = self._value(node.args[0], depth + 1)
            return found if isinstance(found, Model) else UNKNOWN
        if name == "django.contrib.auth.get_user_model":
            from django.conf import settings

            return Model(settings.AUTH_USER_MODEL)
        if isinstance(value, type):
            if ormish_class(value):
                model = getattr(getattr(value, "_meta", None), "model", None)
                return model_of_class(model) if is_model_class(model) else Model(None)
            return SAFE
        path = project_path(value)
        if path is not None:
            function = Source.of(path).function(getattr(value, "__qualname__", ""))
            return UNKNOWN if function is None else Source.of(path)._returned(function, depth)
        module = getattr(value, "__module__", None) or ""
        if module.startswith(ORM_MODULES) or not module:
            return UNKNOWN
        return SAFE  # third-party code other than the ORM's hands out no model

    def _returned(self, function: ast.FunctionDef | ast.AsyncFunctionDef, depth: int) -> Any:
        """What ``function`` returns: its return annotation, else what its ``return`` statements give."""
        if function.returns is not None:
            return self._annotation(function.returns, depth + 1)
        if depth > 12:
            return UNKNOWN
        returned = [n.value for n in self._own_nodes(function) if isinstance(n, ast.Return)]
        if not returned:
            return SAFE
        return merge([SAFE if v is None else self._value(v, depth + 1) for v in returned])

    def function(self, qualname: str) -> ast.FunctionDef | ast.AsyncFunctionDef | None:
        """The function (or method, ``Class.name``) ``qualname`` defined in this module."""
        body: list = self.tree.body
        found = None
        for part in qualname.split("."):
            found = next((n for n in body if isinstance(n, _SCOPES) and getattr(n, "name", "") == part), None)
            if found is None:
                return None
            body = found.body
        return found if isinstance(found, _FUNCTIONS) else None

    def _annotation(self, node: ast.expr, depth: int) -> Any:
        """What a value annotated ``node`` is."""
        if depth > 20:
            return UNKNOWN
        if isinstance(node, ast.Constant):
            if node.value is None:
                return SAFE
            if isinstance(node.value, str):
                try:
                    parsed = parse(node.value, mode="eval").body
                except SyntaxError:
                    return UNKNOWN
                self.parents[parsed] = node  # resolved in the scope of the annotation
                return self._annotation(parsed, depth + 1)
            return UNKNOWN
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr):
            return merge([self._annotation(node.left, depth + 1), self._annotation(node.right, depth + 1)])
        if isinstance(node, ast.Subscript):
            base = self._value(node.value, depth + 1)
            inner = node.slice.elts if isinstance(node.slice, ast.Tuple) else [node.slice]
            if isinstance(base, Obj):
                origin = base.value
                name = getattr(origin, "_name", None) or getattr(origin, "__name__", "")
                if name in {"Optional", "Union", "Annotated"}:
                    hints = [
                        self._annotation(i, depth + 1) for i in (inner[:1] if name == "Annotated" else inner)
                    ]
                    return merge(hints)
                if (isinstance(origin, type) and ormish_class(origin)) or name == "type":
                    found = self._annotation(inner[0], depth + 1)
                    return found if isinstance(found, Model) else Model(None)
                return SAFE  # list[…], dict[…], Iterable[…]: a container is not a model
            return UNKNOWN
        value = self._value(node, depth + 1)
        if isinstance(value, Obj):
            if value.value is Any:
                return UNKNOWN
            return receiver(value) if isinstance(value.value, type) else UNKNOWN
        if isinstance(value, Local) and isinstance(value.node, ast.ClassDef):
            return self._class_kind(value.node, depth)
        return value if isinstance(value, Model) else UNKNOWN

    # --- SQL text ------------------------------------------------------------------------------

    def _sql(self, node: ast.expr | None, depth: int) -> list[str | None]:
        """The text ``node`` evaluates to, as parts (``None``: a part the reader cannot know)."""
        if node is None or depth > 12:
            return [None]
        if isinstance(node, ast.Constant) and isinstance(node.value, str | bytes):
            return [node.value.decode() if isinstance(node.value, bytes) else node.value]
        if isinstance(node, ast.JoinedStr):
            parts: list[str | None] = []
            for value in node.values:
                inner = value.value if isinstance(value, ast.FormattedValue) else value
                parts += self._sql(inner, depth + 1)
            return parts
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Add):
            return self._sql(node.left, depth + 1) + self._sql(node.right, depth + 1)
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod):
            return self._sql(node.left, depth + 1)  # "… %s …" % values: the values are data
        if isinstance(node, ast.IfExp):
            return [*self._sql(node.body, depth + 1), " ", *self._sql(node.orelse, depth + 1)]
        if isinstance(node, ast.Name):
            return self._sql_name(node, depth)
        if isinstance(node, ast.Call):
            func = node.func
            if isinstance(func, ast.Attribute) and func.attr in {
                "format",
                "strip",
                "rstrip",
                "lstrip",
                "upper",
            }:
                return self._sql(func.value, depth + 1)
            if isinstance(func, ast.Attribute) and func.attr == "join" and node.args:
                items = node.args[0]
                if isinstance(items, ast.ListComp | ast.GeneratorExp):
                    return self._sql(items.elt, depth + 1)
                if isinstance(items, ast.List | ast.Tuple):
                    return [p for item in items.elts for p in [*self._sql(item, depth + 1), " "]]
                return [None]
            return self._sql_returned(node, None, depth)
        return [None]

    def _sql_name(self, node: ast.Name, depth: int) -> list[str | None]:
        for scope in self._scopes(node):
            bindings = self._bindings(scope, node.id)
            if not bindings:
                continue
            parts: list[str | None] = []
            for binding in bindings:  # in the order of the source: ``sql += …`` builds on ``sql = …``
                if binding[0] == "assign" and binding[1].value is not None:
                    parts += [*self._sql(binding[1].value, depth + 1), " "]
                elif binding[0] == "unpack":
                    parts += [*self._sql_element(binding[1], binding[2], depth + 1), " "]
                else:
                    parts.append(None)
            return parts
        return [None]

    def _sql_element(self, node: ast.expr, index: int, depth: int) -> list[str | None]:
        if isinstance(node, ast.Tuple) and index < len(node.elts):
            return self._sql(node.elts[index], depth + 1)
        if isinstance(node, ast.Call):
            return self._sql_returned(node, index, depth)
        return [None]

    def _sql_returned(self, node: ast.Call, index: int | None, depth: int) -> list[str | None]:
        """The text a project function returns (element ``index`` of the tuple it returns)."""
        target = self._value(node.func)
        source, function = self, None
        if isinstance(target, Local) and isinstance(target.node, _FUNCTIONS):
            function = target.node
        elif isinstance(target, Obj) and (path := project_path(target.value)) is not None:
            source = Source.of(path)
            function = source.function(getattr(target.value, "__qualname__", ""))
        if function is None:
            return [None]
        parts: list[str | None] = []
        for returned in (n for n in source._own_nodes(function) if isinstance(n, ast.Return)):
            if index is None:
                parts += [*source._sql(returned.value, depth + 1), " "]
            else:
                parts += [*source._sql_element(returned.value, index, depth + 1), " "]
        return parts or [None]
