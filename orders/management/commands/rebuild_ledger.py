"""``manage.py rebuild_ledger [--store CODE] [--check]``: the kept loss ledger, from scratch.

Every closed order's ledger row is computed again from its movements and rates and written
where it differs (``orders.workflow.ledger.rebuild_ledger``); rows of orders no longer closed
are removed. Run it once after deploying the ledger (its table starts empty), and after changing
``SHOPOPS_REPORTING_CURRENCY`` or ``TIME_ZONE``. ``--check`` writes nothing: it lists the orders
whose kept row differs from the ledger computed now, and exits with status 1 when there is one.
The command runs as the system: every store, or the one ``--store`` names.
"""

from __future__ import annotations

import time

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders import policy
from orders.models import Order
from orders.workflow.ledger import rebuild_ledger
from shopops.errors import Refused

# Differences listed one per line, at most this many (the count says how many in all).
SHOWN = 50


class Command(BaseCommand):
    help = (
        "Rebuild the kept loss ledger (one row per closed order, the cost of its close) from the "
        "movements and exchange rates: every store's, or one store's with --store. Run once after "
        "deploying, and after changing SHOPOPS_REPORTING_CURRENCY or TIME_ZONE. With --check, "
        "write nothing: list the orders whose kept row differs and exit 1 if there is one."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--store", help="Only this store's closes, by its code (default: every store).")
        parser.add_argument(
            "--check", action="store_true", help="Compare only: write nothing, exit 1 on a difference."
        )

    def handle(self, *args, store: str | None, check: bool, **options) -> None:
        chosen = None
        if store is not None:
            try:
                chosen = policy.store_for(None, store)  # the system works for every store
            except Refused as refused:
                raise CommandError(f"--store: {refused.message}") from None
        started = time.monotonic()
        result = rebuild_ledger(store=chosen, check=check)
        seconds = time.monotonic() - started
        where = f"store {chosen.code}" if chosen else "every store"
        if not check:
            self.stdout.write(
                f"Ledger rebuilt for {where}: {result.checked} orders checked, {result.written} rows "
                f"written, {result.deleted} removed ({seconds:.1f} s)."
            )
            return
        if not result.differences:
            self.stdout.write(f"Ledger of {where} is up to date: {result.checked} orders checked.")
            return
        names = dict(
            Order.objects.filter(pk__in=list(result.differences)[:SHOWN]).values_list(
                "pk", "platform_order_id"
            )
        )
        for pk, fields in list(result.differences.items())[:SHOWN]:
            self.stdout.write(f"{names.get(pk, pk)}: {', '.join(fields)}")
        raise CommandError(
            f"The kept ledger of {where} differs for {len(result.differences)} of {result.checked} "
            "orders; nothing was written (run rebuild_ledger without --check to write it)."
        )
