# The import history (OrderImport), append-only like the order history; Supervisors see it.

from functools import partial

import django.db.models.deletion
import django.utils.timezone
from django.conf import settings
from django.db import migrations, models

from orders.groups import resync_groups
from shopops.appendonly import append_only_trigger


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0008_partial_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="OrderImport",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("file_name", models.CharField(max_length=255, verbose_name="file")),
                (
                    "sha256",
                    models.CharField(db_index=True, max_length=64, verbose_name="SHA-256 of the file"),
                ),
                ("rules", models.CharField(max_length=100, verbose_name="rules")),
                (
                    "imported_at",
                    models.DateTimeField(
                        db_index=True, default=django.utils.timezone.now, verbose_name="imported"
                    ),
                ),
                ("rows", models.PositiveIntegerField(verbose_name="rows")),
                ("new", models.PositiveIntegerField(verbose_name="new")),
                ("updated", models.PositiveIntegerField(verbose_name="updated")),
                ("unchanged", models.PositiveIntegerField(verbose_name="unchanged")),
                ("refused", models.PositiveIntegerField(verbose_name="refused")),
                ("moves", models.PositiveIntegerField(verbose_name="status moves")),
                (
                    "order_ranges",
                    models.JSONField(blank=True, default=list, editable=False, verbose_name="orders"),
                ),
                (
                    "checksum",
                    models.CharField(blank=True, editable=False, max_length=40, verbose_name="checksum"),
                ),
                (
                    "imported_by",
                    models.ForeignKey(
                        blank=True,
                        db_index=False,
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="imported by",
                    ),
                ),
            ],
            options={
                "verbose_name": "order import",
                "verbose_name_plural": "order imports",
                "ordering": ["-imported_at", "-id"],
            },
        ),
        append_only_trigger("orders_orderimport"),
        # Supervisors see the import history.
        migrations.RunPython(partial(resync_groups, missing_ok=True), migrations.RunPython.noop),
    ]
