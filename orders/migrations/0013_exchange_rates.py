# Exchange rates (the ECB's reference rates) and their corrections, append-only; Finance corrects
# them. The daily fetch's beat schedule is created like 0004's: once, never overwritten.

from functools import partial

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

from orders.groups import resync_groups
from shopops.appendonly import append_only_trigger

# 16:30 CET is when the ECB publishes; 23:30 in Shanghai is after that all year round.
FX_SCHEDULE = ("Exchange rates fetch", "orders.fetch_fx_rates", "30", "23")


def create_fx_schedule(apps, schema_editor):
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    name, task, minute, hour = FX_SCHEDULE
    if PeriodicTask.objects.filter(name=name).exists():
        return
    schedule, _ = CrontabSchedule.objects.get_or_create(
        minute=minute,
        hour=hour,
        day_of_week="1-5",
        day_of_month="*",
        month_of_year="*",
        timezone="Asia/Shanghai",
    )
    PeriodicTask.objects.create(
        name=name,
        task=task,
        crontab=schedule,
        expire_seconds=60 * 60,
        enabled=True,
        description="Loads the ECB's daily reference rates from SHOPOPS_FX_URL (the loss ledger's rates).",
    )
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_fx_schedule(apps, schema_editor):
    apps.get_model("django_celery_beat", "PeriodicTask").objects.filter(name=FX_SCHEDULE[0]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0012_buyer_message_templates"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="ExchangeRate",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("date", models.DateField(verbose_name="date")),
                ("currency", models.CharField(max_length=3, verbose_name="currency")),
                (
                    "rate",
                    models.DecimalField(decimal_places=6, max_digits=18, verbose_name="units per 1 EUR"),
                ),
                ("source", models.CharField(blank=True, max_length=200, verbose_name="source")),
                ("corrected", models.BooleanField(default=False, editable=False, verbose_name="corrected")),
                (
                    "updated_at",
                    models.DateTimeField(
                        default=django.utils.timezone.now, editable=False, verbose_name="updated"
                    ),
                ),
            ],
            options={
                "verbose_name": "exchange rate",
                "verbose_name_plural": "exchange rates",
                "ordering": ["-date", "currency"],
                "permissions": [("correct_exchangerate", "Can correct an exchange rate")],
                "constraints": [
                    models.UniqueConstraint(fields=("currency", "date"), name="exchangerate_currency_date"),
                    models.CheckConstraint(
                        condition=models.Q(("rate__gt", 0)), name="exchangerate_rate_positive"
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="ExchangeRateChange",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "old_rate",
                    models.DecimalField(decimal_places=6, max_digits=18, verbose_name="previous rate"),
                ),
                ("new_rate", models.DecimalField(decimal_places=6, max_digits=18, verbose_name="new rate")),
                ("source", models.CharField(blank=True, max_length=200, verbose_name="source")),
                ("note", models.TextField(blank=True, verbose_name="note")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="when")),
                (
                    "actor",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="by",
                    ),
                ),
                (
                    "rate",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="changes",
                        to="orders.exchangerate",
                    ),
                ),
            ],
            options={
                "verbose_name": "exchange rate change",
                "verbose_name_plural": "exchange rate changes",
                "ordering": ["-created_at", "-id"],
            },
        ),
        append_only_trigger("orders_exchangeratechange"),
        migrations.RunPython(partial(resync_groups, missing_ok=True), migrations.RunPython.noop),
        migrations.RunPython(create_fx_schedule, remove_fx_schedule),
    ]
