"""The write rule's reader, fed small modules: it sees each kind of write, and takes no read for one.

The rule itself (who owns which table, and that nothing else writes it) is checked in
``tests/test_architecture.py``; the ownership table and the verdict are in ``tests/write_rule.py``,
the reader in ``tests/write_reader.py``.
"""

from __future__ import annotations

import textwrap

import pytest

from tests.write_reader import Source
from tests.write_rule import sql_writes, violations

OUTSIDE = "orders/admin/_sample.py"  # a module that owns no table
HEADER = """\
from django.contrib import admin
from django.db import connection, models
from django.shortcuts import get_object_or_404

from orders.models import Notification, Order, Refund, Sku
from shopops import pgcopy
"""


def source(body: str, path: str = OUTSIDE) -> Source:
    return Source(HEADER + textwrap.dedent(body), path)


def writes(body: str, path: str = OUTSIDE) -> list[tuple[str, str | None]]:
    return [(w.call, w.table) for w in source(body, path).writes()]


# --- each kind of write is seen, whatever the names -------------------------------------------

WRITES = {
    "save of an annotated instance": ("def f(order: Order): order.save()", "orders.Order"),
    "delete of an instance": ("def f(o: 'Order | None'): o.delete()", "orders.Order"),
    "save of an instance fetched": (
        "x = Order.objects.get(pk=1)\nx.save(update_fields=['notes'])",
        "orders.Order",
    ),
    "save of a loop variable": (
        "for whatever in Refund.objects.all():\n    whatever.save()",
        "orders.Refund",
    ),
    "queryset update": ("Order.objects.filter(pk=1).update(status='closed')", "orders.Order"),
    "queryset delete": ("Sku.objects.filter(code='x').delete()", "orders.Sku"),
    "queryset in a variable": (
        "qs = Order.objects.filter(status='paid')\nqs.update(status='closed')",
        "orders.Order",
    ),
    "queryset in a variable, a step later": (
        """
        rows = Order.objects.all()
        locked = rows.select_for_update()
        locked.delete()
        """,
        "orders.Order",
    ),
    "create": ("Refund.objects.create(order_id=1)", "orders.Refund"),
    "bulk_create": ("Sku.objects.bulk_create([Sku(code='a')])", "orders.Sku"),
    "bulk_update": ("Sku.objects.bulk_update([], ['title'])", "orders.Sku"),
    "get_or_create": ("Sku.objects.get_or_create(code='a')", "orders.Sku"),
    "update_or_create": ("Sku.objects.update_or_create(code='a', defaults={})", "orders.Sku"),
    "related manager create": ("def f(order: Order): order.refunds.create(amount=1)", "orders.Refund"),
    "related manager of an unknown instance": (
        "def f(thing): thing.refunds.create(amount=1)",
        "orders.Refund",
    ),
    "related manager add": ("def f(order: Order, r): order.refunds.add(r)", "orders.Refund"),
    "_default_manager": ("Order._default_manager.filter(pk=1).update(notes='')", "orders.Order"),
    "_base_manager of an unknown model": (
        "def f(obj): type(obj)._base_manager.filter(pk=1).update(x=1)",
        None,
    ),
    "objects of a model in a variable": ("def f(model): model.objects.bulk_create([])", None),
    "get_object_or_404": ("get_object_or_404(Sku, pk=1).save()", "orders.Sku"),
    "apps.get_model": (
        "def f(apps): apps.get_model('orders', 'Order').objects.update(notes='')",
        "orders.Order",
    ),
    "an unknown receiver": ("def f(something): something.save()", None),
    "a function's unannotated result": (
        """
        def pick():
            return Notification.objects.filter(pk=1)

        pick().update(status='sent')
        """,
        "orders.Notification",
    ),
    "an unbound save": ("def f(order): Order.save(order)", "orders.Order"),
    "a model form saved with commit": ("def f(form): form.save(commit=True)", None),
    "async save": ("async def f(order: Order): await order.asave()", "orders.Order"),
    "a model form's save": (
        """
        from django import forms

        class F(forms.ModelForm):
            class Meta:
                model = Sku

        def f(data):
            F(data).save()
        """,
        None,
    ),
    "raw SQL UPDATE": ("connection.cursor().execute(\"UPDATE orders_order SET notes = ''\")", "orders.Order"),
    "raw SQL INSERT in a variable": (
        """
        sql = 'INSERT INTO orders_refund (order_id) VALUES (%s)'
        with connection.cursor() as c:
            c.execute(sql, [1])
        """,
        "orders.Refund",
    ),
    "raw SQL DELETE built with +": (
        """
        def f(c):
            where = ' WHERE id = %s'
            c.execute('DELETE FROM ' + '"orders_sku"' + where, [1])
        """,
        "orders.Sku",
    ),
    "raw SQL from a function": (
        """
        def statement():
            return 'TRUNCATE orders_notification'

        def f(c):
            c.execute(statement())
        """,
        "orders.Notification",
    ),
    "raw SQL in a CTE": (
        "def f(c): c.execute('WITH x AS (DELETE FROM orders_order RETURNING id) SELECT 1')",
        "orders.Order",
    ),
    "raw SQL to a table in a placeholder": ("def f(c, table): c.execute(f'UPDATE {table} SET x = 1')", None),
    "raw SQL not known": ("def f(c, sql): c.executemany(sql, [])", None),
    "Manager.raw": (
        "Order.objects.raw('UPDATE orders_order SET notes = %s RETURNING id', [''])",
        "orders.Order",
    ),
    "pgcopy.insert": ("def f(rows, now): pgcopy.insert(Order, rows, now)", "orders.Order"),
    "pgcopy.copy_rows (a layout's table)": (
        "def f(c, layout, rows): pgcopy.copy_rows(c, layout, rows)",
        None,
    ),
    "the admin's default save": (
        """
        class A(admin.ModelAdmin):
            def save_model(self, request, obj, form, change):
                super().save_model(request, obj, form, change)
        """,
        None,
    ),
    "the admin's default delete": (
        """
        class A(admin.ModelAdmin):
            def delete_queryset(self, request, queryset):
                super().delete_queryset(request, queryset)
        """,
        None,
    ),
    "the admin's default, called by name": (
        """
        class A(admin.ModelAdmin):
            def save_model(self, request, obj, form, change):
                admin.ModelAdmin.save_model(self, request, obj, form, change)
        """,
        None,
    ),
    "the admin's default, through self": (
        """
        class A(admin.ModelAdmin):
            def change(self, request, obj):
                self.save_model(request, obj, None, True)
        """,
        None,
    ),
    "save_model's obj saved": (
        """
        class A(admin.ModelAdmin):
            def save_model(self, request, obj, form, change):
                obj.save()
        """,
        None,
    ),
    "delete_queryset's queryset deleted": (
        """
        class A(admin.ModelAdmin):
            def delete_queryset(self, request, queryset):
                queryset.delete()
        """,
        None,
    ),
    "a model's own method": (
        """
        class M(models.Model):
            def close(self):
                self.save()
        """,
        None,
    ),
}


