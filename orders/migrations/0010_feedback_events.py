# The follow-up history of buyer feedback as rows (FeedbackEvent), append-only like OrderEvent.
# Follow-ups worked before keep their history as text in Feedback.followup_notes (shown first).

import django.core.serializers.json
import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from shopops.appendonly import append_only_trigger


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0009_order_import"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="FeedbackEvent",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("name", models.CharField(max_length=64, verbose_name="event")),
                (
                    "created_at",
                    models.DateTimeField(default=django.utils.timezone.now, verbose_name="when"),
                ),
                (
                    "data",
                    models.JSONField(
                        blank=True,
                        default=dict,
                        encoder=django.core.serializers.json.DjangoJSONEncoder,
                        verbose_name="details",
                    ),
                ),
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
                    "feedback",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="events",
                        to="orders.feedback",
                    ),
                ),
            ],
            options={
                "verbose_name": "follow-up event",
                "verbose_name_plural": "follow-up events",
                "ordering": ["created_at", "id"],
                "indexes": [models.Index(fields=["feedback", "created_at"], name="feedback_event_time")],
            },
        ),
        append_only_trigger("orders_feedbackevent"),
    ]
