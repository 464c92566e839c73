"""Buyer feedback and the follow-up of bad ratings.

A rating at or below ``SHOPOPS_FEEDBACK_THRESHOLD`` opens a follow-up (``new``); someone
contacts the buyer (recorded as a communication on the order: ``contacted``) and closes it as
``resolved`` or ``unresolved``, with notes along the way. Feedback arrives by hand in the admin
or from a CSV file (``import_feedback``); the file is all-or-nothing and re-importing it changes
nothing.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.dateparse import parse_date, parse_datetime
from django.utils.translation import gettext as _
from django_fsm import can_proceed

from evidence import services as evidence
from evidence.models import Counterparty, Direction, Kind
from shopops.errors import OrderChanged, Refused, require_permission

from .importing import ImportFileError, detect_encoding
from .models import Feedback, FollowupStatus, Order

# A buyer's clock and ours may differ a little; beyond this, a time in the future is a mistake.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_COMMENT = 5000


def _rating(value: object) -> int:
    try:
        rating = int(str(value).strip())
    except (TypeError, ValueError):
        raise Refused(
            _("Rating “%(value)s” is not a whole number from 1 to 5.") % {"value": value}, field="rating"
        ) from None
    if not 1 <= rating <= 5:
        raise Refused(_("Rating %(value)s is outside 1 to 5.") % {"value": rating}, field="rating")
    return rating


def opens_followup(rating: int) -> bool:
    """Whether a rating is low enough to need a follow-up (at or below the threshold)."""
    return rating <= settings.SHOPOPS_FEEDBACK_THRESHOLD


def _stamp(by: AbstractBaseUser | None, text: str) -> str:
    who = by.get_username() if by is not None else _("system")
    return f"[{timezone.localtime():%Y-%m-%d %H:%M} {who}] {text.strip()}"


def _append_note(feedback: Feedback, by: AbstractBaseUser | None, note: str) -> None:
    if note and note.strip():
        line = _stamp(by, note)
        feedback.followup_notes = f"{feedback.followup_notes}\n{line}" if feedback.followup_notes else line


@transaction.atomic
def record_feedback(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    rating: int | str,
    comment: str = "",
    received_at: datetime | None = None,
) -> Feedback:
    """Record a buyer's rating of an order; a rating at or below the threshold opens a follow-up.

    Refused (nothing written) when the order does not exist, the rating is not 1 to 5, the time is
    naive or in the future, or the same rating at the same time is already recorded.
    """
    require_permission(by, "orders.add_feedback", _("record feedback"))
    if not isinstance(order, Order):
        try:
            order = Order.objects.get(pk=order)
        except (Order.DoesNotExist, ValueError, TypeError):
            raise Refused(_("Order %(order)s does not exist.") % {"order": order}, field="order") from None
    value = _rating(rating)
    now = timezone.now()
    when = received_at or now
    if timezone.is_naive(when):
        raise Refused(_("Give the time the feedback was received with its time zone."), field="received_at")
    if when > now + FUTURE_TOLERANCE:
        raise Refused(_("Feedback cannot have been received in the future."), field="received_at")
    comment = (comment or "").strip()
    if len(comment) > MAX_COMMENT:
        raise Refused(_("Keep the comment under %(n)d characters.") % {"n": MAX_COMMENT}, field="comment")
    feedback = Feedback(order=order, rating=value, comment=comment, received_at=when)
    if opens_followup(value):
        feedback.open_followup(now)
    try:
        with transaction.atomic():
            feedback.save()
    except IntegrityError:
        raise Refused(
            _("A %(rating)d-star rating received at that time is already recorded for order %(order)s.")
            % {"rating": value, "order": order.platform_order_id},
            field="received_at",
        ) from None
    return feedback


def _lock(feedback: Feedback | int) -> tuple[Feedback, Feedback | None]:
    pk = feedback.pk if isinstance(feedback, Feedback) else feedback
    try:
        locked = Feedback.objects.select_for_update().select_related("order").get(pk=pk)
    except (Feedback.DoesNotExist, ValueError, TypeError):
        raise Refused(_("Feedback %(pk)s does not exist.") % {"pk": pk}) from None
    return locked, feedback if isinstance(feedback, Feedback) else None


def _move(
    feedback: Feedback, seen: Feedback | None, name: str, by: AbstractBaseUser | None, doing: str
) -> None:
    require_permission(by, "orders.change_feedback", doing)
    if seen is not None and seen.followup_status != feedback.followup_status:
        raise OrderChanged(
            _("Someone else moved this follow-up to “%(status)s” meanwhile.")
            % {"status": feedback.get_followup_status_display()}
        )
    if not can_proceed(getattr(feedback, name)):
        raise Refused(
            _("You cannot %(doing)s: the follow-up is “%(status)s”.")
            % {"doing": doing, "status": feedback.get_followup_status_display()}
        )


def _save(locked: Feedback, seen: Feedback | None) -> Feedback:
    locked.save()
    if seen is not None:
        for name in ("followup_status", "followup_notes", "assignee_id", "followup_closed_at"):
            seen.__dict__[name] = getattr(locked, name)
    return locked


@transaction.atomic
def assign_followup(
    feedback: Feedback | int, *, by: AbstractBaseUser | None, assignee: AbstractBaseUser | None
) -> Feedback:
    """Give an open follow-up to a staff member (or to nobody). Writes a note saying so."""
    require_permission(by, "orders.change_feedback", _("assign follow-ups"))
    locked, seen = _lock(feedback)
    if locked.followup_status not in (FollowupStatus.NEW, FollowupStatus.CONTACTED):
        raise Refused(_("Only an open follow-up can be assigned."))
    if assignee is not None and not assignee.is_staff:
        raise Refused(_("Follow-ups go to staff members."), field="assignee")
    locked.assignee = assignee
    _append_note(
        locked, by, _("Assigned to %(who)s.") % {"who": assignee.get_username() if assignee else _("nobody")}
    )
    return _save(locked, seen)


@transaction.atomic
def contact_buyer(
    feedback: Feedback | int,
    *,
    by: AbstractBaseUser | None,
    channel: str,
    summary: str,
    body: str = "",
    note: str = "",
) -> Feedback:
    """``new → contacted``: record the message to the buyer as a communication on the order.

    The follow-up goes to ``by`` if nobody had it. Refused unless the follow-up is new.
    """
    locked, seen = _lock(feedback)
    _move(locked, seen, "mark_contacted", by, _("record contacting the buyer"))
    evidence.record_communication(
        locked.order,
        by=by,
        counterparty=Counterparty.BUYER,
        channel=channel,
        direction=Direction.OUTBOUND,
        kind=Kind.MESSAGE,
        summary=summary,
        body=body,
    )
    locked.mark_contacted()
    if locked.assignee_id is None and by is not None:
        locked.assignee = by
    _append_note(locked, by, _("Buyer contacted: %(summary)s") % {"summary": summary.strip()})
    _append_note(locked, by, note)
    return _save(locked, seen)


def _finish(feedback: Feedback | int, *, by, note: str, name: str, doing: str, label: str) -> Feedback:
    locked, seen = _lock(feedback)
    _move(locked, seen, name, by, doing)
    if not (note or "").strip():
        raise Refused(_("Write a note saying how it ended."), field="note")
    getattr(locked, name)(timezone.now())
    _append_note(locked, by, f"{label}: {note}")
    return _save(locked, seen)


@transaction.atomic
def resolve_followup(feedback: Feedback | int, *, by: AbstractBaseUser | None, note: str) -> Feedback:
    """``contacted → resolved``: the buyer's problem is solved. A note is required."""
    return _finish(
        feedback, by=by, note=note, name="resolve", doing=_("resolve this follow-up"), label=_("Resolved")
    )


