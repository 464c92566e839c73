"""Operators close unpaid orders in bulk too (issue 23): ``orders.bulk_close`` joins the Operator
group (``orders.groups``), with the same limits as a Supervisor's bulk close (their stores only,
at most ``BULK_ACTION_LIMIT`` orders, each through ``workflow.close_unpaid``).

The latest re-sync of the groups: strict (every permission the groups name exists by now).
"""

from django.db import migrations

from orders.groups import resync_groups


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0026_platform_refunds"),
    ]

    operations = [
        migrations.RunPython(resync_groups, migrations.RunPython.noop),
    ]
