import django.core.validators
import django.db.models.deletion
import django.db.models.functions.text
from django.conf import settings
from django.db import migrations, models

DEFAULT_CODE = "main"  # orders.models.store.DEFAULT_CODE, frozen here


def default_store(apps, schema_editor):
    """Today's orders belong to one store: the default one (SPEC §11), granted to every staff user."""
    Store = apps.get_model("orders", "Store")
    Order = apps.get_model("orders", "Order")
    User = apps.get_model(*settings.AUTH_USER_MODEL.split("."))
    store, _ = Store.objects.get_or_create(code=DEFAULT_CODE, defaults={"name": "Main store"})
    Order.objects.filter(store__isnull=True).update(store=store)
    # Nobody loses the orders they worked on: staff work for the store that holds them.
    store.staff.add(*User.objects.filter(is_staff=True, is_superuser=False))


class Migration(migrations.Migration):
    # Orders are filled in between adding the column and making it required: on PostgreSQL an
    # ALTER after an UPDATE of the same table in one transaction fails ("pending trigger
    # events"), so each step commits on its own (each is safe to re-run).
    atomic = False

    dependencies = [
        ("orders", "0015_buyer_search_trigram"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Store",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "code",
                    models.CharField(
                        help_text="Short and unique: the CSV's “store” column names the store by it.",
                        max_length=32,
                        unique=True,
                        validators=[
                            django.core.validators.RegexValidator(
                                "^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$",
                                "A store code is 1–32 letters, digits, “-” or “_”, starting with one.",
                            )
                        ],
                        verbose_name="code",
                    ),
                ),
                ("name", models.CharField(max_length=200, verbose_name="name")),
                (
                    "time_zone",
                    models.CharField(
                        blank=True,
                        help_text="Blank: SHOPOPS_PLATFORM_TZ.",
                        max_length=64,
                        verbose_name="time zone",
                    ),
                ),
                (
                    "currency",
                    models.CharField(
                        default="USD",
                        help_text="The default currency of its orders.",
                        max_length=3,
                        verbose_name="currency",
                    ),
                ),
                (
                    "return_address",
                    models.TextField(
                        blank=True,
                        help_text="Where buyers send returns. Blank: SHOPOPS_RETURN_ADDRESS.",
                        verbose_name="return address",
                    ),
                ),
                (
                    "payment_reminder_hours",
                    models.FloatField(
                        blank=True,
                        help_text="Blank: SHOPOPS_PAYMENT_REMINDER_HOURS.",
                        null=True,
                        validators=[django.core.validators.MinValueValidator(0)],
                        verbose_name="payment reminder after (hours)",
                    ),
                ),
                (
                    "payment_timeout_hours",
                    models.FloatField(
                        blank=True,
                        help_text="Blank: SHOPOPS_PAYMENT_TIMEOUT_HOURS.",
                        null=True,
                        validators=[django.core.validators.MinValueValidator(0)],
                        verbose_name="payment timeout (hours)",
                    ),
                ),
                (
                    "supplier_respond_days",
                    models.FloatField(
                        blank=True,
                        help_text="Blank: SHOPOPS_SUPPLIER_RESPOND_DAYS.",
                        null=True,
                        validators=[django.core.validators.MinValueValidator(0)],
                        verbose_name="supplier respond-by (days)",
                    ),
                ),
                (
                    "message_sender",
                    models.CharField(
                        blank=True,
                        help_text="The name buyer messages are signed with. Blank: SHOPOPS_MESSAGE_SENDER.",
                        max_length=100,
                        verbose_name="sender in buyer messages",
                    ),
                ),
                ("created_at", models.DateTimeField(auto_now_add=True, verbose_name="created")),
                (
                    "staff",
                    models.ManyToManyField(
                        blank=True,
                        help_text="Who works for this store (superusers work for every store).",
                        related_name="stores",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="staff",
                    ),
                ),
            ],
            options={"verbose_name": "store", "verbose_name_plural": "stores", "ordering": ["code"]},
        ),
        migrations.AddConstraint(
            model_name="store",
            constraint=models.UniqueConstraint(
                django.db.models.functions.text.Lower("code"), name="store_code_unique_ci"
            ),
        ),
        migrations.AddField(
            model_name="order",
            name="store",
            field=models.ForeignKey(
                db_index=False,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orders",
                to="orders.store",
                verbose_name="store",
            ),
        ),
        migrations.RunPython(default_store, migrations.RunPython.noop),
        migrations.AlterField(
            model_name="order",
            name="store",
            field=models.ForeignKey(
                db_index=False,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="orders",
                to="orders.store",
                verbose_name="store",
            ),
        ),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(fields=["store", "-placed_at", "-id"], name="order_store_placed"),
        ),
    ]
