"""The staff groups of SPEC section 5 and the permissions each holds.

The transition permissions come from the declarations (``orders/transitions.py``: each names
the groups that hold it); the rest is listed here, all of them the ``orders`` and ``evidence``
apps' (the screens of other apps are superusers' only, whatever a group holds). Used by the
data migrations that create and re-sync the groups (safe to re-apply: it sets, not adds).
"""

from .transitions import TRANSITIONS, transitions_held_by

# Which groups run which transition is declared with the transition (orders/transitions.py).
OPERATOR_TRANSITIONS = transitions_held_by("Operator")
SUPERVISOR_TRANSITIONS = [n for n in transitions_held_by("Supervisor") if TRANSITIONS[n].supervisor]

_VIEW_ALL = [
    "orders.view_order",
    "orders.view_supplierorder",
    "orders.view_refund",
    "orders.view_orderevent",
    "orders.view_sku",
    "orders.view_stockmovement",
    "orders.view_notification",
    "orders.view_feedback",
    "orders.view_exchangerate",
    "orders.view_exchangeratechange",
    "evidence.view_communication",
    "evidence.view_attachment",
]

# Imports are the Supervisor's (SPEC 5): the order import and the feedback import alike need this
# permission; recording one rating by hand needs only ``orders.add_feedback`` (Operators too).
IMPORT_PERMISSION = "orders.import_orders"

# Each group's permissions other than the transitions'.
_OPERATOR_OTHER = [
    *_VIEW_ALL,
    "orders.send_payment_reminder",
    "orders.export_orders",
    "orders.add_feedback",
    "orders.change_feedback",
    "evidence.add_communication",
    "evidence.add_attachment",
    # The 1688 purchase's progress: placed, shipped by the supplier, received (workflow.purchase).
    "orders.change_supplierorder",
    # Team work (SPEC §11): take on an order (workflow.claim_order, or by running a step on it).
    "orders.claim_order",
    # Close unpaid orders in bulk (issue 23): each order through workflow.close_unpaid, of the
    # user's stores only, at most BULK_ACTION_LIMIT at once, as for a Supervisor.
    "orders.bulk_close",
]
_OTHER = {
    "Operator": _OPERATOR_OTHER,
    "Supervisor": [
        *_OPERATOR_OTHER,
        "orders.change_order",
        "orders.assign_order",  # who handles which order: the team page, workflow.assign_order
        "orders.add_refund",
        # A buyer's refund seen arriving on the platform, where Supervisors confirm refunds
        # (orders.policy.received_permission): Finance cannot see it arrive (issue 23).
        "orders.mark_buyer_refund_received",
        IMPORT_PERMISSION,
        "orders.view_orderimport",
        "orders.view_analytics",
        "orders.retry_notification",
        "orders.adjust_stock",
        "orders.add_sku",
        "orders.change_sku",
        # The buyer messages' wording, per language (orders/admin/buyer_messages.py).
        "orders.view_buyermessagetemplate",
        "orders.add_buyermessagetemplate",
        "orders.change_buyermessagetemplate",
        "orders.delete_buyermessagetemplate",
        # No permission of another app: periodic tasks, users and groups, and the login records
        # are superusers' only (shopops.admin_base.SuperuserOnly; migration 0016).
    ],
    "Finance": [
        "orders.view_order",
        "orders.view_supplierorder",
        "orders.view_refund",
        "orders.view_orderevent",
        "orders.view_notification",
        "evidence.view_communication",
        "evidence.view_attachment",
        "orders.mark_refund_received",
        "orders.export_orders",
        # The loss ledger's rates: Finance sees and corrects them (every correction is kept).
        "orders.view_exchangerate",
        "orders.view_exchangeratechange",
        "orders.correct_exchangerate",
    ],
    "Analyst": [*_VIEW_ALL, "orders.view_analytics", "orders.export_orders"],
}

GROUPS: dict[str, list[str]] = {
    group: [*perms, *(TRANSITIONS[n].permission for n in transitions_held_by(group))]
    for group, perms in _OTHER.items()
}
OPERATOR = GROUPS["Operator"]
SUPERVISOR = GROUPS["Supervisor"]
FINANCE = GROUPS["Finance"]
ANALYST = GROUPS["Analyst"]


def resync_groups(apps, schema_editor, *, missing_ok: bool = False) -> None:
    """For a migration that adds a permission: create it now, then sync the groups.

    Django creates permissions after all migrations have run; the groups need them at once.
    Strict in the latest such migration; earlier ones pass ``missing_ok=True``, for the
    permissions of models that later migrations create.
    """
    from django.contrib.auth.management import create_permissions

    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    sync_groups(apps, missing_ok=missing_ok)


def sync_groups(apps, *, missing_ok: bool = False, only: list[str] | None = None) -> None:
    """Create the groups and give each exactly its permissions (``only``: just these groups).

    This module is the current list, but an early migration runs it against an older schema
    in which later permissions do not exist yet: such a migration passes ``missing_ok=True``
    and the migration that adds a permission re-syncs strictly. ``seed_demo`` calls it with the
    project's app registry for a group someone deleted.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    # every permission read once (a query per permission was 0.5–1 s on PostgreSQL)
    rows = Permission.objects.values_list("pk", "content_type__app_label", "codename")
    existing = {f"{app_label}.{codename}": pk for pk, app_label, codename in rows}
    for name, perms in GROUPS.items():
        if only is not None and name not in only:
            continue
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in dict.fromkeys(perms):
            found = existing.get(perm)
            if found is None:
                if missing_ok:
                    continue
                raise LookupError(f"Permission {perm} does not exist")
            wanted.append(found)
        group.permissions.set(wanted)
