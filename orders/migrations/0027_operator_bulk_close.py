"""Operators close unpaid orders in bulk too (issue 23): ``orders.bulk_close`` joins the Operator
group (``orders.groups``), with the same limits as a Supervisor's bulk close (their stores only,
at most ``BULK_ACTION_LIMIT`` orders, each through ``workflow.close_unpaid``).

Not the latest re-sync of the groups: a later migration adds a permission they name.
"""

from functools import partial

from django.db import migrations

from orders.groups import resync_groups


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0026_platform_refunds"),
    ]

    operations = [
        migrations.RunPython(partial(resync_groups, missing_ok=True), migrations.RunPython.noop),
    ]