@pytest.mark.parametrize("code, table", WRITES.values(), ids=WRITES.keys())
def test_the_reader_sees_each_kind_of_write(code, table):
    found = writes(code)
    assert [t for _call, t in found] == [table], found
    assert violations(source(code)), "a module that owns no table may write none"


# --- reads, and things that are not models, are not writes -------------------------------------

NOT_WRITES = {
    "reads": """
        Order.objects.filter(pk=1).first()
        Order.objects.get(pk=1)
        Sku.objects.exists()
        list(Refund.objects.all())
        Order.objects.filter(pk=1).count()
        get_object_or_404(Sku, pk=1).refresh_from_db()
        """,
    "raw SQL reads": """
        def f(c, sql):
            c.execute('SELECT * FROM orders_order WHERE id = %s FOR UPDATE', [1])
            c.execute(f"EXPLAIN (FORMAT JSON) {sql}")
            c.execute('SET LOCAL jit = off')
        """,
    "raw SQL on a temporary table": "def f(c): c.execute('TRUNCATE shopops_import_probe')",
    "DDL": "def f(c, t): c.execute(f'CREATE TRIGGER x BEFORE UPDATE OR DELETE ON {t} EXECUTE FUNCTION f()')",
    "a dict": "data = {}\ndata.update(a=1)\n{}.update(b=2)",
    "a set": "seen = set()\nseen.add(1)\nseen.remove(1)",
    "a hash": "import hashlib\ndigest = hashlib.sha256()\ndigest.update(b'x')",
    "a positional update": "def f(context, other): context.update(other)",
    "a positional save": "def f(workbook, buffer): workbook.save(buffer)",
    "a file storage": "from django.core.files.storage import default_storage\ndefault_storage.delete('x')",
    "a form saved without commit": "def f(form): form.save(commit=False)",
    "a file written without the row": "def f(a): a.file.save('n', b'', save=False)",
    "a form's cleaned data": """
        from django import forms

        class F(forms.Form):
            def clean(self):
                data = super().clean()
                data.update(start=1)
                return data
        """,
    "an override handing on its caller's write": """
        class M(models.Model):
            def save(self, *args, **kwargs):
                super().save(*args, **kwargs)
        """,
    "a plain field": "def f(order: Order): order.notes.strip()",
    "the admin's save, overridden": """
        class A(admin.ModelAdmin):
            def save_model(self, request, obj, form, change):
                pass

            def change(self, request, obj):
                self.save_model(request, obj, None, True)
        """,
}


