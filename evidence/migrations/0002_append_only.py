"""Evidence is append-only: on PostgreSQL, even raw SQL cannot change or delete it."""

from django.db import migrations

from shopops.appendonly import append_only_trigger


class Migration(migrations.Migration):
    dependencies = [("evidence", "0001_initial")]

    operations = [
        append_only_trigger("evidence_communication"),
        append_only_trigger("evidence_attachment"),
    ]
