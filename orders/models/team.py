"""A staff member's own choices about the work handed to them (``orders.workflow.handoffs``)."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import HandoffDelivery


class StaffPreference(models.Model):
    """How one person is told of work handed to them: an email each time, or one a day.

    No row is the default: an email each time, in ``LANGUAGE_CODE``. Written only by
    ``orders.workflow.handoffs.set_preference`` (a person sets their own).
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="staff_preference"
    )
    handoffs = models.CharField(
        _("hand-offs by email"), max_length=16, choices=HandoffDelivery.choices, default=HandoffDelivery.EACH
    )
    # A code of settings.LANGUAGES (checked when set); blank: LANGUAGE_CODE.
    language = models.CharField(_("language of the emails"), max_length=16, blank=True)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now)

    class Meta:
        verbose_name = _("staff preference")
        verbose_name_plural = _("staff preferences")

    def __str__(self) -> str:
        return f"{self.user_id}: {self.handoffs}"
