"""``manage.py loss_ledger [--since YYYY-MM-DD] [--until YYYY-MM-DD] [--store CODE]``: the loss
ledger as CSV. The command runs as the system: every store, or the one ``--store`` names."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from orders import policy
from orders.selectors.ledger import CSV_COLUMNS, closed_between, csv_rows
from shopops import csvout
from shopops.errors import Refused


def _day(value: str | None, option: str) -> date | None:
    if value is None:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise CommandError(f"{option} {value}: not a date (YYYY-MM-DD).") from None


class Command(BaseCommand):
    help = (
        "Write the loss ledger as CSV on standard output: one row per order closed in the period "
        "(days in the shop's time zone, both ends included), its components in their own currencies "
        "and the cost of the close in SHOPOPS_REPORTING_CURRENCY (empty when a part is missing; "
        "the missing column says which). Every store's closes, or one store's with --store."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", help="First close day, YYYY-MM-DD (default: the first close).")
        parser.add_argument("--until", help="Last close day, YYYY-MM-DD (default: today).")
        parser.add_argument("--store", help="Only this store's closes, by its code (default: every store).")

    def handle(self, *args, since: str | None, until: str | None, store: str | None, **options) -> None:
        first, last = _day(since, "--since"), _day(until, "--until")
        if first and last and first > last:
            raise CommandError(f"--since {first} is later than --until {last}.")
        chosen = None
        if store is not None:
            try:
                chosen = policy.store_for(None, store)  # the system works for every store
            except Refused as refused:
                raise CommandError(f"--store: {refused.message}") from None
        # Text a spreadsheet would run (an order id "=HYPERLINK(...)") is quoted: shopops.csvout.
        writer = csvout.writer(self.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        writer.writerows(csv_rows(closed_between(first, last, user=None, store=chosen)))
