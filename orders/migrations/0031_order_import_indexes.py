"""Fewer index entries for each new order an import writes (issue 25): what no query reads.

An import of 100,000 new orders spends most of PostgreSQL's time maintaining ``orders_order``'s
indexes (bench/README.md). Each index below was audited against every query of the app (the
selectors, the admin's lists, filters, ordering and search, the jobs, the import):

- ``order_buyer_email`` (btree on ``buyer_email``): dropped. No query looks an email up whole or
  sorts by it; the search's "part of an email" is ``UPPER(buyer_email) LIKE '%…%'``, served by
  the trigram index ``order_buyer_email_trgm`` (migration 0015), which a btree on the bare column
  cannot serve. (Should an exact lookup ever be needed, ``UPPER(buyer_email) = UPPER(%s)`` —
  Django's ``iexact`` — is served by that trigram index on PostgreSQL ≥ 14, EXPLAINed: 6.6 ms
  at 100,000 orders, every trigram of the address read; a btree on ``UPPER(buyer_email)``
  would be the index to add for a page that needs it often.)
- ``order_assignee_status``: now partial, ``WHERE assignee_id IS NOT NULL``. Every query by it
  names a person ("Mine", the team page, a reassignment, the list's *handled by* filter); the
  unassigned orders are found through the status indexes, as they already were. New orders are
  never assigned, so an import writes no entry here.
- Django's ``orders_order_platform_order_id_67ca7c12_like`` (``varchar_pattern_ops``), which
  PostgreSQL gets for every unique ``CharField`` so that ``LIKE 'x%'`` can use an index:
  dropped, PostgreSQL only (no other database has it). Every lookup of an order id is exact
  (the unique index serves it); the admin's ``order__platform_order_id`` searches are
  ``icontains`` (``LIKE '%x%'``), which this index never served. Only ``seed_demo`` asks
  ``startswith`` (its demo prefix), on a demo database. Not in the migration state (Django
  creates it implicitly), so a later ``AlterField`` of the column may create it again: drop it
  again then.
"""

from django.db import migrations, models

TABLE = "orders_order"
LIKE_INDEX = "orders_order_platform_order_id_67ca7c12_like"


def drop_like_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(f"DROP INDEX IF EXISTS {schema_editor.quote_name(LIKE_INDEX)}")


def create_like_index(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    quote = schema_editor.quote_name
    schema_editor.execute(
        f"CREATE INDEX IF NOT EXISTS {quote(LIKE_INDEX)} ON {quote(TABLE)} "
        f"({quote('platform_order_id')} varchar_pattern_ops)"
    )


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0030_order_ledger"),
    ]

    operations = [
        migrations.RemoveIndex(model_name="order", name="order_buyer_email"),
        migrations.RemoveIndex(model_name="order", name="order_assignee_status"),
        migrations.AddIndex(
            model_name="order",
            index=models.Index(
                condition=models.Q(("assignee__isnull", False)),
                fields=["assignee", "status"],
                name="order_assignee_status",
            ),
        ),
        migrations.RunPython(drop_like_index, create_like_index, elidable=False),
    ]
