"""docs/workflow.md is generated from the models' transitions and must not drift from them."""

from io import StringIO

from django.core.management import call_command

from orders.management.commands.workflow_diagram import DOC_PATH, render
from orders.models import Order


def test_docs_workflow_md_is_the_generated_text():
    assert DOC_PATH.read_text(encoding="utf-8") == render(), (
        "docs/workflow.md is stale: run `python manage.py workflow_diagram --write`"
    )


def test_every_declared_transition_is_drawn_and_tabled():
    text = render()
    for t in Order._meta.get_field("status").get_all_transitions(Order):
        assert f"    {t.source} --> {t.target} : {t.name}" in text
        assert f"| `{t.name}` |" in text
    assert "| `mark_received` | `succeeded` | `received` | `orders.mark_refund_received` | Finance |" in text


def test_the_command_prints_the_same_text():
    out = StringIO()
    call_command("workflow_diagram", stdout=out)
    assert out.getvalue() == render()
