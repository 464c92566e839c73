"""What an import did: its counts, and every invalid or refused row with where and why."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.utils import formats, timezone
from django.utils.translation import gettext as _

from ..models import OrderImport

MAX_LISTED_ISSUES = 10_000  # every bad row is counted; the first 10,000 are listed (bounded memory)


@dataclass(frozen=True)
class RowIssue:
    """One problem with one row: where it is, what it says, and why it is wrong or refused."""

    row: int
    column: str
    value: str
    message: str

    def __str__(self) -> str:
        where = _("row %(row)d") % {"row": self.row}
        if self.column:
            where += f", {self.column}"
        return f"{where}: {self.message}"


@dataclass
class ImportResult:
    """What an import did (or, for a dry run or a file with errors, would do / did not do)."""

    file_name: str
    dry_run: bool = False
    file_error: str = ""
    # The import did not happen (a database error, another import running): nothing was written,
    # and the very same file can be imported again.
    failed: str = ""
    rows: int = 0
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    refused: list[RowIssue] = field(default_factory=list)
    refused_count: int = 0
    errors: list[RowIssue] = field(default_factory=list)
    error_count: int = 0
    error_rows: set[int] = field(default_factory=set)
    moves: int = 0
    # Fields the file would change but the shop owns (a staff correction, the shop's notes).
    kept: list[RowIssue] = field(default_factory=list)
    kept_count: int = 0
    # The earlier import of the very same file that vouched for it: nothing was read.
    same_as: OrderImport | None = None

    @property
    def invalid(self) -> bool:
        """The file could not be imported at all: nothing was written."""
        return bool(self.file_error or self.error_count or self.failed)

    @property
    def applied(self) -> bool:
        return not self.invalid and not self.dry_run

    @property
    def ok(self) -> bool:
        """Nothing invalid and nothing refused: what the command's exit status reports."""
        return not self.invalid and not self.refused_count

    @property
    def nothing_to_change(self) -> bool:
        return not self.invalid and not (self.new or self.updated)

    def add_error(self, issue: RowIssue) -> None:
        self.error_count += 1
        self.error_rows.add(issue.row)
        if len(self.errors) < MAX_LISTED_ISSUES:
            self.errors.append(issue)

    def add_refused(self, issue: RowIssue) -> None:
        self.refused_count += 1
        if len(self.refused) < MAX_LISTED_ISSUES:
            self.refused.append(issue)

    def add_kept(self, issue: RowIssue) -> None:
        self.kept_count += 1
        if len(self.kept) < MAX_LISTED_ISSUES:
            self.kept.append(issue)

    def summary(self) -> str:
        if self.failed:
            return self.failed
        if self.file_error:
            return self.file_error
        if self.error_count:
            return _(
                "Nothing was imported: %(errors)d problem(s) in %(rows)d row(s) of %(file)s. "
                "Correct them and import the file again."
            ) % {"errors": self.error_count, "rows": len(self.error_rows), "file": self.file_name}
        counts = _("%(new)d new, %(updated)d updated, %(unchanged)d unchanged, %(refused)d refused") % {
            "new": self.new,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "refused": self.refused_count,
        }
        kept = ""
        if self.kept_count:
            kept = " " + _(
                "%(kept)d field(s) corrected in Shopops or owned by the shop were kept, not the file's "
                "value (listed below)."
            ) % {"kept": self.kept_count}
        if self.nothing_to_change and not self.refused_count and self.kept_count:
            nothing = _("%(file)s changes nothing (%(counts)s).")
            return nothing % {"file": self.file_name, "counts": counts} + kept
        if self.nothing_to_change and not self.refused_count:
            message = _("%(file)s changes nothing: every order is already as in the file (%(counts)s).") % {
                "file": self.file_name,
                "counts": counts,
            }
            if self.same_as is not None:
                message += " " + _(
                    "It is the same file as imported on %(when)s, and none of its orders has changed since."
                ) % {
                    "when": formats.date_format(
                        timezone.localtime(self.same_as.imported_at), "DATETIME_FORMAT"
                    )
                }
            return message
        if self.dry_run:
            return (
                _("Preview of %(file)s: %(counts)s. Nothing has been written yet.")
                % {"file": self.file_name, "counts": counts}
                + kept
            )
        return _("Imported %(file)s: %(counts)s.") % {"file": self.file_name, "counts": counts} + kept
