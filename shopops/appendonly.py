"""Append-only records: history and evidence are written once and never changed.

The ORM refuses updates and deletes here, on every database; on PostgreSQL a trigger
(``append_only_trigger``) refuses them even from raw SQL.
"""

from django.db import migrations, models


class AppendOnlyError(Exception):
    """Raised when code tries to change or remove an append-only record."""


def _refuse(model_name: str, what: str) -> AppendOnlyError:
    return AppendOnlyError(f"{model_name} records are append-only: they cannot be {what}.")


class AppendOnlyQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise _refuse(self.model._meta.verbose_name_plural, "changed")

    def delete(self):
        raise _refuse(self.model._meta.verbose_name_plural, "deleted")

    def bulk_update(self, objs, fields, batch_size=None):
        raise _refuse(self.model._meta.verbose_name_plural, "changed")

    def update_or_create(self, *args, **kwargs):
        raise _refuse(self.model._meta.verbose_name_plural, "changed")


class AppendOnlyModel(models.Model):
    objects = AppendOnlyQuerySet.as_manager()

    class Meta:
        abstract = True

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise _refuse(self._meta.verbose_name_plural, "changed")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise _refuse(self._meta.verbose_name_plural, "deleted")


_FUNCTION_SQL = """
CREATE OR REPLACE FUNCTION shopops_refuse_change() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END;
$$ LANGUAGE plpgsql;
"""


def append_only_trigger(table: str) -> migrations.RunPython:
    """A migration operation that makes ``table`` append-only on PostgreSQL (no-op elsewhere).

    TRUNCATE stays possible: it is an administrator's whole-table operation (and how the test
    runner empties tables), not something application code or a script does to one record.
    """

    def forwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(_FUNCTION_SQL, params=None)
        schema_editor.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            f"FOR EACH ROW EXECUTE FUNCTION shopops_refuse_change();"
        )

    def backwards(apps, schema_editor):
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_append_only ON {table};")

    return migrations.RunPython(forwards, backwards, elidable=False)
