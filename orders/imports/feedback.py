"""Buyer feedback from a CSV file (``import_feedback``): all or nothing, and idempotent.

Reading is the order import's one CSV reader (``orders.imports.reading.open_csv``: encodings,
and a malformed file or an over-long cell reported, never a 500); each value is parsed by
``shopops.inputs`` (dates within the sane window, text without NUL) and each row is checked
here and recorded through ``orders.workflow.feedback.record_feedback``, which opens the
follow-up of a low rating.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import DatabaseError, transaction
from django.utils.translation import gettext as _

from shopops import inputs
from shopops.errors import Refused

from .. import policy
from ..groups import IMPORT_PERMISSION
from ..models import Feedback, Order
from ..workflow.feedback import FUTURE_TOLERANCE, MAX_COMMENT, opens_followup, parse_rating, record_feedback
from .reading import ImportFileError, not_csv_message, open_csv

COLUMNS = {
    "order_id": "order_id",
    "订单号": "order_id",
    "rating": "rating",
    "评分": "rating",
    "comment": "comment",
    "评价内容": "comment",
    "date": "date",
    "评价时间": "date",
}
REQUIRED = ("order_id", "rating", "date")


@dataclass
class RowError:
    row: int  # the line in the file; the header is row 1
    column: str
    message: str

    def __str__(self) -> str:
        if self.row:
            return _("Row %(row)d, %(column)s: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return self.message


@dataclass
class FeedbackImportResult:
    created: int = 0
    already_imported: int = 0
    followups_opened: int = 0
    errors: list[RowError] = field(default_factory=list)
    dry_run: bool = False

    @property
    def ok(self) -> bool:
        return not self.errors


def _parse_when(value: str) -> datetime:
    """A feedback date (naive: in the platform's zone), within the sane window; ``Refused``."""
    zone = ZoneInfo(settings.SHOPOPS_PLATFORM_TZ)
    return inputs.moment(value, "date", zone=zone, skew=FUTURE_TOLERANCE)


def import_feedback(
    data: bytes, *, by: AbstractBaseUser | None, dry_run: bool = False
) -> FeedbackImportResult:
    """Import feedback rows (order_id, rating, comment, date) from a CSV file.

    Headers in English or Chinese (订单号, 评分, 评价内容, 评价时间); UTF-8 (with or without BOM)
    or GBK/GB18030. Naive times are in ``SHOPOPS_PLATFORM_TZ``. All or nothing: a file with any
    bad row imports nothing and names every bad row. A row already recorded (same order, time and
    rating) is counted as already imported, so importing a file twice changes nothing.
    """
    policy.require(by, IMPORT_PERMISSION, _("import feedback"))
    result = FeedbackImportResult(dry_run=dry_run)
    line = 1
    try:
        # The order import's reader: UTF-8 (BOM or not) or GBK/GB18030, else refused with how to
        # save the file; a malformed line or an over-long cell is a row error, not a crash.
        _counter, reader = open_csv(io.BytesIO(data))
        header = next(reader, None)
        if not header or not any(cell.strip() for cell in header):
            result.errors.append(RowError(0, "", _("The file is empty: expected a header row.")))
            return result
        names = [
            COLUMNS.get(cell.strip().lstrip("\ufeff").lower(), COLUMNS.get(cell.strip())) for cell in header
        ]
        missing = [column for column in REQUIRED if column not in names]
        if missing:
            result.errors.append(
                RowError(0, "", _("Missing column(s): %(columns)s.") % {"columns": ", ".join(missing)})
            )
            return result
        rows = []
        for line, cells in enumerate(reader, start=2):
            if not any(cell.strip() for cell in cells):
                continue
            rows.append(
                (
                    line,
                    {
                        name: cells[i].strip() if i < len(cells) else ""
                        for i, name in enumerate(names)
                        if name
                    },
                )
            )
    except ImportFileError as exc:
        result.errors.append(RowError(0, "", str(exc)))
        return result
    except csv.Error as exc:
        result.errors.append(RowError(line + 1, "", not_csv_message(exc)))
        return result
    if not rows:
        result.errors.append(RowError(0, "", _("The file has a header but no rows.")))
        return result

    orders = {
        o.platform_order_id: o
        for o in Order.objects.filter(platform_order_id__in={r["order_id"] for _l, r in rows})
    }
    parsed = []
    seen: dict[tuple, int] = {}
    for line, row in rows:
        bad = len(result.errors)
        order = orders.get(row["order_id"])
        if not row["order_id"]:
            result.errors.append(RowError(line, "order_id", _("the order id is missing")))
        elif order is None:
            result.errors.append(
                RowError(line, "order_id", _("no order %(id)s in Shopops") % {"id": row["order_id"]})
            )
        try:
            rating = parse_rating(row["rating"])
        except Refused as exc:
            result.errors.append(RowError(line, "rating", exc.message))
            rating = None
        when = None
        try:
            when = _parse_when(row["date"])
        except Refused as exc:
            result.errors.append(RowError(line, "date", exc.message))
        comment = ""
        try:
            comment = inputs.text(row.get("comment", ""), "comment", max_length=MAX_COMMENT, multiline=True)
        except Refused as exc:
            result.errors.append(RowError(line, "comment", exc.message))
        if len(result.errors) > bad:
            continue
        key = (order.pk, when, rating)
        if key in seen:
            result.errors.append(
                RowError(line, "order_id", _("the same feedback as row %(row)d") % {"row": seen[key]})
            )
            continue
        seen[key] = line
        parsed.append((order, rating, comment, when))
    if result.errors:
        return result

    existing = set(
        Feedback.objects.filter(order__in=[o for o, *_ in parsed]).values_list(
            "order_id", "received_at", "rating"
        )
    )
    try:
        with transaction.atomic():
            for order, rating, comment, when in parsed:
                if (order.pk, when, rating) in existing:
                    result.already_imported += 1
                    continue
                if not dry_run:
                    record_feedback(order, by=by, rating=rating, comment=comment, received_at=when)
                result.created += 1
                result.followups_opened += opens_followup(rating)
    except DatabaseError as error:
        # All or nothing: the transaction is rolled back; the same file can simply be sent again.
        result.created = result.already_imported = result.followups_opened = 0
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        result.errors.append(
            RowError(
                0,
                "",
                _(
                    "The import did not happen: the database reported an error (%(error)s). "
                    "Nothing was written; it can be tried again."
                )
                % {"error": reason},
            )
        )
    return result
