"""Every wording of a buyer message kept (issue 24): BuyerMessageTemplateVersion, append-only.

The templates saved before this migration get their current text as a first version, credited to
who saved it last, when they saved it.
"""

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from shopops.appendonly import append_only_trigger


def first_versions(apps, schema_editor):
    Template = apps.get_model("orders", "BuyerMessageTemplate")
    Version = apps.get_model("orders", "BuyerMessageTemplateVersion")
    Version.objects.bulk_create(
        Version(
            message=t.message,
            language=t.language,
            action="saved",
            text=t.text,
            created_at=t.updated_at,
            created_by_id=t.updated_by_id,
        )
        for t in Template.objects.order_by("pk")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0020_order_store_status_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="BuyerMessageTemplateVersion",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "message",
                    models.CharField(
                        choices=[
                            ("refund_confirmation.subject", "Refund confirmation: email subject"),
                            ("refund_confirmation.body", "Refund confirmation: email"),
                            ("refund_confirmation.sms", "Refund confirmation: SMS"),
                            ("payment_reminder.subject", "Payment reminder: email subject"),
                            ("payment_reminder.body", "Payment reminder: email"),
                            ("payment_reminder.sms", "Payment reminder: SMS"),
                            ("chat.ask_cancel", "Chat: ask the buyer to cancel"),
                            ("chat.propose_return", "Chat: propose a return"),
                            ("chat.dispute_won", "Chat: dispute decided for us (no refund)"),
                            ("chat.dispute_partial", "Chat: dispute decided with a partial refund"),
                            ("chat.dispute_lost", "Chat: dispute decided for the buyer (refund)"),
                        ],
                        max_length=64,
                        verbose_name="message",
                    ),
                ),
                (
                    "language",
                    models.CharField(
                        choices=[
                            ("en", "English"),
                            ("es", "Español"),
                            ("pt-br", "Português (Brasil)"),
                            ("fr", "Français"),
                            ("de", "Deutsch"),
                            ("ru", "Русский"),
                            ("pl", "Polski"),
                            ("ko", "한국어"),
                            ("ja", "日本語"),
                            ("tr", "Türkçe"),
                            ("it", "Italiano"),
                            ("nl", "Nederlands"),
                            ("ar", "العربية"),
                            ("he", "עברית"),
                            ("zh-hans", "简体中文"),
                        ],
                        max_length=16,
                        verbose_name="language",
                    ),
                ),
                (
                    "action",
                    models.CharField(
                        choices=[("saved", "saved"), ("deleted", "deleted")],
                        max_length=16,
                        verbose_name="action",
                    ),
                ),
                ("text", models.TextField(verbose_name="text")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now, verbose_name="when")),
                (
                    "created_by",
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
            ],
            options={
                "verbose_name": "buyer message version",
                "verbose_name_plural": "buyer message versions",
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(
                        fields=["message", "language", "-created_at"], name="buyer_message_version_time"
                    )
                ],
            },
        ),
        append_only_trigger("orders_buyermessagetemplateversion"),
        migrations.RunPython(first_versions, migrations.RunPython.noop),
    ]
