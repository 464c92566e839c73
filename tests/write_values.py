"""What the write rule's reader (``tests/write_reader.py``) knows of a value, and of the models.

A value is a :class:`Model` (an instance, class, manager or queryset of a model), an :class:`Obj`
(a real object an import names), a :class:`Local` (a function or class of the module read), an
:class:`Inst` (``self`` or ``super()``), ``SAFE`` (provably not a model) or ``UNKNOWN``.
"""

from __future__ import annotations

import ast
import importlib
import inspect
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from tests.write_rule import OWNERS, PACKAGES, ROOT

# Third-party code that hands out model instances, managers or querysets: a call into it has an
# unknown result. Any other third-party function returns something that is not a model.
ORM_MODULES = (
    "django.db",
    "django.forms.models",
    "django.contrib.admin",
    "django.apps",
    "django.core.serializers",
)
MANAGERS = {"objects", "_default_manager", "_base_manager"}


@dataclass(frozen=True)
class Model:
    """A model class, instance, manager or queryset; ``label`` ``None``: of a model not known."""

    label: str | None


@dataclass(frozen=True)
class Obj:
    """A real object an import names: a module, class, function or instance."""

    value: Any


@dataclass(frozen=True)
class Local:
    """A function or class defined in the module read."""

    node: ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef


@dataclass(frozen=True)
class Inst:
    """``self`` (or ``super()``) in a method of the class ``node``."""

    node: ast.ClassDef
    is_super: bool = False


SAFE = "safe"  # provably not a model
UNKNOWN = "unknown"


def is_model_class(value: Any) -> bool:
    from django.db import models

    return isinstance(value, type) and issubclass(value, models.Model)


def model_of_class(cls: type) -> Model:
    """A model class's label; an abstract one stands for any of its subclasses (Django's own
    ``models.Model``, which has no ``_meta``, for any model)."""
    from django.apps import apps

    if not hasattr(cls, "_meta"):
        return Model(None)
    if not cls._meta.abstract:
        return Model(cls._meta.label)
    owned = [m for m in apps.get_models() if issubclass(m, cls) and m._meta.label in OWNERS]
    return Model(None if owned else f"{cls.__module__}.{cls.__qualname__}")


def ormish_class(cls: type) -> bool:
    from django.db.models import Manager, QuerySet
    from django.forms.models import BaseModelForm, BaseModelFormSet

    return issubclass(cls, Manager | QuerySet | BaseModelForm | BaseModelFormSet)


def from_object(value: Any) -> Any:
    """What the reader knows of a real object."""
    from django.db.models import Manager, QuerySet

    if is_model_class(value):
        return model_of_class(value)
    if isinstance(value, Manager | QuerySet):
        return Model(value.model._meta.label if value.model else None)
    owner = getattr(value, "__self__", None)  # a bound method of a model, manager or queryset
    if (
        owner is not None
        and not inspect.ismodule(owner)
        and (is_model_class(owner) or isinstance(owner, Manager | QuerySet))
    ):
        return from_object(owner)
    return Obj(value)


def receiver(value: Any) -> Model | str:
    """``value`` as the receiver of a write: a model (label or ``None``), ``SAFE`` or ``UNKNOWN``."""
    if isinstance(value, Model) or value in (SAFE, UNKNOWN):
        return value
    if isinstance(value, Obj):  # a class, or a module, function or instance of a class
        target = value.value
        return Model(None) if ormish_class(target if isinstance(target, type) else type(target)) else SAFE
    return UNKNOWN  # ``self`` and local classes are decided by their bases (Source._receiver_of)


def merge(values: list[Any]) -> Any:
    """One value for several (the bindings of a name, the members of a union): a model if any is
    one (its label when no other value is unknown), ``SAFE`` if all are, else ``UNKNOWN``."""
    models_ = [v for v in values if isinstance(v, Model)]
    if models_:
        labels = {m.label for m in models_}
        unknown = any(v == UNKNOWN or isinstance(v, Inst | Local | Obj) for v in values)
        return Model(labels.pop() if len(labels) == 1 and not unknown else None)
    if values and all(v == SAFE for v in values):
        return SAFE
    if len(values) == 1:
        return values[0]
    return UNKNOWN


def project_path(obj: Any) -> Path | None:
    """The project file that defines ``obj`` (a function or class), if any."""
    try:
        path = Path(inspect.getsourcefile(inspect.unwrap(obj))).resolve()
    except (TypeError, ValueError):
        return None
    return path if path.is_relative_to(ROOT) and path.relative_to(ROOT).parts[0] in PACKAGES else None


@cache
def related_names() -> dict[str, str | None]:
    """Attribute name → the model it leads to, for every relation of the project's models (``None``:
    the name leads to more than one)."""
    from django.apps import apps

    found: dict[str, set[str]] = {}
    for model in apps.get_models():
        if model._meta.app_label not in PACKAGES:
            continue
        for field in model._meta.get_fields():
            if field.is_relation and field.related_model is not None:
                name = field.get_accessor_name() if field.auto_created and not field.concrete else field.name
                if name:
                    found.setdefault(name, set()).add(field.related_model._meta.label)
    return {name: labels.pop() if len(labels) == 1 else None for name, labels in found.items()}


@cache
def file_fields() -> frozenset[str]:
    from django.apps import apps
    from django.db.models import FileField

    return frozenset(
        f.name
        for m in apps.get_models()
        if m._meta.label in OWNERS
        for f in m._meta.fields
        if isinstance(f, FileField)
    )


MISSING = object()


@cache
def resolve(dotted: str) -> Any:
    """The object ``dotted`` names (a module, or an attribute of one), or ``MISSING``."""
    try:
        return importlib.import_module(dotted)
    except ImportError:
        pass
    parent, _, attr = dotted.rpartition(".")
    if not parent:
        return MISSING
    found = resolve(parent)
    return MISSING if found is MISSING else getattr(found, attr, MISSING)


@cache
def labels() -> frozenset[str]:
    from django.apps import apps

    return frozenset(m._meta.label for m in apps.get_models())


def model_attribute(label: str | None, attr: str) -> Any:
    """What ``x.attr`` is for ``x`` an instance of the model ``label`` (``None``: of any model)."""
    from django.apps import apps
    from django.db.models import FileField, Manager

    if attr in MANAGERS:
        return Model(label)
    if label is None:
        if attr in related_names():
            return Model(related_names()[attr])
        return Model(None) if attr in file_fields() else UNKNOWN
    model = apps.get_model(label)
    for field in model._meta.get_fields():
        name = field.get_accessor_name() if field.auto_created and not field.concrete else field.name
        if name == attr:
            if field.is_relation and field.related_model is not None:
                return Model(field.related_model._meta.label)
            return Model(label) if isinstance(field, FileField) else SAFE
    return Model(label) if isinstance(getattr(model, attr, None), Manager) else UNKNOWN
