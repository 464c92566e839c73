"""``manage.py sync_platforms [--store CODE]``: one pass per connected store (SPEC section 11).

Pulls each store's AliExpress orders and disputes changed since its last good pass, then, for a
store connected to 1688, sends the refund requests waiting to be filed and reads the 1688
refunds' answers back (``orders.platforms.sync``); prints what it did per store, and exits with
status 1 when a store's pass failed (the others still ran).
"""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.models import Store
from orders.platforms import sync


class Command(BaseCommand):
    help = (
        "Pull each connected store's AliExpress orders and disputes changed since its last good pass; "
        "send the 1688 refund requests waiting and read the 1688 refunds' answers."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--store", metavar="CODE", help="Only this store.")

    def handle(self, *args, store: str | None = None, **options) -> None:
        if store is not None and not sync.connected_stores(store):
            known = Store.objects.filter(code__iexact=store).exists()
            raise CommandError(
                f"Store “{store}” is not connected to AliExpress: manage.py store connect {store} …"
                if known
                else f"Unknown store “{store}”."
            )
        reports = sync.run_all(store)
        if not reports:
            self.stdout.write("No store is connected to AliExpress (manage.py store connect CODE …).")
            return
        for report in reports:
            style = (
                self.style.SUCCESS
                if report.ok and not report.skipped
                else (self.style.WARNING if report.ok else self.style.ERROR)
            )
            self.stdout.write(style(report.line()))
            for problem in report.problems[:20]:
                self.stdout.write(f"  order {problem['order'] or '?'}: {problem['problem']}")
            if len(report.problems) > 20 or report.counts["problems"] > len(report.problems):
                self.stdout.write(
                    f"  … {report.counts['problems']} problems in all (the store's page lists the last ones)"
                )
        failed = [report.store for report in reports if not report.ok]
        if failed:
            raise CommandError(
                f"The pass failed for {', '.join(failed)}; the next pass starts where it stopped."
            )
