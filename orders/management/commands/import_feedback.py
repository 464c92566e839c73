"""``manage.py import_feedback FILE [--dry-run]``: buyer feedback from CSV, all or nothing."""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from orders.imports.feedback import import_feedback


class Command(BaseCommand):
    help = (
        "Import buyer feedback from a CSV file (order_id, rating, comment, date; or 订单号, 评分, 评价内容, "
        "评价时间). A file with any bad row imports nothing; re-importing changes nothing."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("file", type=Path)
        parser.add_argument("--dry-run", action="store_true", help="Check the file, import nothing.")

    def handle(self, *args, file: Path, dry_run: bool, **options) -> None:
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        result = import_feedback(data, by=None, dry_run=dry_run)
        if not result.ok:
            for error in result.errors:
                self.stderr.write(str(error))
            raise CommandError(f"Nothing imported: {len(result.errors)} problem(s) in {file}.")
        verb = "Would import" if dry_run else "Imported"
        self.stdout.write(
            self.style.SUCCESS(
                f"{verb} {result.created} feedback ({result.followups_opened} follow-ups opened); "
                f"{result.already_imported} already imported."
            )
        )