@transaction.atomic
def mark_followup_unresolved(feedback: Feedback | int, *, by: AbstractBaseUser | None, note: str) -> Feedback:
    """``contacted → unresolved``: we tried and could not help. A note is required."""
    return _finish(
        feedback,
        by=by,
        note=note,
        name="mark_unresolved",
        doing=_("close this follow-up"),
        label=_("Unresolved"),
    )


@transaction.atomic
def add_followup_note(feedback: Feedback | int, *, by: AbstractBaseUser | None, note: str) -> Feedback:
    """Add a dated note to a follow-up without changing its state."""
    require_permission(by, "orders.change_feedback", _("add follow-up notes"))
    if not (note or "").strip():
        raise Refused(_("Write the note first."), field="note")
    locked, seen = _lock(feedback)
    _append_note(locked, by, note)
    return _save(locked, seen)


def can_take(feedback: Feedback, action: str) -> bool:
    """Whether the follow-up step ``action`` (a key of ``FOLLOWUP_ACTIONS``) fits its state now."""
    name = {"contact": "mark_contacted", "resolve": "resolve", "unresolved": "mark_unresolved"}[action]
    return can_proceed(getattr(feedback, name))


FOLLOWUP_ACTIONS = {
    # name: (service, label, needs a channel and summary)
    "contact": (contact_buyer, _("Record contacting the buyer"), True),
    "resolve": (resolve_followup, _("Mark resolved"), False),
    "unresolved": (mark_followup_unresolved, _("Mark unresolved"), False),
}


