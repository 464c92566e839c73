"""Staff groups with their permissions; append-only history and stock movements; refund limits.

On PostgreSQL, triggers back up what the ORM enforces: history and stock movements refuse
UPDATE/DELETE even from raw SQL, and a refund that would take a direction's total past what
was paid (buyer) or the supplier order amount (supplier) is refused.
"""

from django.contrib.auth.management import create_permissions
from django.db import migrations

from orders.groups import sync_groups
from shopops.appendonly import append_only_trigger

REFUND_LIMIT_SQL = """
CREATE OR REPLACE FUNCTION orders_refund_within_limit() RETURNS trigger AS $$
DECLARE
    refunded numeric;
    limit_amount numeric;
BEGIN
    IF NEW.status IN ('rejected', 'cancelled') THEN
        RETURN NEW;
    END IF;
    SELECT COALESCE(SUM(amount), 0) INTO refunded FROM orders_refund
        WHERE order_id = NEW.order_id AND direction = NEW.direction
          AND status NOT IN ('rejected', 'cancelled') AND id IS DISTINCT FROM NEW.id;
    IF NEW.direction = 'to_buyer' THEN
        SELECT total_amount INTO limit_amount FROM orders_order WHERE id = NEW.order_id;
    ELSE
        SELECT COALESCE(SUM(amount), 0) INTO limit_amount FROM orders_supplierorder
            WHERE order_id = NEW.order_id;
    END IF;
    IF refunded + NEW.amount > limit_amount THEN
        RAISE EXCEPTION 'refunds % of order % would total %, above the limit %',
            NEW.direction, NEW.order_id, refunded + NEW.amount, limit_amount
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER orders_refund_within_limit BEFORE INSERT OR UPDATE OF amount, status ON orders_refund
    FOR EACH ROW EXECUTE FUNCTION orders_refund_within_limit();
"""


def create_groups(apps, schema_editor):
    for app_config in apps.get_app_configs():
        app_config.models_module = True
        create_permissions(app_config, apps=apps, verbosity=0)
        app_config.models_module = None
    # Permissions added by later migrations do not exist yet; those migrations re-sync.
    sync_groups(apps, missing_ok=True)


def refund_limit_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(REFUND_LIMIT_SQL, params=None)


def drop_refund_limit_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("DROP TRIGGER IF EXISTS orders_refund_within_limit ON orders_refund;")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0001_initial"),
        ("evidence", "0001_initial"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
        ("django_celery_beat", "0019_alter_periodictasks_options"),
    ]

    operations = [
        migrations.RunPython(create_groups, migrations.RunPython.noop),
        append_only_trigger("orders_orderevent"),
        append_only_trigger("orders_stockmovement"),
        migrations.RunPython(refund_limit_trigger, drop_refund_limit_trigger),
    ]
