"""The outbox: a buyer or supplier message recorded with the change that caused it."""

from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import (
    NotificationChannel,
    NotificationStatus,
    NotificationTemplate,
)
from .order import Order
from .refund import Refund


class Notification(models.Model):
    """The outbox: a message to send, recorded in the same transaction as its cause.

    ``key`` is unique per cause × channel × template (for example
    ``refund:42:email:refund_confirmation``), so recording it twice is impossible and the
    delivery task can be run any number of times.
    """

    key = models.CharField(_("key"), max_length=200, unique=True)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    refund = models.ForeignKey(
        Refund, null=True, blank=True, on_delete=models.PROTECT, related_name="notifications"
    )
    template = models.CharField(_("template"), max_length=32, choices=NotificationTemplate.choices)
    channel = models.CharField(_("channel"), max_length=16, choices=NotificationChannel.choices)
    recipient = models.CharField(_("recipient"), max_length=254)
    language = models.CharField(_("language"), max_length=16, default="en")
    context = models.JSONField(_("context"), default=dict, blank=True, encoder=DjangoJSONEncoder)
    subject = models.CharField(_("subject"), max_length=255, blank=True)
    body = models.TextField(_("text sent"), blank=True)
    status = models.CharField(
        _("status"), max_length=16, choices=NotificationStatus.choices, default=NotificationStatus.PENDING
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt"), default=timezone.now)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["status", "next_attempt_at"], name="notification_due"),
        ]
        permissions = [("retry_notification", _("Can retry a failed notification"))]

    def __str__(self) -> str:
        return self.key
