"""A store: one AliExpress seller account, the unit that staff are granted and orders belong to.

Who works for which store is ``Store.staff`` (superusers work for every store); what that
allows is decided by ``orders.policy`` alone. The settings that differ between seller accounts
are fields here, each blank by default and then read from the environment setting of the same
meaning (:meth:`Store.option`), so a single-store installation configures nothing twice.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MinValueValidator, RegexValidator
from django.db import models
from django.utils.translation import gettext_lazy as _

# A store's code: what the CSV's ``store`` column, ``import_orders --store`` and ``manage.py
# store`` name it by. Short, one token, case kept as typed but unique regardless of case.
CODE_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
DEFAULT_CODE = "main"

# Field → the environment setting it overrides when blank (SPEC §11: env value as the default).
OPTIONS = {
    "time_zone": "SHOPOPS_PLATFORM_TZ",
    "return_address": "SHOPOPS_RETURN_ADDRESS",
    "payment_reminder_hours": "SHOPOPS_PAYMENT_REMINDER_HOURS",
    "payment_timeout_hours": "SHOPOPS_PAYMENT_TIMEOUT_HOURS",
    "supplier_respond_days": "SHOPOPS_SUPPLIER_RESPOND_DAYS",
    "message_sender": "SHOPOPS_MESSAGE_SENDER",
}


def option_value(name: str, value):
    """A store's ``value`` of setting ``name`` (an OPTIONS key) or, when blank, the environment's:
    for a value read without its store (a list's annotation, a selector's grouping)."""
    if value is None or value == "":
        return getattr(settings, OPTIONS[name])
    return value


class Store(models.Model):
    """One AliExpress seller account; every order belongs to exactly one."""

    code = models.CharField(
        _("code"),
        max_length=32,
        unique=True,
        validators=[
            RegexValidator(
                CODE_PATTERN, _("A store code is 1–32 letters, digits, “-” or “_”, starting with one.")
            )
        ],
        help_text=_("Short and unique: the CSV's “store” column names the store by it."),
    )
    name = models.CharField(_("name"), max_length=200)
    staff = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        verbose_name=_("staff"),
        related_name="stores",
        blank=True,
        help_text=_("Who works for this store (superusers work for every store)."),
    )
    # --- per-store settings (blank: the environment's; see OPTIONS) --------------------------
    time_zone = models.CharField(
        _("time zone"), max_length=64, blank=True, help_text=_("Blank: SHOPOPS_PLATFORM_TZ.")
    )
    currency = models.CharField(
        _("currency"), max_length=3, default="USD", help_text=_("The default currency of its orders.")
    )
    return_address = models.TextField(
        _("return address"),
        blank=True,
        help_text=_("Where buyers send returns. Blank: SHOPOPS_RETURN_ADDRESS."),
    )
    payment_reminder_hours = models.FloatField(
        _("payment reminder after (hours)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Blank: SHOPOPS_PAYMENT_REMINDER_HOURS."),
    )
    payment_timeout_hours = models.FloatField(
        _("payment timeout (hours)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Blank: SHOPOPS_PAYMENT_TIMEOUT_HOURS."),
    )
    supplier_respond_days = models.FloatField(
        _("supplier respond-by (days)"),
        null=True,
        blank=True,
        validators=[MinValueValidator(0)],
        help_text=_("Blank: SHOPOPS_SUPPLIER_RESPOND_DAYS."),
    )
    message_sender = models.CharField(
        _("sender in buyer messages"),
        max_length=100,
        blank=True,
        help_text=_("The name buyer messages are signed with. Blank: SHOPOPS_MESSAGE_SENDER."),
    )
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["code"]
        constraints = [
            models.UniqueConstraint(models.functions.Lower("code"), name="store_code_unique_ci"),
        ]

    def __str__(self) -> str:
        return self.code

    def option(self, name: str):
        """The store's value of setting ``name`` (an OPTIONS key), else the environment's."""
        return option_value(name, getattr(self, name))
