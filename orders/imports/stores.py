"""The store of each row of an order file (SPEC section 11), and who may import into it.

A row's store is, in this order:

1. its ``store`` cell (店铺: a store's code, any case), when the file has the column and the cell
   is not blank;
2. else the store chosen for the file (``import_orders(store=…)``, ``import_orders --store``, the
   upload page's chooser);
3. else the only store, when there is exactly one (``policy.only_store``);
4. else nothing: the file is refused, naming the stores to choose from.

Who may import into which store is the access policy's alone (``policy.store_for``): a code that
names no store, or a store the importing user does not work for, is a row error naming it (the
whole file is then refused). Each distinct code is looked up once per file, not once per row.

An order never moves to another store: a row of an order Shopops holds in another store is
refused (``store_conflict``), and one of a store the user does not work for is a row error that
says no more than that the order id is taken (``docs/import-ownership.md``).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from shopops import inputs
from shopops.errors import Refused

from .. import policy
from ..models import Store

CODE_LENGTH = Store._meta.get_field("code").max_length


def chosen_store(by: AbstractBaseUser | None, store: Store | str | None) -> Store | None:
    """The store of the file's rows that name none: ``store`` (a Store or its code) if given and
    ``by`` works for it, else the only store there is; raises ``Refused`` naming a store that
    does not exist or that ``by`` does not work for."""
    if isinstance(store, Store):
        return policy.store_for(by, store.code)
    code = inputs.text(store, "store", max_length=CODE_LENGTH) if store is not None else ""
    return policy.store_for(by, code) if code else policy.only_store(by)


class FileStores:
    """The stores of one file's rows, for the user ``by``, with ``default`` for a row naming none."""

    def __init__(self, by: AbstractBaseUser | None, default: Store | None):
        self.by = by
        self.default = default
        self.default_id = default.pk if default is not None else None
        self._found: dict[str, int | str] = {}  # code (lower case) → store id, or why not
        self._codes: dict[int, str] = {} if default is None else {default.pk: default.code}
        self._choose = ""
        self.seen: set[int] = set()  # the stores of the file's rows

    def of_code(self, code: str) -> int | str:
        """The id of the store ``code`` names, or the message refusing it (unknown, not the user's)."""
        key = code.lower()
        found = self._found.get(key)
        if found is None:
            try:
                store = policy.store_for(self.by, code)
            except Refused as refused:
                found = refused.message
            else:
                found = store.pk
                self._codes[store.pk] = store.code
            self._found[key] = found
        return found

    def of_row(self, code: str | None) -> int | str:
        """The store id of a row whose ``store`` cell is ``code`` (``None``/blank: it names none),
        or the message saying why it has none."""
        if code:
            return self.of_code(code)
        if self.default_id is not None:
            return self.default_id
        return self.choose_message()

    def look_up(self, codes: set[str]) -> None:
        """Look up each of ``codes`` not looked up yet (blank ones name no store)."""
        for code in codes:
            if code:
                self.of_code(code)

    def quietly(self, code: str) -> int | None:
        """The store id of a row's cleaned ``store`` cell, ``None`` when it has none the user may
        import into or its code was not looked up yet (:meth:`look_up`): the probe's, which runs
        no query (it streams to the database meanwhile)."""
        if not code:
            return self.default_id
        found = self._found.get(code.lower())
        return found if isinstance(found, int) else None

    def code_of(self, store_id: int) -> str:
        if store_id not in self._codes:
            self._codes[store_id] = Store.objects.values_list("code", flat=True).get(pk=store_id)
        return self._codes[store_id]

    def choose_message(self) -> str:
        """A file (or row) that names no store while there are several: which ones to choose from."""
        if not self._choose:
            codes = [store.code for store in policy.stores(self.by)]
            if codes:
                self._choose = _(
                    "Choose the store of this file: %(stores)s (or give each row its store in the "
                    "“store” column)."
                ) % {"stores": ", ".join(codes)}
            elif Store.objects.exists():
                self._choose = _("You do not work for any store: there is no store to import orders into.")
            else:
                self._choose = _(
                    "There is no store yet: add one first (python manage.py store add CODE --name NAME)."
                )
        return self._choose

    # --- an order Shopops already holds -------------------------------------------------------

    def conflict(self, order_id: str, current: int, row_store: int, named: bool) -> tuple[bool, str]:
        """A row of ``order_id``, held in store ``current``, whose store is ``row_store`` (named by
        its cell, or the file's): (is it a row error, why). Only called when they differ."""
        if not policy.works_for(self.by, current):
            # Its existence cannot be hidden (an order id is unique across all stores), but
            # nothing more is said: not its store, nor anything of the order.
            return True, _(
                "order %(order)s is already in Shopops, in a store you do not work for: this row "
                "cannot be imported by you. Check the order id, or ask someone who works for its store."
            ) % {"order": order_id}
        what = {"order": order_id, "current": self.code_of(current), "store": self.code_of(row_store)}
        if named:
            message = _(
                "order %(order)s belongs to store “%(current)s”; the file says “%(store)s”. An order "
                "never moves to another store. Row not applied."
            )
        else:
            message = _(
                "order %(order)s belongs to store “%(current)s”; this file is imported into "
                "“%(store)s”. An order never moves to another store. Row not applied."
            )
        return False, message % what
