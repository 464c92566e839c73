# Partial indexes where every query asks for a non-blank value: an import of open, unshipped
# orders no longer writes entries nobody reads, and the 1688 order id loses its unused LIKE index.

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0007_drop_redundant_indexes"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="order",
            name="order_closed_reason",
        ),
        migrations.RemoveIndex(
            model_name="order",
            name="order_tracking",
        ),
        migrations.AlterField(
            model_name="supplierorder",
            name="supplier_order_id",
            field=models.CharField(blank=True, max_length=64, verbose_name="1688 order id"),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("closed_at__isnull", False)),
                fields=["closed_at", "close_reason"],
                name="order_closed_reason",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("tracking_number", ""), _negated=True),
                fields=["tracking_number"],
                name="order_tracking",
            ),
        ),
        migrations.AddIndex(
            model_name="supplierorder",
            index=models.Index(
                condition=models.Q(("supplier_order_id", ""), _negated=True),
                fields=["supplier_order_id"],
                name="supplierorder_1688_id",
            ),
        ),
    ]
