"""The only way evidence is recorded: communications and attached files.

Both are append-only; both check the acting user's permission (``by=None`` is the system).
"""

import hashlib
import os
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops import pgcopy
from shopops.errors import Refused, require_permission

from .models import Attachment, Channel, Communication, Counterparty, Direction, Kind

# How far a communication's time may lie ahead of the server clock (phones drift).
FUTURE_TOLERANCE = timedelta(minutes=5)
# Markup that a browser would run: refused even though it is text.
_MARKUP = (b"<html", b"<!doctype", b"<script", b"<svg", b"<?xml", b"<body", b"<iframe", b"<head")
_TEXT_CONTROLS = set(range(32)) - {9, 10, 12, 13}
# Executables: Windows PE, ELF, Mach-O (both byte orders, and universal), and scripts.
_PROGRAM_MAGIC = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")


def _resolve_order(order):
    from orders.models import Order

    if isinstance(order, Order):
        return order
    try:
        return Order.objects.get(pk=order)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise Refused(_("Order %(order)s does not exist.") % {"order": order}) from None


def _check_choice(value: str, choices, field: str, label: str) -> None:
    if value not in choices.values:
        allowed = ", ".join(choices.values)
        raise Refused(
            _("%(label)s '%(value)s' is not one of: %(allowed)s.")
            % {"label": label, "value": value, "allowed": allowed},
            field=field,
        )


def _check_choices(counterparty: str, channel: str, direction: str, kind: str) -> None:
    _check_choice(counterparty, Counterparty, "counterparty", _("Counterparty"))
    _check_choice(channel, Channel, "channel", _("Channel"))
    _check_choice(direction, Direction, "direction", _("Direction"))
    _check_choice(kind, Kind, "kind", _("Kind"))


@transaction.atomic
def record_communication(
    order,
    *,
    by: AbstractBaseUser | None,
    counterparty: str,
    channel: str,
    direction: str,
    kind: str = Kind.MESSAGE,
    summary: str,
    body: str = "",
    occurred_at: datetime | None = None,
) -> Communication:
    """Record what was said with a buyer, supplier or platform support. Append-only.

    A ``consent`` or ``refusal`` recorded here is what the consent/refusal transitions require.
    """
    require_permission(by, "evidence.add_communication", _("record communications"))
    communication = _communication(
        _resolve_order(order),
        by=by,
        counterparty=counterparty,
        channel=channel,
        direction=direction,
        kind=kind,
        summary=summary,
        body=body,
        occurred_at=occurred_at,
    )
    communication.save()
    return communication


@transaction.atomic
def record_communications(entries: list[dict], *, by: AbstractBaseUser | None) -> int:
    """:func:`record_communication` for many at once (the periodic jobs' supplier reminders).

    Each entry holds that function's keyword arguments, with ``order`` an ``Order``. Every entry
    is checked as one would be: a bad one refuses them all and nothing is written; otherwise
    they are written at once (a COPY on PostgreSQL, else one INSERT per 1,000). Returns how many.
    """
    require_permission(by, "evidence.add_communication", _("record communications"))
    kinds = {(e["counterparty"], e["channel"], e["direction"], e.get("kind", Kind.MESSAGE)) for e in entries}
    for counterparty, channel, direction, kind in kinds:  # each distinct choice checked once
        _check_choices(counterparty, channel, direction, kind)
    built = [_communication(by=by, choices_checked=True, **entry) for entry in entries]
    if connections[router.db_for_write(Communication)].vendor == "postgresql":
        fields = [f.attname for f in Communication._meta.concrete_fields if not f.primary_key]
        rows = [{name: getattr(c, name) for name in fields} for c in built]
        pgcopy.insert(Communication, rows, timezone.now(), returning=False)
    else:
        Communication.objects.bulk_create(built, batch_size=1000)
    return len(built)


def _communication(
    order,
    *,
    by: AbstractBaseUser | None,
    counterparty: str,
    channel: str,
    direction: str,
    kind: str = Kind.MESSAGE,
    summary: str,
    body: str = "",
    occurred_at: datetime | None = None,
    choices_checked: bool = False,
) -> Communication:
    """A communication checked and ready to save (not saved)."""
    if not choices_checked:
        _check_choices(counterparty, channel, direction, kind)
    summary = (summary or "").strip()
    if not summary:
        raise Refused(_("Write a short summary of the communication."), field="summary")
    if len(summary) > 255:
        raise Refused(_("Keep the summary under 255 characters; put the rest in the text."), field="summary")
    now = timezone.now()
    if occurred_at is None:
        occurred_at = now
    elif not isinstance(occurred_at, datetime):
        # A script may pass text ("yesterday"): refuse it here rather than fail inside Django.
        raise Refused(_("“%(value)s” is not a date and time.") % {"value": occurred_at}, field="occurred_at")
    elif timezone.is_naive(occurred_at):
        raise Refused(_("Give the time of the communication with its time zone."), field="occurred_at")
    elif occurred_at > now + FUTURE_TOLERANCE:
        raise Refused(_("The communication cannot have happened in the future."), field="occurred_at")
    return Communication(
        order=order,
        counterparty=counterparty,
        channel=channel,
        direction=direction,
        kind=kind,
        summary=summary,
        body=body or "",
        occurred_at=occurred_at,
        recorded_by=by,
        recorded_at=now,
    )


