"""Print (or write to docs/workflow.md) the order and refund state machines, generated from the
django-fsm transitions declared on the models and the transition declarations of
``orders/transitions.py`` (label, inputs, evidence, groups), so the documentation cannot drift
from the code.

    python manage.py workflow_diagram           # print the Markdown
    python manage.py workflow_diagram --write   # rewrite docs/workflow.md
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import models
from django.utils import translation

from orders.groups import GROUPS
from orders.models import PURCHASE_MOVES, Order, PurchaseStatus, Refund, RefundStatus, Status
from orders.policy import BUYER_RECEIVED_PERMISSION
from orders.transitions import CURRENCY_RULES, DEFAULT_RULES, KINDS, TRANSITIONS, Input, Transition

DOC_PATH = Path(settings.BASE_DIR) / "docs" / "workflow.md"

# The entry state of each machine, and the states in which it ends.
_STARTS = {Order: Status.AWAITING_PAYMENT, Refund: RefundStatus.REQUESTED}
_ENDS = {
    Order: [Status.CLOSED],
    Refund: [RefundStatus.RECEIVED, RefundStatus.REJECTED, RefundStatus.CANCELLED],
}
# What runs the refund transitions that carry no permission of their own.
_REFUND_RUN_BY = {
    "succeed": "workflow: `confirm_refund`, `receive_return`, `record_supplier_approval`, `resolve_dispute`, "
    "`record_purchase_refund_approval`",
    "reject": "workflow: `record_supplier_refusal`, `record_purchase_refund_refusal`",
}
# Who else runs a refund transition, on which refunds, beside the holders of its own permission.
_REFUND_ALSO = {"mark_received": ("a buyer's refund", BUYER_RECEIVED_PERMISSION)}


def _transitions(model: type[models.Model]) -> list:
    """(name, sources, target, permission) per transition, in a stable order."""
    merged: dict[str, dict] = {}
    for t in model._meta.get_field("status").get_all_transitions(model):
        row = merged.setdefault(t.name, {"sources": [], "target": str(t.target), "permission": t.permission})
        row["sources"].append(str(t.source))
    if model is Order:
        order = list(TRANSITIONS)
        names = sorted(merged, key=lambda n: order.index(n) if n in order else len(order))
    else:
        names = sorted(merged)
    return [(n, merged[n]["sources"], merged[n]["target"], merged[n]["permission"]) for n in names]


def _groups_with(permission: str | None) -> str:
    if not permission:
        return "—"
    holders = [name for name, perms in GROUPS.items() if permission in perms]
    return ", ".join(holders) or "—"


def _declared_groups(name: str, permission: str | None) -> str:
    if name in TRANSITIONS:
        return ", ".join(TRANSITIONS[name].groups) or "—"
    return _groups_with(permission)


def _cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def _details(t: Transition) -> list[str]:
    """One transition's declaration: inputs, evidence, permission and groups."""
    out = [
        f"### {t.label} (`{t.name}`)",
        "",
        f"Permission `{t.permission}` ({t.permission_label}), held by {', '.join(t.groups)}.",
        "",
    ]
    if t.evidence is None:
        out.append("Evidence: none required.")
    else:
        out.append(f"Evidence: {t.evidence.sentence}")
    out.append("")
    if not t.inputs:
        out += ["Inputs: none.", ""]
        return out
    out += ["| input | kind | required | label | default | help |", "|---|---|---|---|---|---|"]
    for i in t.inputs:
        kind = f"{i.kind} ({i.max_length})" if i.max_length else i.kind
        default = DEFAULT_RULES[i.default] if i.default else ""
        out.append(
            f"| `{i.name}` | {kind} | {'yes' if i.required else 'no'} | {_cell(_label(i))} "
            f"| {_cell(default)} | {_cell(_help(i))} |"
        )
    out.append("")
    return out


def _label(i: Input) -> str:
    label = i.label
    if i.currency:
        label += f" (in {CURRENCY_RULES[i.currency]})"
    if i.supplier_label:
        label += f"; a supplier's dispute: {i.supplier_label}"
    return label


def _help(i: Input) -> str:
    if i.supplier_help:
        return f"A buyer's dispute: {i.help} A supplier's dispute: {i.supplier_help}"
    return i.help


