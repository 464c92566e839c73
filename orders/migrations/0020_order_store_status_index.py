# A one-store user's list by status: its page and its count from one index (issue 20).

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0019_order_closed_analytics_store"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                fields=["store", "status", "-placed_at", "-id"], name="order_store_status_placed"
            ),
        ),
    ]
