"""Team work (issue 23, SPEC §11): who handles each order, hand-offs to staff, their choices.

``Order.assignee`` with its index; the permissions ``claim_order`` (Operators and Supervisors) and
``assign_order`` (Supervisors), given to the groups at once; ``StaffPreference`` (each hand-off
by email, or a daily digest); the outbox's team chat channel, hand-off templates and the ``held``
/ ``digested`` states; and the two passes' beat schedules, created when missing like 0004's.
"""

from functools import partial

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models
from django.utils import timezone

from orders.groups import resync_groups

# name, task, schedule ("every", minutes) or ("daily", "HH:MM" in Asia/Shanghai), description
SCHEDULES = [
    (
        "Supplier answers due: tell staff",
        "orders.hand_off_supplier_answers",
        ("every", 30),
        "Tells the people who record a supplier's answer that it is due (once per refund): email and team chat.",
    ),
    (
        "Daily digest of hand-offs",
        "orders.send_staff_digests",
        ("daily", "08:00"),
        "One email to each person who chose the digest, listing the work handed to them since the last one.",
    ),
]
TIME_ZONE = "Asia/Shanghai"


def create_schedules(apps, schema_editor):
    IntervalSchedule = apps.get_model("django_celery_beat", "IntervalSchedule")
    CrontabSchedule = apps.get_model("django_celery_beat", "CrontabSchedule")
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTasks = apps.get_model("django_celery_beat", "PeriodicTasks")
    for name, task, (kind, when), description in SCHEDULES:
        if PeriodicTask.objects.filter(task=task).exists():
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
    PeriodicTasks.objects.update_or_create(ident=1, defaults={"last_update": timezone.now()})


def remove_schedules(apps, schema_editor):
    PeriodicTask = apps.get_model("django_celery_beat", "PeriodicTask")
    PeriodicTask.objects.filter(task__in=[task for _name, task, *_rest in SCHEDULES]).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0024_purchase_life"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.CreateModel(
            name="StaffPreference",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "handoffs",
                    models.CharField(
                        choices=[
                            ("each", "An email for each, as it happens"),
                            ("digest", "One email a day listing them"),
                        ],
                        default="each",
                        max_length=16,
                        verbose_name="hand-offs by email",
                    ),
                ),
                (
                    "language",
                    models.CharField(blank=True, max_length=16, verbose_name="language of the emails"),
                ),
                (
                    "updated_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="updated"),
                ),
            ],
            options={
                "verbose_name": "staff preference",
                "verbose_name_plural": "staff preferences",
            },
        ),
        migrations.AlterModelOptions(
            name="order",
            options={
                "ordering": ["-placed_at", "-id"],
                "permissions": [
                    ("mark_paid", "Can mark an order paid"),
                    ("mark_shipped", "Can mark an order shipped"),
                    ("mark_completed", "Can mark an order completed"),
                    ("close_unpaid", "Can close an unpaid order"),
                    ("request_cancellation", "Can ask the buyer to cancel"),
                    ("record_buyer_refusal", "Can record the buyer's refusal to cancel"),
                    ("record_buyer_consent", "Can record the buyer's consent to cancel"),
                    ("escalate_to_support", "Can escalate to platform support"),
                    ("confirm_refund", "Can confirm the buyer refund"),
                    ("propose_return", "Can propose a return"),
                    ("record_return_refusal", "Can record the buyer's refusal to return"),
                    ("record_return_agreement", "Can record the buyer's agreement to return"),
                    ("receive_return", "Can receive returned goods"),
                    ("request_supplier_refund", "Can ask the supplier for a refund"),
                    ("close_return", "Can close a return without a supplier refund"),
                    ("record_supplier_approval", "Can record the supplier's approval"),
                    ("record_supplier_refusal", "Can record the supplier's refusal"),
                    ("open_buyer_dispute", "Can record a buyer dispute"),
                    ("resolve_dispute", "Can resolve a dispute"),
                    ("bulk_close", "Can close unpaid orders in bulk"),
                    ("send_payment_reminder", "Can send payment reminders"),
                    ("import_orders", "Can import orders from CSV"),
                    ("export_orders", "Can export orders"),
                    ("view_analytics", "Can see close analytics"),
                    ("claim_order", "Can take on an order"),
                    ("assign_order", "Can assign orders to others"),
                ],
                "verbose_name": "order",
                "verbose_name_plural": "orders",
            },
        ),
        migrations.AddField(
            model_name="order",
            name="assignee",
            field=models.ForeignKey(
                blank=True,
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="assigned_orders",
                to=settings.AUTH_USER_MODEL,
                verbose_name="handled by",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="channel",
            field=models.CharField(
                choices=[("email", "Email"), ("sms", "SMS"), ("webhook", "Team chat")],
                max_length=16,
                verbose_name="channel",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="status",
            field=models.CharField(
                choices=[
                    ("pending", "Pending"),
                    ("sending", "Sending"),
                    ("sent", "Sent"),
                    ("failed", "Failed"),
                    ("held", "Held for the daily digest"),
                    ("digested", "Sent in a daily digest"),
                ],
                default="pending",
                max_length=16,
                verbose_name="status",
            ),
        ),
        migrations.AlterField(
            model_name="notification",
            name="template",
            field=models.CharField(
                choices=[
                    ("refund_confirmation", "Refund confirmation"),
                    ("payment_reminder", "Payment reminder"),
                    ("supplier_reminder", "Supplier refund reminder"),
                    ("overdue_digest", "Overdue supplier refunds digest"),
                    ("staff_handoff", "Work handed to staff"),
                    ("staff_digest", "Daily digest of work handed to staff"),
                ],
                max_length=32,
                verbose_name="template",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["assignee", "status"], name="order_assignee_status"),
        ),
        migrations.AddField(
            model_name="staffpreference",
            name="user",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.CASCADE,
                related_name="staff_preference",
                to=settings.AUTH_USER_MODEL,
            ),
        ),
        # Not the latest re-sync: a later one (the Operators' bulk close) follows.
        migrations.RunPython(partial(resync_groups, missing_ok=True), migrations.RunPython.noop),
        migrations.RunPython(create_schedules, remove_schedules),
    ]
