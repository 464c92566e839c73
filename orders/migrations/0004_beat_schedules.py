"""The periodic jobs' schedules as django-celery-beat rows, editable in the admin.

Created once with sensible defaults; an admin's later edits are never overwritten (the rows are
only created when missing). Each task expires after its own interval, so a beat running while no
worker is up does not pile up a backlog of the same pass.
"""

from django.db import migrations
from django.utils import timezone

# name, task, schedule ("every", minutes) or ("daily", "HH:MM" in Asia/Shanghai), description
SCHEDULES = [
    (
        "Outbox relay",
        "orders.relay_notifications",
        ("every", 1),
        "Hands undelivered notifications (broker outage, crashed worker) to Celery again.",
    ),
    (
        "Payment reminders",
        "orders.send_payment_reminders",
        ("every", 10),
        "One reminder to each unpaid order past SHOPOPS_PAYMENT_REMINDER_HOURS.",
    ),
    (
        "Payment timeouts",
        "orders.close_timed_out_orders",
        ("every", 10),
        "Closes unpaid orders past SHOPOPS_PAYMENT_TIMEOUT_HOURS with payment_timeout.",
    ),
    (
        "Supplier refund chase",
        "orders.chase_supplier_refunds",
        ("every", 60),
        "Reminds suppliers of refunds still requested, once per SHOPOPS_SUPPLIER_CHASE_HOURS.",
    ),
    (
        "Overdue supplier refunds digest",
        "orders.report_overdue_supplier_refunds",
        ("daily", "09:00"),
        "Flags supplier refunds past their deadline and emails the supervisors one digest.",
    ),
    (
        "Refund arrival check",
        "orders.check_refund_arrivals",
        ("daily", "08:30"),
        "Counts refunds succeeded but not received after SHOPOPS_REFUND_ARRIVAL_DAYS.",
    ),
]
TIME_ZONE = "Asia/Shanghai"


def create_schedules(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for name, task, (kind, when), description in SCHEDULES:
        if PeriodicTask.objects.filter(name=name).exists():
            continue
        if kind == "every":
            schedule, _ = IntervalSchedule.objects.get_or_create(every=when, period="minutes")
            fields = {"interval": schedule, "expire_seconds": when * 60}
        else:
            hour, minute = when.split(":")
            schedule, _ = CrontabSchedule.objects.get_or_create(
                minute=str(int(minute)),
                hour=str(int(hour)),
                day_of_week="*",
                day_of_month="*",
                month_of_year="*",
                timezone=TIME_ZONE,
            )
            fields = {"crontab": schedule, "expire_seconds": 60 * 60}
        PeriodicTask.objects.create(name=name, task=task, description=description, enabled=True, **fields)
    # Tell a running beat that its schedule changed.
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(name__in=[name for name, *_ in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0003_bulk_close_permission"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [migrations.RunPython(create_schedules, remove_schedules)]
