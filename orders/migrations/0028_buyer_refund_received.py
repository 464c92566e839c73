"""Who sees a buyer's refund arrive (issue 23): ``mark_buyer_refund_received``, held by the
Supervisors, who confirm refunds on the platform and see them arrive there. Finance keeps
``mark_refund_received`` (any refund, SPEC §5); its work is the money due to us.

The latest re-sync of the groups: strict (every permission the groups name exists by now).
"""

from django.db import migrations

from orders.groups import resync_groups


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0027_operator_bulk_close"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="refund",
            options={
                "ordering": ["-requested_at", "-id"],
                "permissions": [
                    ("mark_refund_received", "Can mark a refund received"),
                    (
                        "mark_buyer_refund_received",
                        "Can mark a buyer's refund received (seen on the platform)",
                    ),
                ],
                "verbose_name": "refund",
                "verbose_name_plural": "refunds",
            },
        ),
        migrations.RunPython(resync_groups, migrations.RunPython.noop),
    ]
