"""The Supervisor group no longer holds django-celery-beat's periodic task permissions (issue 20).

A periodic task's row names the task a worker runs and the arguments it runs with: whoever may
change it may make a worker do what they choose. Periodic tasks, users and groups and the login
records are superusers' only (``shopops.admin_base.SuperuserOnly``); this re-syncs the groups
with ``orders/groups.py``, which lists no other app's permission any more. Reversing leaves the
groups as they are: the permissions are not given back.
"""

from functools import partial

from django.db import migrations

from orders.groups import resync_groups


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0017_orderimport_store"),
    ]

    operations = [
        # Not the latest re-sync: later permissions (0025) do not exist yet.
        migrations.RunPython(partial(resync_groups, missing_ok=True), migrations.RunPython.noop),
    ]
