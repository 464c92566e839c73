"""A Supervisor's own wording of one buyer message in one language, and every earlier wording."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shopops.appendonly import AppendOnlyModel

from ..buyer_messages.spec import LANGUAGES, MESSAGES

MESSAGE_CHOICES = [(m.id, m.label) for m in MESSAGES.values()]
LANGUAGE_CHOICES = [(code, name) for code, (name, _l, _r) in LANGUAGES.items()]


class BuyerMessageTemplate(models.Model):
    """Replaces the shipped text (``orders/buyer_messages/texts/<language>.toml``) of one message in
    one language. Deleting it brings the shipped text back. Written only through
    ``orders.workflow.buyer_chat.save_buyer_template``, which checks the placeholders."""

    message = models.CharField(_("message"), max_length=64, choices=MESSAGE_CHOICES)
    language = models.CharField(_("language"), max_length=16, choices=LANGUAGE_CHOICES)
    text = models.TextField(_("text"))
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("updated by"),
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("buyer message template")
        verbose_name_plural = _("buyer message templates")
        ordering = ["message", "language"]
        constraints = [
            models.UniqueConstraint(fields=["message", "language"], name="buyer_message_one_per_language")
        ]

    def __str__(self) -> str:
        return f"{self.message} [{self.language}]"


class BuyerMessageTemplateVersion(AppendOnlyModel):
    """Every wording a Supervisor saved for one (message, language), and every deletion, with who
    and when: append-only, kept when the template is edited again or deleted. Written only by
    ``orders.workflow.buyer_chat`` (saving a template writes its text as a new version; deleting
    it writes a ``deleted`` version holding the text it had)."""

    class Action(models.TextChoices):
        SAVED = "saved", _("saved")
        DELETED = "deleted", _("deleted")

    message = models.CharField(_("message"), max_length=64, choices=MESSAGE_CHOICES)
    language = models.CharField(_("language"), max_length=16, choices=LANGUAGE_CHOICES)
    action = models.CharField(_("action"), max_length=16, choices=Action.choices)
    text = models.TextField(_("text"))
    created_at = models.DateTimeField(_("when"), default=timezone.now)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )

    class Meta:
        verbose_name = _("buyer message version")
        verbose_name_plural = _("buyer message versions")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["message", "language", "-created_at"], name="buyer_message_version_time")
        ]

    def __str__(self) -> str:
        return f"{self.message} [{self.language}] {self.action} {self.created_at:%Y-%m-%d %H:%M}"
