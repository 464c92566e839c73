"""docs/workflow.md is generated from the models' transitions and the transition declarations and
must not drift from them."""

from io import StringIO

from django.core.management import call_command

from orders.management.commands.workflow_diagram import DOC_PATH, render
from orders.models import Order
from orders.transitions import CURRENCY_RULES, TRANSITIONS


def test_docs_workflow_md_is_the_generated_text():
    assert DOC_PATH.read_text(encoding="utf-8") == render(), (
        "docs/workflow.md is stale: run `python manage.py workflow_diagram --write`"
    )


def test_every_declared_transition_is_drawn_and_tabled():
    text = render()
    for t in Order._meta.get_field("status").get_all_transitions(Order):
        assert f"    {t.source} --> {t.target} : {t.name}" in text
        assert f"| `{t.name}` |" in text
    assert (
        "| `mark_received` | `succeeded` | `received` | `orders.mark_refund_received` | Finance; "
        "a buyer's refund also Supervisor (`orders.mark_buyer_refund_received`) |"
    ) in text


def test_the_command_prints_the_same_text():
    out = StringIO()
    call_command("workflow_diagram", stdout=out)
    assert out.getvalue() == render()


def _section(text: str, name: str) -> str:
    """The part of the document about transition ``name`` (up to the next heading)."""
    start = text.index(f"(`{name}`)\n")
    end = text.find("\n#", start)
    return text[start : end if end != -1 else len(text)]


def test_each_transition_is_documented_from_its_declaration():
    text = render()
    for t in TRANSITIONS.values():
        assert f"### {t.label} (`{t.name}`)" in text
        part = _section(text, t.name)
        assert f"Permission `{t.permission}` ({t.permission_label}), held by {', '.join(t.groups)}." in part
        if t.evidence is None:
            assert "Evidence: none required." in part
        else:
            assert f"Evidence: {t.evidence.sentence}" in part
        rows = [line for line in part.splitlines() if line.startswith("| `")]
        assert [row.split("`")[1] for row in rows] == [i.name for i in t.inputs]
        for row, i in zip(rows, t.inputs, strict=True):
            assert f"| {'yes' if i.required else 'no'} | {i.label}" in row
            # an amount's currency and a supplier's wording are documented with the label
            if i.currency:
                assert f"{i.label} (in {CURRENCY_RULES[i.currency]})" in row
            if i.supplier_label:
                assert f"a supplier's dispute: {i.supplier_label}" in row
