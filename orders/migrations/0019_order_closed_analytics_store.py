# The closes of some stores read from the covering index alone: "store" joins its columns (issue 20).

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0018_third_party_admin_superuser_only"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name="order",
            name="order_closed_analytics",
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("status", "closed")),
                fields=["closed_at"],
                include=(
                    "id",
                    "close_reason",
                    "close_stage",
                    "close_started_at",
                    "sku",
                    "buyer_country",
                    "currency",
                    "total_amount",
                    "paid_at",
                    "shipped_at",
                    "quantity",
                    "store",
                ),
                name="order_closed_analytics",
            ),
        ),
    ]
