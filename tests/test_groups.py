"""The four groups of SPEC section 5 exist (created by a migration) with their permissions."""

import pytest
from django.contrib.auth.models import Group

from orders.groups import GROUPS, OPERATOR_TRANSITIONS, SUPERVISOR_TRANSITIONS
from orders.transitions import TRANSITIONS
from tests.factories import staff

pytestmark = pytest.mark.django_db

SUPERVISOR_ONLY = {
    "escalate_to_support",
    "confirm_refund",
    "request_supplier_refund",
    "close_return",  # issue 21: a return whose goods are in our stock closes without a claim
    "record_supplier_approval",
    "record_supplier_refusal",
    "resolve_dispute",
}
OPERATOR = set(TRANSITIONS) - SUPERVISOR_ONLY


def _perms(group: str) -> set[str]:
    return {
        f"{app}.{code}"
        for app, code in Group.objects.get(name=group).permissions.values_list(
            "content_type__app_label", "codename"
        )
    }


def test_the_four_groups_exist():
    assert {"Operator", "Supervisor", "Finance", "Analyst"} <= set(
        Group.objects.values_list("name", flat=True)
    )


@pytest.mark.parametrize("group", ["Operator", "Supervisor", "Finance", "Analyst"])
def test_the_migrations_give_each_group_exactly_the_groups_module_permissions(group):
    assert _perms(group) == set(GROUPS[group])


def test_the_spec_table_and_the_groups_module_agree():
    assert set(OPERATOR_TRANSITIONS) == OPERATOR
    assert set(SUPERVISOR_TRANSITIONS) == SUPERVISOR_ONLY
    assert {n for n, t in TRANSITIONS.items() if t.supervisor} == SUPERVISOR_ONLY


def test_operator_runs_operator_transitions_and_records_evidence_only():
    perms = _perms("Operator")
    assert {f"orders.{n}" for n in OPERATOR} <= perms
    assert not {f"orders.{n}" for n in SUPERVISOR_ONLY} & perms
    assert {"evidence.add_communication", "evidence.add_attachment"} <= perms
    assert not {"orders.mark_refund_received", "orders.import_orders", "orders.view_analytics"} & perms


def test_supervisor_can_do_all_an_operator_can_plus_supervisor_transitions_and_imports():
    perms = _perms("Supervisor")
    assert _perms("Operator") <= perms
    assert {f"orders.{n}" for n in SUPERVISOR_ONLY} <= perms
    assert "orders.import_orders" in perms


def test_finance_sees_refunds_and_marks_them_received_but_runs_no_transition():
    perms = _perms("Finance")
    assert {"orders.view_refund", "orders.mark_refund_received"} <= perms
    assert not {f"orders.{n}" for n in TRANSITIONS} & perms


def test_analyst_reads_everything_and_sees_the_analytics_but_changes_nothing():
    perms = _perms("Analyst")
    assert "orders.view_analytics" in perms
    assert {"orders.view_order", "orders.view_refund", "evidence.view_communication"} <= perms
    assert not {p for p in perms if p.split(".")[1].startswith(("add_", "change_", "delete_"))}
    assert not {f"orders.{n}" for n in TRANSITIONS} & perms
    assert "orders.mark_refund_received" not in perms


# The permissions beyond the transitions that tell the groups apart, and who holds each.
# Operators close unpaid orders in bulk too (issue 23), with the Supervisors' limits.
HELD_BY = {
    "orders.bulk_close": {"Operator", "Supervisor"},
    "orders.claim_order": {"Operator", "Supervisor"},
    "orders.assign_order": {"Supervisor"},
    "orders.import_orders": {"Supervisor"},
    "orders.add_refund": {"Supervisor"},
    "orders.mark_refund_received": {"Finance"},
    # a buyer's refund is seen arriving on the platform, where Supervisors confirm refunds
    "orders.mark_buyer_refund_received": {"Supervisor"},
    "orders.correct_exchangerate": {"Finance"},
    "orders.view_analytics": {"Supervisor", "Analyst"},
    "orders.export_orders": {"Operator", "Supervisor", "Finance", "Analyst"},
}


@pytest.mark.parametrize("perm", sorted(HELD_BY))
def test_who_holds_each_permission_that_tells_the_groups_apart(perm):
    holders = {group for group in ("Operator", "Supervisor", "Finance", "Analyst") if perm in _perms(group)}
    assert holders == HELD_BY[perm]


@pytest.mark.parametrize("group", ["Operator", "Supervisor", "Finance", "Analyst"])
def test_nobody_may_change_or_delete_evidence_or_history(group):
    perms = _perms(group)
    forbidden = {
        "evidence.change_communication",
        "evidence.delete_communication",
        "evidence.change_attachment",
        "evidence.delete_attachment",
        "orders.change_orderevent",
        "orders.delete_orderevent",
        "orders.change_stockmovement",
        "orders.delete_stockmovement",
    }
    assert not forbidden & perms


def test_a_real_user_gets_the_group_permissions():
    user = staff("Operator")
    assert user.has_perm("orders.close_unpaid")
    assert not user.has_perm("orders.confirm_refund")


# --- imports are Supervisors'; seed_demo restores a deleted group whole (issue 12, part 5) ------


@pytest.mark.parametrize(("group", "allowed"), [("Operator", False), ("Supervisor", True)])
def test_only_a_supervisor_may_bulk_import_feedback(client, group, allowed):
    from django.core.files.uploadedfile import SimpleUploadedFile

    from orders.models import Feedback
    from tests.factories import OrderFactory

    order = OrderFactory()
    client.force_login(staff(group))
    listing = client.get("/admin/orders/feedback/").content.decode()
    assert ("/admin/orders/feedback/import/" in listing) is allowed
    assert client.get("/admin/orders/feedback/import/").status_code == (200 if allowed else 403)
    upload = SimpleUploadedFile(
        "f.csv", f"order_id,rating,comment,date\n{order.platform_order_id},1,x,2026-03-01\n".encode()
    )
    response = client.post("/admin/orders/feedback/import/", {"file": upload})
    assert response.status_code == (302 if allowed else 403)
    assert Feedback.objects.count() == (1 if allowed else 0)


@pytest.mark.parametrize("group", ["Operator", "Supervisor", "Finance", "Analyst"])
def test_seed_demo_recreates_a_deleted_group_with_its_permissions(group):
    from django.contrib.auth import get_user_model

    from orders.demo.users import ensure_demo_users  # seed_demo's users and groups

    Group.objects.filter(name=group).delete()
    ensure_demo_users()
    assert _perms(group) == set(GROUPS[group])
    user = get_user_model().objects.get(username=group.lower())
    assert {g.name for g in user.groups.all()} == {group}
