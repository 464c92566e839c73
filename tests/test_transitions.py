"""One declaration per transition (orders/transitions.py), and everything derived from it agrees.

The model permissions, the groups, the workflow functions' keyword inputs, the transition
forms, the evidence form defaults and the history labels are all checked against the
declarations, so adding a transition in one place and forgetting another fails here.
"""

import ast
import inspect
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.auth.models import Group
from django.utils import translation

from evidence.models import Channel, Counterparty, Direction, Kind
from orders import workflow
from orders.forms import EVIDENCE_DEFAULTS, INITIAL_BY_RULE, TransitionForm, input_wording, transition_initial
from orders.groups import GROUPS, OPERATOR_TRANSITIONS, SUPERVISOR_TRANSITIONS
from orders.models import Order, Status
from orders.transitions import CURRENCY_RULES, DEFAULT_RULES, KINDS, TRANSITIONS
from orders.workflow.events import OTHER_EVENT_LABELS, event_label
from tests.factories import OrderFactory
from tests.source_support import parse

BASE = Path(settings.BASE_DIR)


def _transition_permissions(perms) -> set[str]:
    return {p for p in perms if p.startswith("orders.") and p.split(".", 1)[1] in TRANSITIONS}


# --- permissions ---------------------------------------------------------------------------


def test_every_declaration_has_its_permission_in_order_meta():
    meta = dict(Order._meta.permissions)
    for t in TRANSITIONS.values():
        assert t.permission == f"orders.{t.name}"
        assert str(meta[t.codename]) == t.permission_label, t.name


def test_every_fsm_transition_of_the_order_is_declared_with_the_same_permission():
    fsm = {t.name: t.permission for t in Order._meta.get_field("status").get_all_transitions(Order)}
    assert set(fsm) == set(TRANSITIONS)
    for name, permission in fsm.items():
        assert permission == TRANSITIONS[name].permission, name


# --- groups --------------------------------------------------------------------------------


def test_declared_groups_exist():
    for t in TRANSITIONS.values():
        assert t.groups, t.name
        assert set(t.groups) <= set(GROUPS), t.name


def test_each_group_holds_exactly_the_declared_transitions():
    for group, perms in GROUPS.items():
        declared = {t.permission for t in TRANSITIONS.values() if group in t.groups}
        assert _transition_permissions(perms) == declared, group


@pytest.mark.django_db
def test_the_migrated_groups_hold_exactly_the_declared_transitions():
    for group in GROUPS:
        held = {
            f"{app}.{code}"
            for app, code in Group.objects.get(name=group).permissions.values_list(
                "content_type__app_label", "codename"
            )
        }
        declared = {t.permission for t in TRANSITIONS.values() if group in t.groups}
        assert _transition_permissions(held) == declared, group


def test_the_supervisor_flag_and_the_group_lists_follow_the_declarations():
    assert [n for n, t in TRANSITIONS.items() if "Operator" in t.groups] == OPERATOR_TRANSITIONS
    assert [n for n, t in TRANSITIONS.items() if t.supervisor] == SUPERVISOR_TRANSITIONS
    for t in TRANSITIONS.values():
        assert t.supervisor == (t.groups == ("Supervisor",)), t.name


# --- the workflow functions ------------------------------------------------------------------


@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_the_workflow_function_takes_exactly_the_declared_inputs(name):
    t = TRANSITIONS[name]
    params = inspect.signature(getattr(workflow, name)).parameters
    assert list(params)[:2] == ["order", "by"]
    # Every step takes the frame's own ``take_over`` (SPEC §11: a colleague's order), last.
    assert list(params)[-1] == "take_over", name
    assert params["take_over"].kind is inspect.Parameter.KEYWORD_ONLY
    assert params["take_over"].default is False
    keywords = {n: p for n, p in params.items() if n not in ("order", "by", "take_over")}
    assert set(keywords) == {i.name for i in t.inputs}
    for n, p in keywords.items():
        assert p.kind is inspect.Parameter.KEYWORD_ONLY, (name, n)
        has_default = p.default is not inspect.Parameter.empty
        assert has_default == (n in t.optional), (name, n)


def test_the_workflow_api_is_the_declarations():
    """``workflow.TRANSITIONS`` (SPEC section 7's public name) is the declarations themselves."""
    assert workflow.TRANSITIONS is TRANSITIONS


# --- forms ---------------------------------------------------------------------------------


def test_inputs_use_known_kinds_and_default_rules():
    assert set(DEFAULT_RULES) == set(INITIAL_BY_RULE)
    money_inputs = [i for t in TRANSITIONS.values() for i in t.inputs if i.kind == "money"]
    for i in money_inputs:
        # an amount says its currency: declared (the sale's, the dispute's) or in its label (CNY)
        assert i.currency in CURRENCY_RULES or "(CNY)" in i.label, i.name
    for t in TRANSITIONS.values():
        names = [i.name for i in t.inputs]
        assert len(names) == len(set(names)), t.name
        for i in t.inputs:
            assert i.kind in KINDS, (t.name, i.name)
            assert not i.default or i.default in DEFAULT_RULES, (t.name, i.name)
            assert i.label, (t.name, i.name)
            assert (i.kind == "text") == (i.max_length is not None), (t.name, i.name)


