"""The only way evidence is recorded: communications and attached files.

Both are append-only; both check the acting user's permission (``by=None`` is the system).
"""

import hashlib
import re
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.files.base import ContentFile
from django.db import connections, router, transaction
from django.utils import timezone
from django.utils.text import get_text_list
from django.utils.translation import gettext as _

from orders import policy
from shopops import inputs, pgcopy
from shopops.errors import Refused

from . import images
from .models import (
    CHANNELS_BY_COUNTERPARTY,
    IMAGE_TYPES,
    Attachment,
    Channel,
    Communication,
    Counterparty,
    Direction,
    Kind,
    channel_choices,
)

# How far a communication's time may lie ahead of the server clock (phones drift).
FUTURE_TOLERANCE = timedelta(minutes=5)
# Markup that a browser would render or run: refused even though it is text. Looked for in the
# whole file (a page hidden after 8 KB of padding is still a page), tags in any case, with
# blanks after "<" (browsers forgive some).
_MARKUP = re.compile(
    rb"<\s*(?:!doctype|\?xml|html|head|body|script|svg|iframe|frame|frameset|object|embed|applet|"
    rb"meta|link|style|base|form|img|math|xml|x:|xsl:|template)[\s/>:]",
    re.IGNORECASE,
)
_TEXT_CONTROLS = re.compile(rb"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_MAX_BODY = 100_000
# Executables: Windows PE, ELF, Mach-O (both byte orders, and universal), and scripts.
_PROGRAM_MAGIC = (b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xce\xfa\xed\xfe", b"\xca\xfe\xba\xbe", b"#!")


def _resolve_order(order, by):
    """The order, when ``by`` may know of it (``orders.policy``: another store's does not exist)."""
    from orders.models import Order

    if isinstance(order, Order):
        policy.require(by, "orders.view_order", _("see orders"), order)
        return order
    try:
        return policy.scope(by, Order.objects).get(pk=order)
    except (Order.DoesNotExist, ValueError, TypeError):
        raise policy.not_found(Order, order) from None


def _check_choice(value: str, choices, field: str, label: str) -> None:
    inputs.choice(value, field, choices, label=label)


def _check_choices(counterparty: str, channel: str, direction: str, kind: str) -> None:
    _check_choice(counterparty, Counterparty, "counterparty", _("Counterparty"))
    _check_choice(channel, Channel, "channel", _("Channel"))
    _check_choice(direction, Direction, "direction", _("Direction"))
    _check_choice(kind, Kind, "kind", _("Kind"))
    if channel not in CHANNELS_BY_COUNTERPARTY[counterparty]:
        raise Refused(
            _("%(channel)s is not a channel for the %(counterparty)s: choose %(allowed)s.")
            % {
                "channel": Channel(channel).label,
                "counterparty": str(Counterparty(counterparty).label).lower(),
                "allowed": get_text_list(
                    [str(label) for _value, label in channel_choices(counterparty)], _("or")
                ),
            },
            field="channel",
        )


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
    data: dict | None = None,
) -> Communication:
    """Record what was said with a buyer, supplier or platform support. Append-only.

    A ``consent`` or ``refusal`` recorded here is what the consent/refusal transitions require.
    ``data``: what a summary the system writes says, as codes (``orders.said``).
    """
    policy.require(by, "evidence.add_communication", _("record communications"))
    communication = _communication(
        _resolve_order(order, by),
        by=by,
        counterparty=counterparty,
        channel=channel,
        direction=direction,
        kind=kind,
        summary=summary,
        body=body,
        occurred_at=occurred_at,
        data=data,
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
    policy.require(by, "evidence.add_communication", _("record communications"))
    for entry in entries:
        policy.require(by, "evidence.add_communication", _("record communications"), entry["order"])
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
    data: dict | None = None,
    choices_checked: bool = False,
) -> Communication:
    """A communication checked and ready to save (not saved)."""
    if not choices_checked:
        _check_choices(counterparty, channel, direction, kind)
    summary = inputs.text(
        summary,
        "summary",
        max_length=100_000,
        required=True,
        message=_("Write a short summary of the communication."),
    )
    if len(summary) > 255:
        raise Refused(_("Keep the summary under 255 characters; put the rest in the text."), field="summary")
    body = inputs.text(body, "body", label=_("The full text"), max_length=_MAX_BODY, multiline=True)
    now = timezone.now()
    if occurred_at is None:
        occurred_at = now
    elif isinstance(occurred_at, datetime) and timezone.is_naive(occurred_at):
        raise Refused(_("Give the time of the communication with its time zone."), field="occurred_at")
    else:
        # Text from a script is read too; the year 1 or 9999 is refused here, not stored to break
        # every page that lists it.
        occurred_at = inputs.moment(
            occurred_at, "occurred_at", label=_("When it happened"), skew=FUTURE_TOLERANCE
        )
    return Communication(
        order=order,
        counterparty=counterparty,
        channel=channel,
        direction=direction,
        kind=kind,
        summary=summary,
        body=body,
        occurred_at=occurred_at,
        recorded_by=by,
        recorded_at=now,
        data=_codes(data),
    )


def _codes(data: dict | None) -> dict:
    """A summary's codes (``orders.said``): a small flat object of short texts and numbers."""
    if data is None:
        return {}
    if not isinstance(data, dict) or len(data) > 10:
        raise Refused(_("A communication's codes are a small set of names and values."), field="data")
    for key, value in data.items():
        if not isinstance(key, str) or len(key) > 40:
            raise Refused(_("A communication's codes are a small set of names and values."), field="data")
        if isinstance(value, str):
            inputs.text(value, "data", max_length=500)
        elif not isinstance(value, int | float) or isinstance(value, bool):
            raise Refused(_("A communication's codes are a small set of names and values."), field="data")
    return dict(data)


def detect_content_type(head: bytes) -> str | None:
    """The accepted type these bytes are, judged from the bytes alone, or None.

    Give the whole file: a binary type is recognised by its first bytes, but plain text is only
    plain text when every byte of it is (no controls, no markup anywhere)."""
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


def _is_plain_text(data: bytes) -> bool:
    if not data:
        return False
    sample = data.removeprefix(b"\xef\xbb\xbf")
    if _TEXT_CONTROLS.search(sample):
        return False
    if not (_decodes(sample, "utf-8") or _decodes(sample, "gb18030")):
        return False
    return _MARKUP.search(sample) is None


def _decodes(sample: bytes, encoding: str) -> bool:
    try:
        sample.decode(encoding)
        return True
    except UnicodeDecodeError:
        return False


def _describe_refused(head: bytes) -> str:
    if head.startswith(_PROGRAM_MAGIC):
        return _("it is a program")
    if _MARKUP.search(head):
        return _("it is a web page or markup")
    if head.startswith(b"PK\x03\x04"):
        return _("it is an archive or office document")
    return _("its content is not an accepted type")


@transaction.atomic
def attach_file(order, *, by: AbstractBaseUser | None, file, communication: Communication | None = None):
    """Keep a file as evidence on an order. Append-only.

    The type is judged from the bytes (PNG, JPEG, WebP, PDF or plain text), the size is at
    most ``SHOPOPS_ATTACHMENT_MAX_BYTES``, and the file is stored under a generated name with
    its SHA-256; the uploader's file name is kept only as a label. An image is decoded in full
    within the budget (``evidence.images``); one that fails is kept all the same, with why in
    ``image_check``.
    """
    policy.require(by, "evidence.add_attachment", _("attach files"))
    order = _resolve_order(order, by)
    if communication is not None and communication.order_id != order.pk:
        raise Refused(_("That communication belongs to another order."), field="communication")
    # A label only (files are stored and downloaded under ``Attachment.download_name``), but one
    # the database and a header can hold: no NUL, control, bidirectional or surrogate character.
    original_name = inputs.file_name(getattr(file, "name", "") or "")
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
    content_type = detect_content_type(data)
    if content_type is None:
        raise Refused(
            _(
                "“%(name)s” was refused: %(why)s. Evidence files must be PNG, JPEG or WebP "
                "images, PDF documents or plain text."
            )
            % {"name": original_name, "why": _describe_refused(data)},
            field="file",
        )
    # An image that cannot be read is still evidence (a buyer's broken file proves something):
    # kept, marked with why, and never put into a pack.
    image_check = images.problem(data, content_type)[0] if content_type in IMAGE_TYPES else ""
    attachment = Attachment(
        image_check=image_check,
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