def _purchase() -> list[str]:
    """The 1688 purchase's statuses and the moves made by hand (docs/purchase.md tells the rest)."""
    out = [
        "## Purchase status",
        "",
        "The 1688 purchase behind the sale (`SupplierOrder.status`, see `docs/purchase.md`). By hand",
        "(`workflow.update_purchase`, `orders.change_supplierorder`) it moves only forward; a paid,",
        "not shipped close that keeps the goods makes it `received`, and the supplier's approval of",
        "a money-only refund of all its units makes it `cancelled`.",
        "",
        "| status | label | may become |",
        "|---|---|---|",
    ]
    for status in PurchaseStatus:
        moves = ", ".join(f"`{m}`" for m in PURCHASE_MOVES[status]) or "—"
        out.append(f"| `{status.value}` | {status.label} | {moves} |")
    out.append("")
    return out


def _diagram(model: type[models.Model]) -> list[str]:
    states = [str(choice) for choice, _label in model._meta.get_field("status").choices]
    labels = dict(model._meta.get_field("status").choices)
    lines = ["```mermaid", "stateDiagram-v2"]
    lines += [f"    {s} : {s}<br/>{labels[s]}" for s in states]
    lines.append(f"    [*] --> {_STARTS[model]}")
    for name, sources, target, _perm in _transitions(model):
        lines += [f"    {source} --> {target} : {name}" for source in sources]
    lines += [f"    {end} --> [*]" for end in _ENDS[model]]
    lines.append("```")
    return lines


def render() -> str:
    """The whole of docs/workflow.md, in English (the untranslated labels) whatever the locale."""
    with translation.override(None):
        return _render()


def _render() -> str:
    out = [
        "# The close workflow",
        "",
        "<!-- Generated by `python manage.py workflow_diagram --write` from the django-fsm transitions",
        "     in orders/models/order.py and the declarations in orders/transitions.py;",
        "     tests/test_workflow_diagram.py fails when this file is stale. -->",
        "",
        "Every transition runs through one function of `orders.workflow` with the same name (SPEC",
        "section 7): it checks the permission, locks the order, checks the requirements, moves the",
        "state and writes one history event.",
        "",
        "## Order status",
        "",
        *_diagram(Order),
        "",
        "| transition | from | to | permission | groups | label |",
        "|---|---|---|---|---|---|",
    ]
    for name, sources, target, perm in _transitions(Order):
        label = TRANSITIONS[name].label if name in TRANSITIONS else ""
        froms = ", ".join(f"`{s}`" for s in sources)
        groups = _declared_groups(name, perm)
        out.append(f"| `{name}` | {froms} | `{target}` | `{perm}` | {groups} | {label} |")
    out += [
        "",
        "The Supervisor group holds every Operator permission as well. The payment-timeout job runs",
        "`close_unpaid` as the system (no user), which is always allowed.",
        "",
        "## The transitions",
        "",
        "Each is declared once in `orders/transitions.py`; its form on the order page has exactly",
        "these inputs (the workflow function's keyword arguments), the required ones first.",
        "Evidence counts only when recorded since the order's current status began; the order page",
        "offers to record it with the form's defaults (who, which way, what kind) set for the step.",
        "Input kinds: " + "; ".join(f"{kind}: {text}" for kind, text in KINDS.items()) + ".",
        "",
    ]
    for t in TRANSITIONS.values():
        out += _details(t)
    out += _purchase()
    out += [
        "## Refund status",
        "",
        *_diagram(Refund),
        "",
        "| transition | from | to | permission | run by |",
        "|---|---|---|---|---|",
    ]
    for name, sources, target, perm in _transitions(Refund):
        froms = ", ".join(f"`{s}`" for s in sources)
        run_by = _groups_with(perm) if perm else _REFUND_RUN_BY.get(name, "workflow")
        if name in _REFUND_ALSO:
            which, also = _REFUND_ALSO[name]
            run_by += f"; {which} also {_groups_with(also)} (`{also}`)"
        out.append(f"| `{name}` | {froms} | `{target}` | {f'`{perm}`' if perm else '—'} | {run_by} |")
    out.append("")
    return "\n".join(out)


class Command(BaseCommand):
    help = "Print the order and refund state machines as Markdown with mermaid (--write: docs/workflow.md)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--write", action="store_true", help=f"write {DOC_PATH} instead of printing")

    def handle(self, *args, write: bool = False, **options) -> None:
        text = render()
        if write:
            DOC_PATH.parent.mkdir(parents=True, exist_ok=True)
            DOC_PATH.write_text(text, encoding="utf-8")
            self.stdout.write(self.style.SUCCESS(f"Wrote {DOC_PATH}"))
        else:
            self.stdout.write(text, ending="")
