"""``python manage.py import_orders FILE [--store CODE] [--dry-run] [--user NAME]``: the CSV
import of SPEC 6.

The same engine and rules as the admin screen. Prints a summary (new, updated, unchanged,
refused with reasons, or every invalid row) and exits non-zero when anything was invalid or
refused. Acts as the system (every store) unless ``--user`` names the staff user whose
permissions and stores apply. ``--store`` is the store of the rows that name none in their
``store`` column (SPEC section 11): needed for a file without that column when there are
several stores.
"""

import sys
import time
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.imports.service import ImportResult, import_orders

PROGRESS_MIN_BYTES = 1 << 20  # files under 1 MB import in a blink: no bar


class _ProgressBar:
    """A one-line progress bar on stderr, redrawn at most ten times a second."""

    def __init__(self, stream, width: int = 40):
        self.stream = stream
        self.width = width
        self.last = 0.0

    def __call__(self, done: int, total: int) -> None:
        now = time.monotonic()
        if now - self.last < 0.1 and done < total:
            return
        self.last = now
        fraction = done / total if total else 1.0
        filled = int(self.width * fraction)
        self.stream.write(f"\r[{'#' * filled}{'.' * (self.width - filled)}] {fraction:6.1%}")
        self.stream.flush()

    def finish(self) -> None:
        self.stream.write("\n")
        self.stream.flush()


class Command(BaseCommand):
    help = "Import orders from a CSV file (SPEC section 6): all or nothing, forward-only status moves."
    # A data command run often, by scripts: it needs no admin, URL or template checks (``manage.py
    # check`` and CI run them), about a tenth of a second of every run.
    requires_system_checks = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("file", type=Path, help="CSV file: UTF-8 (with or without BOM) or GBK/GB18030")
        parser.add_argument(
            "--store",
            metavar="CODE",
            help="the store of the rows without a store of their own (the file's “store” column); "
            "default: the only store, when there is one",
        )
        parser.add_argument("--dry-run", action="store_true", help="check and report, write nothing")
        parser.add_argument(
            "--user", help="username of the staff user the import acts as (default: the system)"
        )
        parser.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")

    def handle(
        self,
        *args,
        file: Path,
        store: str | None,
        dry_run: bool,
        user: str | None,
        no_progress: bool,
        **options,
    ) -> None:
        if not file.is_file():
            raise CommandError(f"{file}: no such file")
        by = None
        if user:
            try:
                by = get_user_model().objects.get(username=user, is_active=True)
            except get_user_model().DoesNotExist:
                raise CommandError(f"No active user “{user}”.") from None
        bar = None
        if not no_progress and file.stat().st_size >= PROGRESS_MIN_BYTES:
            bar = _ProgressBar(sys.stderr)
        result = import_orders(file, by=by, store=store, dry_run=dry_run, progress=bar)
        if bar is not None:
            bar.finish()
        self._report(result)
        if not result.ok:
            sys.exit(1)

    def _report(self, result: ImportResult) -> None:
        out = self.stdout
        if result.file_error:
            self.stderr.write(result.file_error)
            return
        for issue in result.errors:
            self.stderr.write(str(issue))
        if result.error_count > len(result.errors):
            self.stderr.write(f"… and {result.error_count - len(result.errors)} more problems not listed.")
        if result.invalid:
            self.stderr.write(result.summary())
            return
        out.write(result.summary())
        out.write(f"  new:       {result.new}")
        out.write(f"  updated:   {result.updated} ({result.moves} status moves)")
        out.write(f"  unchanged: {result.unchanged}")
        out.write(f"  refused:   {result.refused_count}")
        for issue in result.refused:
            out.write(f"    {issue}")
        if result.kept_count:
            out.write(f"  kept:      {result.kept_count} (corrected in Shopops or the shop's own)")
            for issue in result.kept:
                out.write(f"    {issue}")
        if result.dry_run:
            out.write("Dry run: nothing was written.")
