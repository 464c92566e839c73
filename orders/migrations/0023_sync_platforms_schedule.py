"""The platforms' pass (``orders.sync_platforms``, docs/platforms.md) as a django-celery-beat row.

Created when missing, like ``0004_beat_schedules``; an admin's later edits are never overwritten.
The task expires after its interval, so a beat running while no worker is up piles up no backlog.
"""

from django.db import migrations
from django.utils import timezone

NAME = "Platform sync"
TASK = "orders.sync_platforms"
EVERY_MINUTES = 5
DESCRIPTION = (
    "Pulls each connected store's AliExpress orders and disputes changed since its last good pass "
    "(one task per store: one store's outage never blocks another)."
)


def create_schedule(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    if PeriodicTask.objects.filter(name=NAME).exists():
        return
    schedule, _ = IntervalSchedule.objects.get_or_create(every=EVERY_MINUTES, period="minutes")
    PeriodicTask.objects.create(
        name=NAME,
        task=TASK,
        description=DESCRIPTION,
        enabled=True,
        interval=schedule,
        expire_seconds=EVERY_MINUTES * 60,
    )
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=NAME).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0022_store_connections"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedule, remove_schedule)]
