"""The version a form was read at: no write from a stale form silently undoes someone else's.

Supervisor A opened *Correct contact details*, B corrected the phone, A then saved an email change
from the old form and B's phone went back to the old one. Every correction form, and every
transition form that shows a value it may change (the close reason, the carrier), carries the
version of the values it showed: :func:`version_of`, a digest of them, in a hidden field. The
workflow compares it with the locked row and refuses a stale submit with ``shopops.errors.Stale``
(the screens answer 409), saying what changed meanwhile and who changed it: walking the order's
history back from now, each event that recorded ``{field: {"old": …, "new": …}}`` is undone on a
copy until the values are the ones the form showed.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

from django.core.exceptions import FieldDoesNotExist
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops.errors import Stale

from ..models import Order, OrderEvent
from .events import event_label

# How far back the history is read to say what changed (the form was open minutes, not months).
_EVENTS_READ = 50


def version_of(obj: Any, fields: Sequence[str] | Iterable[str]) -> str:
    """A short digest of the values of ``fields`` on ``obj``, as a form shows them."""
    values = [[name, _as_text(getattr(obj, name))] for name in fields]
    return hashlib.sha256(json.dumps(values, ensure_ascii=False).encode()).hexdigest()[:20]


def _as_text(value: Any) -> str:
    return "" if value is None else str(value)


def _digest(values: dict[str, str], fields: Sequence[str]) -> str:
    return hashlib.sha256(
        json.dumps([[name, values[name]] for name in fields], ensure_ascii=False).encode()
    ).hexdigest()[:20]


def _label(model: type, field: str) -> str:
    try:
        return str(model._meta.get_field(field).verbose_name)
    except FieldDoesNotExist:
        return field


def _who(event: OrderEvent) -> str:
    return event.actor.get_username() if event.actor_id else _("the system")


def _when(event: OrderEvent) -> str:
    return timezone.localtime(event.created_at).strftime("%Y-%m-%d %H:%M")


def check_order_version(order: Order, fields: Sequence[str], seen: str | None) -> None:
    """Refuse (``Stale``) unless the values of ``fields`` on the locked ``order`` are still those of
    version ``seen``; ``None`` (a script that read the order just now) is not checked."""
    if seen is None or not fields:
        return
    fields = list(fields)
    current = version_of(order, fields)
    if seen == current:
        return
    values = {name: _as_text(getattr(order, name)) for name in fields}
    said: list[str] = []
    changes: dict[str, dict[str, str]] = {}
    last: OrderEvent | None = None
    history = OrderEvent.objects.filter(order=order).select_related("actor").order_by("-created_at", "-id")
    for event in history[:_EVENTS_READ]:
        touched = {
            name: change
            for name, change in (event.data or {}).items()
            if name in values and isinstance(change, dict) and {"old", "new"} <= set(change)
        }
        last = last or event
        if not touched:
            continue
        for name, change in touched.items():
            values[name] = _as_text(change["old"])
            changes.setdefault(name, {"old": _as_text(change["old"]), "new": _as_text(change["new"])})
            changes[name]["old"] = _as_text(change["old"])
            said.append(
                _("%(who)s changed %(field)s from “%(old)s” to “%(new)s” (%(when)s)")
                % {
                    "who": _who(event),
                    "field": _label(Order, name),
                    "old": change["old"] or "",
                    "new": change["new"] or "",
                    "when": _when(event),
                }
            )
        if _digest(values, fields) == seen:
            break
    else:
        said = []
    if said:
        what = "; ".join(reversed(said))
        message = _(
            "While you had this form open, %(changes)s. Nothing was saved: the form now shows the "
            "current values; check them and submit again."
        ) % {"changes": what}
    elif last is not None:
        message = _(
            "Order %(order)s was changed while you had this form open (last: “%(event)s” by %(who)s, "
            "%(when)s). Nothing was saved: the form now shows the current values; check them and "
            "submit again."
        ) % {"order": order, "event": event_label(last.transition), "who": _who(last), "when": _when(last)}
    else:
        message = _(
            "Order %(order)s was changed while you had this form open. Nothing was saved: the form "
            "now shows the current values; check them and submit again."
        ) % {"order": order}
    raise Stale(message, version=current, changes=changes if said else {})
