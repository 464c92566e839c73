"""A Supervisor's own wording of one buyer message in one language."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from ..buyer_messages.spec import LANGUAGES, MESSAGES


class BuyerMessageTemplate(models.Model):
    """Replaces the shipped text (``orders/buyer_messages/texts/<language>.toml``) of one message in
    one language. Deleting it brings the shipped text back. Written only through
    ``orders.workflow.buyer_chat.save_buyer_template``, which checks the placeholders."""

    message = models.CharField(
        _("message"), max_length=64, choices=[(m.id, m.label) for m in MESSAGES.values()]
    )
    language = models.CharField(
        _("language"), max_length=16, choices=[(code, name) for code, (name, _l, _r) in LANGUAGES.items()]
    )
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