@pytest.mark.django_db
@pytest.mark.parametrize("name", list(TRANSITIONS))
def test_each_form_has_exactly_the_declared_inputs(name):
    t = TRANSITIONS[name]
    order = OrderFactory(status=Status.SHIPPED, close_reason="", carrier="Cainiao")
    form = TransitionForm(transition=name, order=order)
    assert list(form.fields) == [*t.required, *t.optional]
    for i in t.inputs:
        field = form.fields[i.name]
        assert field.required == i.required, (name, i.name)
        # the declared label, with the amount's currency after it when it declares one
        label = f"{i.label} ({order.currency})" if i.currency else i.label
        assert str(field.label) == label, (name, i.name)
        assert (str(field.label), str(field.help_text)) == input_wording(i, order), (name, i.name)
        assert str(field.help_text) == i.help, (name, i.name)
        if i.max_length:
            assert field.max_length == i.max_length
    initial = transition_initial(name, order)
    assert set(initial) <= {i.name for i in t.inputs if i.default}


@pytest.mark.django_db
def test_the_close_reason_default_is_the_recorded_reason():
    order = OrderFactory(status=Status.DISPUTED, close_reason="buyer_request")
    assert transition_initial("resolve_dispute", order)["reason"] == "buyer_request"
    assert "reason" not in transition_initial("resolve_dispute", OrderFactory(status=Status.DISPUTED))


@pytest.mark.django_db
def test_form_kwargs_leave_out_empty_optional_inputs():
    order = OrderFactory(status=Status.PAID)
    form = TransitionForm({"tracking_number": "LP1", "carrier": ""}, transition="mark_shipped", order=order)
    assert form.is_valid(), form.errors
    assert form.workflow_kwargs() == {"tracking_number": "LP1"}


def test_evidence_defaults_are_the_declared_evidence_and_valid_choices():
    assert set(EVIDENCE_DEFAULTS) == {n for n, t in TRANSITIONS.items() if t.evidence is not None}
    choices = {
        "counterparty": Counterparty.values,
        "kind": Kind.values,
        "direction": Direction.values,
        "channel": Channel.values,
    }
    for name, defaults in EVIDENCE_DEFAULTS.items():
        evidence = TRANSITIONS[name].evidence
        assert defaults["counterparty"] == evidence.counterparty
        assert evidence.sentence and evidence.message, name
        for key, value in defaults.items():
            assert value in choices[key], (name, key, value)


# --- history labels --------------------------------------------------------------------------

# The event writers and the position of their name argument: the workflow frame
# (``transition`` / ``operation`` in orders/workflow/core.py) and the event module's writers.
_WRITERS = {
    "transition": 0,
    "transition_batch": 0,
    "operation": 0,
    "record_event": 1,
    "_record_event": 1,
    "record_events": 0,
    "event_values": 1,
}


def _written_event_names() -> set[str]:
    """Every literal event name in the project's source: the name argument of the event writers
    and the ``"transition"`` value of rows built by hand."""
    names: set[str] = set()
    trees = [
        parse(path.read_text(encoding="utf-8"))
        for folder in ("orders", "evidence", "shopops")
        for path in (BASE / folder).rglob("*.py")
        if "migrations" not in path.parts
    ]
    # A name given through a module-level constant (``IMPORT_EVENT = "imported"``) is written too.
    constants = {
        target.id: node.value.value
        for tree in trees
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name) and target.id.isupper()
    }

    def literal(node: ast.AST) -> str | None:
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            return node.value
        return constants.get(node.id) if isinstance(node, ast.Name) else None

    for tree in trees:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called in _WRITERS:
                    at = _WRITERS[called]
                    args = [*node.args[at : at + 1], *(k.value for k in node.keywords if k.arg == "name")]
                else:
                    args = [k.value for k in node.keywords if k.arg == "transition"]
                names |= {value for value in map(literal, args) if value}
            elif isinstance(node, ast.Dict):
                for key, value in zip(node.keys, node.values, strict=True):
                    if isinstance(key, ast.Constant) and key.value == "transition" and literal(value):
                        names.add(literal(value))
    return names


def test_the_scan_finds_the_events_written_outside_the_transitions():
    assert {"imported", "send_payment_reminder", "create_refund", "mark_refund_received"} <= (
        _written_event_names()
    )


def test_every_other_event_label_is_of_an_event_still_written():
    assert set(OTHER_EVENT_LABELS) <= _written_event_names()


@pytest.mark.parametrize("language", ["en", "zh-hans"])
def test_every_event_name_ever_written_has_a_label(language):
    names = _written_event_names() | set(TRANSITIONS) | set(OTHER_EVENT_LABELS)
    with translation.override(language):
        for name in names:
            label = event_label(name)
            assert label and label != name, name
    with translation.override(None):
        for name, t in TRANSITIONS.items():
            assert event_label(name) == t.label
