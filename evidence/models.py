"""Evidence: what was said to whom, and the files that prove it. Append-only.

Recorded only through ``evidence.services``; nobody, a superuser included, edits or deletes it.
"""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shopops.appendonly import AppendOnlyModel


class Counterparty(models.TextChoices):
    BUYER = "buyer", _("Buyer")
    SUPPLIER = "supplier", _("Supplier")
    PLATFORM_SUPPORT = "platform_support", _("Platform support")


class Channel(models.TextChoices):
    ALIEXPRESS_MESSAGE = "aliexpress_message", _("AliExpress message")
    WANGWANG = "1688_wangwang", _("1688 Wangwang")
    EMAIL = "email", _("Email")
    PHONE = "phone", _("Phone")
    SMS = "sms", _("SMS")
    OTHER = "other", _("Other")


# Who is reached on which channel: a buyer on AliExpress, a supplier on 1688 Wangwang (never the
# other's), either by email, phone or SMS; platform support on whichever platform it is.
CHANNELS_BY_COUNTERPARTY: dict[str, tuple[str, ...]] = {
    Counterparty.BUYER: (
        Channel.ALIEXPRESS_MESSAGE,
        Channel.EMAIL,
        Channel.PHONE,
        Channel.SMS,
        Channel.OTHER,
    ),
    Counterparty.SUPPLIER: (Channel.WANGWANG, Channel.EMAIL, Channel.PHONE, Channel.SMS, Channel.OTHER),
    Counterparty.PLATFORM_SUPPORT: tuple(Channel.values),
}


def channel_choices(counterparty: str) -> list[tuple[str, str]]:
    """The (value, label) of the channels ``counterparty`` is reached on, in the choices' order."""
    allowed = CHANNELS_BY_COUNTERPARTY.get(counterparty, ())
    return [(value, label) for value, label in Channel.choices if value in allowed]


class Direction(models.TextChoices):
    INBOUND = "inbound", _("Inbound")
    OUTBOUND = "outbound", _("Outbound")


class Kind(models.TextChoices):
    MESSAGE = "message", _("Message")
    CONSENT = "consent", _("Consent")
    REFUSAL = "refusal", _("Refusal")
    REMINDER = "reminder", _("Reminder")


class ImageProblem(models.TextChoices):
    """Why a file that starts like an image is not one we open (``evidence.images``)."""

    UNREADABLE = "unreadable", _("damaged, or not an image of its type")
    PIXELS = "pixels", _("more pixels than an image may have")
    MEMORY = "memory", _("would take more memory to open than an image may")


class Communication(AppendOnlyModel):
    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="communications")
    counterparty = models.CharField(_("with"), max_length=32, choices=Counterparty.choices)
    channel = models.CharField(_("channel"), max_length=32, choices=Channel.choices)
    direction = models.CharField(_("direction"), max_length=16, choices=Direction.choices)
    kind = models.CharField(_("kind"), max_length=16, choices=Kind.choices, default=Kind.MESSAGE)
    summary = models.CharField(_("summary"), max_length=255)
    body = models.TextField(_("full text"), blank=True)
    # What a summary the system wrote says, as codes (``orders.said``: {"said": "ready_text",
    # "message": "chat.propose_return", "language": "pl"}), told in the reader's language when
    # shown; ``summary`` keeps the words of the moment it was written. Empty for a person's own.
    data = models.JSONField(_("what it says, as codes"), default=dict, blank=True)
    occurred_at = models.DateTimeField(_("when it happened"), default=timezone.now)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recorded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    recorded_at = models.DateTimeField(_("recorded"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("communication")
        verbose_name_plural = _("communications")
        ordering = ["-recorded_at", "-id"]
        indexes = [models.Index(fields=["order", "counterparty", "kind", "recorded_at"], name="comm_lookup")]

    def __str__(self) -> str:
        return f"{self.get_counterparty_display()}: {self.summary}"


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Never the uploader's name: a generated one, with the extension of the detected type.
    return f"evidence/{timezone.now():%Y/%m}/{uuid.uuid4().hex}{instance.extension}"


IMAGE_TYPES = frozenset({"image/png", "image/jpeg", "image/webp"})


class Attachment(AppendOnlyModel):
    EXTENSIONS = {
        "image/png": ".png",
        "image/jpeg": ".jpg",
        "image/webp": ".webp",
        "application/pdf": ".pdf",
        "text/plain": ".txt",
    }

    order = models.ForeignKey("orders.Order", on_delete=models.PROTECT, related_name="attachments")
    communication = models.ForeignKey(
        Communication, null=True, blank=True, on_delete=models.PROTECT, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=attachment_path, max_length=255)
    original_name = models.CharField(_("original name"), max_length=255)
    content_type = models.CharField(_("type"), max_length=64)
    size = models.PositiveIntegerField(_("size (bytes)"))
    sha256 = models.CharField(_("SHA-256"), max_length=64, db_index=True)
    # Set on upload when the bytes start like an image but are not a readable one within the
    # budget (evidence.images): the file is kept as evidence and never goes into a pack. Empty:
    # a readable image, another type, or a file uploaded before images were checked (a pack
    # checks every image again before it goes in).
    image_check = models.CharField(
        _("not a readable image"), max_length=16, blank=True, default="", choices=ImageProblem.choices
    )
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("uploaded by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    uploaded_at = models.DateTimeField(_("uploaded"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["-uploaded_at", "-id"]

    def __str__(self) -> str:
        return self.original_name

    @property
    def is_image(self) -> bool:
        """An image type whose bytes were not found unreadable on upload."""
        return self.content_type in IMAGE_TYPES and not self.image_check

    @property
    def extension(self) -> str:
        return self.EXTENSIONS.get(self.content_type, ".bin")

    @property
    def download_name(self) -> str:
        """The name a file is shown and downloaded under: the uploader's name up to its first dot,
        then the extension of the detected type — ``invoice.bat`` (text) is ``invoice.txt``,
        ``screenshot.png.hta`` (a PNG) is ``screenshot.png``; never an executable or markup one."""
        return safe_stem(self.original_name) + self.extension


def safe_stem(name: str) -> str:
    """``name`` without any extension, reduced to characters harmless in a file name."""
    stem = name.replace("\\", "/").rsplit("/", 1)[-1].strip().lstrip(".").split(".", 1)[0]
    stem = "".join(ch if ch.isalnum() or ch in " -_()" else "_" for ch in stem).strip(" _")
    return stem[:100] or "file"
