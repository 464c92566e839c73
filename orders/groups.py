"""The staff groups of SPEC section 5 and the permissions each holds.

Used by the data migration that creates them (and safe to re-apply: it sets, not adds).
"""

OPERATOR_TRANSITIONS = [
    "mark_paid",
    "mark_shipped",
    "mark_completed",
    "close_unpaid",
    "request_cancellation",
    "record_buyer_refusal",
    "record_buyer_consent",
    "propose_return",
    "record_return_refusal",
    "record_return_agreement",
    "receive_return",
    "open_buyer_dispute",
]
SUPERVISOR_TRANSITIONS = [
    "escalate_to_support",
    "confirm_refund",
    "request_supplier_refund",
    "record_supplier_approval",
    "record_supplier_refusal",
    "resolve_dispute",
]

_VIEW_ALL = [
    "orders.view_order",
    "orders.view_supplierorder",
    "orders.view_refund",
    "orders.view_orderevent",
    "orders.view_sku",
    "orders.view_stockmovement",
    "orders.view_notification",
    "orders.view_feedback",
    "evidence.view_communication",
    "evidence.view_attachment",
]

OPERATOR = [
    *_VIEW_ALL,
    *(f"orders.{name}" for name in OPERATOR_TRANSITIONS),
    "orders.send_payment_reminder",
    "orders.export_orders",
    "orders.add_feedback",
    "orders.change_feedback",
    "evidence.add_communication",
    "evidence.add_attachment",
]

SUPERVISOR = [
    *OPERATOR,
    *(f"orders.{name}" for name in SUPERVISOR_TRANSITIONS),
    "orders.change_order",
    "orders.bulk_close",  # SPEC 5: bulk closes are the Supervisor's
    "orders.add_refund",
    "orders.import_orders",
    "orders.view_orderimport",
    "orders.view_analytics",
    "orders.retry_notification",
    "orders.adjust_stock",
    "orders.add_sku",
    "orders.change_sku",
    "django_celery_beat.view_periodictask",
    "django_celery_beat.change_periodictask",
]

FINANCE = [
    "orders.view_order",
    "orders.view_supplierorder",
    "orders.view_refund",
    "orders.view_orderevent",
    "orders.view_notification",
    "evidence.view_communication",
    "evidence.view_attachment",
    "orders.mark_refund_received",
    "orders.export_orders",
]

ANALYST = [*_VIEW_ALL, "orders.view_analytics", "orders.export_orders"]

GROUPS = {"Operator": OPERATOR, "Supervisor": SUPERVISOR, "Finance": FINANCE, "Analyst": ANALYST}


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


def sync_groups(apps, *, missing_ok: bool = False) -> None:
    """Create the groups and give each exactly its permissions.

    This module is the current list, but an early migration runs it against an older schema
    in which later permissions do not exist yet: such a migration passes ``missing_ok=True``
    and the migration that adds a permission re-syncs strictly.
    """
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, perms in GROUPS.items():
        group, _ = Group.objects.get_or_create(name=name)
        wanted = []
        for perm in dict.fromkeys(perms):
            app_label, codename = perm.split(".")
            found = Permission.objects.filter(content_type__app_label=app_label, codename=codename).first()
            if found is None:
                if missing_ok:
                    continue
                raise LookupError(f"Permission {perm} does not exist")
            wanted.append(found)
        group.permissions.set(wanted)
