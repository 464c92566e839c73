"""The paginator of the long lists (orders, history): a count that never reads the whole table."""

from __future__ import annotations

import json

from django.core.exceptions import EmptyResultSet
from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

# Below this many rows an exact COUNT(*) is cheap enough; above it the estimate is good enough.
ESTIMATE_COUNT_ABOVE = 50_000


class EstimatedCountPaginator(Paginator):
    """Counts exactly, except large lists on PostgreSQL, where the planner's estimate stands in
    for a ``COUNT(*)`` that would read every matching row: ``pg_class.reltuples`` for the whole
    table, the ``EXPLAIN`` row estimate for a filtered list. Small results (a search, a worklist
    filter) are counted exactly, and that count stops at ``ESTIMATE_COUNT_ABOVE`` rows: a result
    the planner underestimated (a substring search matching most orders) is never read whole."""

    @cached_property
    def count(self) -> int:
        queryset = self.object_list
        if isinstance(queryset, QuerySet) and connections[queryset.db].vendor == "postgresql":
            estimate = estimated_rows(queryset)
            if estimate is not None and estimate > ESTIMATE_COUNT_ABOVE:
                return estimate
            # COUNT(*) over a LIMITed subquery of the ids: exact below the bound, the bound above.
            return queryset.order_by().values("pk")[: ESTIMATE_COUNT_ABOVE + 1].count()
        return super().count


def estimated_rows(queryset: QuerySet) -> int | None:
    """PostgreSQL's estimate of the rows ``queryset`` matches (``None`` when it has none)."""
    connection = connections[queryset.db]
    with connection.cursor() as cursor:
        if not queryset.query.where:
            cursor.execute(
                "SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass",
                [queryset.model._meta.db_table],
            )
            row = cursor.fetchone()
            return int(row[0]) if row and row[0] >= 0 else None
        try:
            sql, params = queryset.order_by().values("pk").query.sql_with_params()
        except EmptyResultSet:
            return 0  # a filter that matches nothing by construction (``pk__in=[]``): no SQL at all
        cursor.execute(f"EXPLAIN (FORMAT JSON) {sql}", params)
        plan = cursor.fetchone()[0]
    if isinstance(plan, str):
        plan = json.loads(plan)
    return int(plan[0]["Plan"]["Plan Rows"])