# --- CSV import ---------------------------------------------------------------------------------

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


def _parse_when(value: str) -> datetime | None:
    value = value.strip().replace("/", "-")
    # The parsers return None for a wrong shape but raise for a right shape with an impossible
    # date or time ("2026-02-30", "25:00"): to the person fixing the file both are a bad date.
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            day = parse_date(value)
            if day is None:
                return None
            parsed = datetime.combine(day, time.min)
    except ValueError:
        return None
    if timezone.is_naive(parsed):
        parsed = parsed.replace(tzinfo=ZoneInfo(settings.SHOPOPS_PLATFORM_TZ))
    return parsed


def import_feedback(
    data: bytes, *, by: AbstractBaseUser | None, dry_run: bool = False
) -> FeedbackImportResult:
    """Import feedback rows (order_id, rating, comment, date) from a CSV file.

    Headers in English or Chinese (订单号, 评分, 评价内容, 评价时间); UTF-8 (with or without BOM)
    or GBK/GB18030. Naive times are in ``SHOPOPS_PLATFORM_TZ``. All or nothing: a file with any
    bad row imports nothing and names every bad row. A row already recorded (same order, time and
    rating) is counted as already imported, so importing a file twice changes nothing.
    """
    require_permission(by, "orders.add_feedback", _("import feedback"))
    result = FeedbackImportResult(dry_run=dry_run)
    try:
        # The same detection as the order import: UTF-8 (BOM or not) or GBK/GB18030, else refused
        # with how to save the file.
        text = data.decode(detect_encoding(io.BytesIO(data)))
    except ImportFileError as exc:
        result.errors.append(RowError(0, "", str(exc)))
        return result
    reader = csv.reader(io.StringIO(text))
    header = next(reader, None)
    if not header or not any(cell.strip() for cell in header):
        result.errors.append(RowError(0, "", _("The file is empty: expected a header row.")))
        return result
    names = [COLUMNS.get(cell.strip().lower(), COLUMNS.get(cell.strip())) for cell in header]
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
            (line, {name: cells[i].strip() if i < len(cells) else "" for i, name in enumerate(names) if name})
        )
    if not rows:
        result.errors.append(RowError(0, "", _("The file has a header but no rows.")))
        return result

    orders = {
        o.platform_order_id: o
        for o in Order.objects.filter(platform_order_id__in={r["order_id"] for _l, r in rows})
    }
    parsed = []
    seen: dict[tuple, int] = {}
    now = timezone.now()
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
            rating = _rating(row["rating"])
        except Refused as exc:
            result.errors.append(RowError(line, "rating", exc.message))
            rating = None
        when = _parse_when(row["date"]) if row["date"] else None
        if when is None:
            result.errors.append(
                RowError(
                    line,
                    "date",
                    _("“%(value)s” is not a date (YYYY-MM-DD or YYYY-MM-DD HH:MM[:SS])")
                    % {"value": row["date"]},
                )
            )
        elif when > now + FUTURE_TOLERANCE:
            result.errors.append(RowError(line, "date", _("the date is in the future")))
        comment = row.get("comment", "")
        if len(comment) > MAX_COMMENT:
            result.errors.append(
                RowError(line, "comment", _("longer than %(n)d characters") % {"n": MAX_COMMENT})
            )
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
    with transaction.atomic():
        for order, rating, comment, when in parsed:
            if (order.pk, when, rating) in existing:
                result.already_imported += 1
                continue
            if not dry_run:
                record_feedback(order, by=by, rating=rating, comment=comment, received_at=when)
            result.created += 1
            result.followups_opened += opens_followup(rating)
    return result