@pytest.mark.parametrize("code", NOT_WRITES.values(), ids=NOT_WRITES.keys())
def test_the_reader_does_not_take_a_read_for_a_write(code):
    assert writes(code) == []


def test_a_table_the_project_does_not_own_is_no_business_write():
    code = "from django.contrib.auth.models import Group\nGroup.objects.get_or_create(name='x')"
    assert writes(code) == [("Group.objects.get_or_create", "auth.Group")]
    assert violations(source(code)) == []


# --- the verdict: who owns which table --------------------------------------------------------


def test_an_owner_writes_its_own_tables_and_no_other():
    code = """
        from evidence.models import Communication

        def f(order: Order):
            order.save()
            Communication.objects.create(summary='x')
        """
    found = violations(source(code, "orders/workflow/_sample.py"))
    assert len(found) == 1 and "evidence.Communication" in found[0]
    assert len(violations(source(code, "evidence/_sample.py"))) == 2  # evidence owns services.py only


def test_an_owner_leaves_a_write_it_cannot_tell_to_the_runtime_audit():
    code = "def f(model): model.objects.bulk_create([])"
    assert violations(source(code, "orders/imports/writer.py")) == []
    assert violations(source(code, "orders/imports/rows.py")) != []


@pytest.mark.parametrize(
    "sql, tables",
    [
        ('UPDATE "orders_order" SET "notes" = %s WHERE "id" = %s', ["orders_order"]),
        ("INSERT OR IGNORE INTO orders_sku (code) VALUES ('a')", ["orders_sku"]),
        ("INSERT INTO t (a) VALUES (1) ON CONFLICT (a) DO UPDATE SET a = 2", ["t"]),
        ("SELECT 1 FROM orders_order FOR NO KEY UPDATE", []),
        ('COPY "orders_orderevent" (a, b) FROM STDIN', ["orders_orderevent"]),
        ("COPY (SELECT 1) TO STDOUT", []),
        ("-- UPDATE x\nSELECT 'DELETE FROM y'", []),
        ("\x00 WHERE x", [None]),
        ("SELECT 1; DELETE FROM public.orders_refund", ["orders_refund"]),
    ],
)
def test_sql_writes(sql, tables):
    assert sql_writes(sql) == tables
