"""Buyer search by part of a name or email (issue 16): trigram GIN indexes on PostgreSQL.

The order list's search matches ``buyer_name`` / ``buyer_email`` with Django's ``icontains``,
which PostgreSQL runs as ``UPPER(col::text) LIKE UPPER('%term%')``: the indexes are on that same
expression, with ``gin_trgm_ops`` (pg_trgm serves ``LIKE '%…%'``), so a substring search reads
the index instead of every order.

PostgreSQL only: ``TrigramExtension`` does nothing elsewhere, and the indexes are created here
rather than declared in ``Order.Meta`` (a GIN index with an operator class cannot be created on
SQLite, which keeps its plain ``LIKE`` scan). They are therefore not part of the migration
state, so ``makemigrations`` never proposes them again.
"""

from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations

TRIGRAM_INDEXES = {
    "order_buyer_name_trgm": "buyer_name",
    "order_buyer_email_trgm": "buyer_email",
}


def create_indexes(apps, schema_editor):
    # Plain SQL: Django's GinIndex(OpClass(Upper(...))) needs django.contrib.postgres in
    # INSTALLED_APPS to place the operator class outside the expression's parentheses.
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    for name, column in TRIGRAM_INDEXES.items():
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {quote(name)} ON {quote('orders_order')} "
            f"USING gin ((UPPER({quote(column)}::text)) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TRIGRAM_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(name)}")


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0014_ledger_covering_indexes"),
    ]

    operations = [
        TrigramExtension(),
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
