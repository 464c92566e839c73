"""Append-only records: history and evidence are written once and never changed.

A model is declared append-only by inheriting :class:`AppendOnlyModel`. The ORM then refuses
updates and deletes of it, on every database, with a message for a person; on PostgreSQL a row
trigger refuses them even from raw SQL. The migration that creates the table installs the
trigger with :func:`append_only_trigger`; ``tests/test_appendonly.py`` checks that every
concrete subclass has one, so a new append-only model cannot forget it.

Why not ``django-pgtrigger`` (``pgtrigger.Protect``): every trigger it installs first returns
early when the session setting ``pgtrigger.ignore`` names it (its ``pgtrigger.ignore()``
escape hatch), and any role may set that setting: a role with plain UPDATE/DELETE rights could
rewrite history with ``SET LOCAL pgtrigger.ignore = ...``. The trigger below can be bypassed only
by the table's owner (``ALTER TABLE ... DISABLE TRIGGER``) or a superuser.
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

    def bulk_create(self, objs, *args, update_conflicts=False, **kwargs):
        # An upsert (INSERT ... ON CONFLICT DO UPDATE) would change the rows already there.
        if update_conflicts:
            raise _refuse(self.model._meta.verbose_name_plural, "changed")
        return super().bulk_create(objs, *args, **kwargs)


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


class AppendOnlyTrigger(migrations.RunPython):
    """The migration operation :func:`append_only_trigger` returns; ``table`` names its table."""

    def __init__(self, table: str) -> None:
        self.table = table
        super().__init__(self._install, self._drop, elidable=False)

    def _install(self, apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(_FUNCTION_SQL, params=None)
        schema_editor.execute(
            f"CREATE TRIGGER {trigger_name(self.table)} BEFORE UPDATE OR DELETE ON {self.table} "
            f"FOR EACH ROW EXECUTE FUNCTION shopops_refuse_change();"
        )

    def _drop(self, apps, schema_editor) -> None:
        if schema_editor.connection.vendor != "postgresql":
            return
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger_name(self.table)} ON {self.table};")

    def describe(self) -> str:
        return f"Make {self.table} append-only (PostgreSQL trigger)"


def trigger_name(table: str) -> str:
    return f"{table}_append_only"


def append_only_trigger(table: str) -> AppendOnlyTrigger:
    """A migration operation that makes ``table`` append-only on PostgreSQL (no-op elsewhere).

    TRUNCATE stays possible: it is an administrator's whole-table operation (and how the test
    runner empties tables), not something application code or a script does to one record.
    """
    return AppendOnlyTrigger(table)