def detect_content_type(head: bytes) -> str | None:
    """The accepted type that these leading bytes are, judged from the bytes alone, or None."""
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if len(head) >= 12 and head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return "image/webp"
    if head.startswith(b"%PDF-"):
        return "application/pdf"
    # A program whose header happens to be printable is still a program, not a note.
    if head.startswith(_PROGRAM_MAGIC):
        return None
    if _is_plain_text(head):
        return "text/plain"
    return None


def _is_plain_text(head: bytes) -> bool:
    if not head:
        return False
    sample = head.lstrip(b"\xef\xbb\xbf")
    if any(b in _TEXT_CONTROLS for b in sample):
        return False
    if not (_decodes(sample, "utf-8") or _decodes(sample, "gb18030")):
        return False
    lowered = sample.lower()
    return not any(tag in lowered for tag in _MARKUP)


def _decodes(sample: bytes, encoding: str) -> bool:
    # The sample may end inside a multi-byte character: forgive a cut-off tail of up to 3 bytes.
    for cut in range(4):
        try:
            (sample[:-cut] if cut else sample).decode(encoding)
            return True
        except UnicodeDecodeError:
            continue
    return False


def _describe_refused(head: bytes) -> str:
    if head.startswith(_PROGRAM_MAGIC):
        return _("it is a program")
    if any(tag in head.lower() for tag in _MARKUP):
        return _("it is a web page or markup")
    if head.startswith(b"PK\x03\x04"):
        return _("it is an archive or office document")
    return _("its content is not an accepted type")


@transaction.atomic
def attach_file(order, *, by: AbstractBaseUser | None, file, communication: Communication | None = None):
    """Keep a file as evidence on an order. Append-only.

    The type is judged from the bytes (PNG, JPEG, WebP, PDF or plain text), the size is at
    most ``SHOPOPS_ATTACHMENT_MAX_BYTES``, and the file is stored under a generated name with
    its SHA-256; the uploader's file name is kept only as a label.
    """
    require_permission(by, "evidence.add_attachment", _("attach files"))
    order = _resolve_order(order)
    if communication is not None and communication.order_id != order.pk:
        raise Refused(_("That communication belongs to another order."), field="communication")
    original_name = os.path.basename(str(getattr(file, "name", "") or "").replace("\\", "/")).strip()
    original_name = original_name[:255] or "file"
    limit = settings.SHOPOPS_ATTACHMENT_MAX_BYTES

    digest = hashlib.sha256()
    chunks: list[bytes] = []
    size = 0
    if hasattr(file, "seek"):
        file.seek(0)
    reader = file.chunks() if hasattr(file, "chunks") else iter(lambda: file.read(65536), b"")
    for chunk in reader:
        size += len(chunk)
        if size > limit:
            raise Refused(
                _("“%(name)s” is larger than %(limit)s MB; the limit for evidence files is %(limit)s MB.")
                % {"name": original_name, "limit": f"{limit / (1024 * 1024):g}"},
                field="file",
            )
        digest.update(chunk)
        chunks.append(chunk)
    data = b"".join(chunks)
    if not data:
        raise Refused(_("“%(name)s” is empty.") % {"name": original_name}, field="file")
    content_type = detect_content_type(data[:8192])
    if content_type is None:
        raise Refused(
            _(
                "“%(name)s” was refused: %(why)s. Evidence files must be PNG, JPEG or WebP "
                "images, PDF documents or plain text."
            )
            % {"name": original_name, "why": _describe_refused(data[:8192])},
            field="file",
        )
    attachment = Attachment(
        order=order,
        communication=communication,
        original_name=original_name,
        content_type=content_type,
        size=size,
        sha256=digest.hexdigest(),
        uploaded_by=by,
        uploaded_at=timezone.now(),
    )
    attachment.file.save("upload", ContentFile(data), save=False)
    attachment.save()
    return attachment
