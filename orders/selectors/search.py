"""The order list's search: one condition, served by indexes at any number of orders.

A term matches an order by its order id, tracking number or 1688 order id typed whole (exact),
or by part of the buyer's name or email (case-insensitive, the term as one phrase). On
PostgreSQL every part of the condition is an index lookup the planner combines (``BitmapOr``):

- the order id and tracking number: their btree indexes;
- the 1688 order id: the supplier orders' index, read once, as ``id = ANY(ARRAY(SELECT …))``
  — not a join (which would need ``DISTINCT`` over the list) and not ``IN (SELECT …)``,
  which PostgreSQL cannot use inside an ``OR`` other than by reading every order;
- the name and email: ``icontains`` (``UPPER(col) LIKE UPPER('%term%')``), served by the
  trigram GIN indexes on ``UPPER(col)`` (migration 0012).

SQLite runs the same condition with ``IN (SELECT …)`` and a plain ``LIKE`` scan.

A list runs its condition twice (the paginator's count, then the page). A substring match costs
the trigram index's work each time, so :func:`order_search` runs it once, for the ids of at most
``FOUND_IDS_MAX`` orders, and the list then counts and shows those ids by primary key; a
broader term (more matches than that) keeps the condition, and the paginator's estimate.
"""

from __future__ import annotations

from django.contrib.postgres.expressions import ArraySubquery
from django.db import connections
from django.db.models import F, Lookup, Q, QuerySet

from ..models import Order, SupplierOrder

# More matches than this and the list filters by the condition itself, not a list of ids.
FOUND_IDS_MAX = 1000


class _AnyOf(Lookup):
    """``lhs = ANY(rhs)``, for an ``ArraySubquery`` on the right (PostgreSQL)."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


def _with_supplier_order_id(term: str, vendor: str) -> Q:
    ids = SupplierOrder.objects.filter(supplier_order_id=term).order_by().values("order_id")
    if vendor == "postgresql":
        return Q(_AnyOf(F("pk"), ArraySubquery(ids)))
    return Q(pk__in=ids)


def order_search(queryset: QuerySet[Order], term: str) -> QuerySet[Order]:
    """The orders of ``queryset`` that ``term`` finds (all of them for a blank term), with no
    join (no duplicate rows, no ``DISTINCT``). Runs one query for a non-blank term, whatever it
    finds: the ids of the matches, kept in the returned queryset when there are few.

    ``queryset`` is the list's, already of the user's stores (``orders.scoped_admin``): the search
    only narrows it (the 1688 order id's subquery is a membership test of its rows), so it finds,
    counts and caps at ``FOUND_IDS_MAX`` only orders the user may see."""
    term = term.strip()
    if len(term) > 1 and term[0] in "\"'" and term[-1] == term[0]:
        term = term[1:-1].strip()  # "a quoted phrase", as the admin's own search accepts
    if not term:
        return queryset
    found = queryset.filter(search_condition(term, connections[queryset.db].vendor))
    ids = list(found.order_by().values_list("pk", flat=True)[: FOUND_IDS_MAX + 1])
    if len(ids) > FOUND_IDS_MAX:
        return found
    return queryset.filter(pk__in=ids)


def search_condition(term: str, vendor: str) -> Q:
    """The order id, tracking number or 1688 order id equal to ``term``, or a buyer name or
    email containing it."""
    return (
        Q(platform_order_id=term)
        | Q(tracking_number=term)
        | _with_supplier_order_id(term, vendor)
        | Q(buyer_name__icontains=term)
        | Q(buyer_email__icontains=term)
    )
