"""``manage.py loss_ledger [--since YYYY-MM-DD] [--until YYYY-MM-DD]``: the loss ledger as CSV."""

from datetime import date

from django.core.management.base import BaseCommand, CommandError

from orders.selectors.ledger import CSV_COLUMNS, closed_between, ledger
from shopops import csvout


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
        "the missing column says which)."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("--since", help="First close day, YYYY-MM-DD (default: the first close).")
        parser.add_argument("--until", help="Last close day, YYYY-MM-DD (default: today).")

    def handle(self, *args, since: str | None, until: str | None, **options) -> None:
        first, last = _day(since, "--since"), _day(until, "--until")
        if first and last and first > last:
            raise CommandError(f"--since {first} is later than --until {last}.")
        # Text a spreadsheet would run (an order id "=HYPERLINK(...)") is quoted: shopops.csvout.
        writer = csvout.writer(self.stdout, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for row in ledger(closed_between(first, last)):
            writer.writerow(row.csv_row())
