"""Exchange rates: the European Central Bank's reference rates, and every change made to them.

A rate is the number of units of ``currency`` that one euro bought on ``date`` (the ECB's own
quotation; the euro itself is 1 and has no row). Amounts convert between any two currencies
through the euro, at the last rate published on or before the day (weekends and holidays use
the previous working day's rate); ``orders.selectors.ledger`` does it in SQL.

Rows change only through ``orders.workflow.rates``: a load or a Finance correction that
changes a value writes an append-only :class:`ExchangeRateChange` row beside it, so a corrected
rate never hides the one it replaced.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shopops.appendonly import AppendOnlyModel

RATE = {"max_digits": 18, "decimal_places": 6}


class ExchangeRate(models.Model):
    """Units of ``currency`` per one euro on ``date``, as published (or as Finance corrected it)."""

    date = models.DateField(_("date"))
    currency = models.CharField(_("currency"), max_length=3)
    rate = models.DecimalField(_("units per 1 EUR"), **RATE)
    source = models.CharField(_("source"), max_length=200, blank=True)
    corrected = models.BooleanField(_("corrected"), default=False, editable=False)
    updated_at = models.DateTimeField(_("updated"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("exchange rate")
        verbose_name_plural = _("exchange rates")
        ordering = ["-date", "currency"]
        constraints = [
            # Looked up by (currency, date ≤ day), newest first: this unique index serves it.
            models.UniqueConstraint(fields=["currency", "date"], name="exchangerate_currency_date"),
            models.CheckConstraint(condition=Q(rate__gt=0), name="exchangerate_rate_positive"),
        ]
        permissions = [("correct_exchangerate", _("Can correct an exchange rate"))]

    def __str__(self) -> str:
        return f"{self.date} {self.currency} {self.rate}"


class ExchangeRateChange(AppendOnlyModel):
    """One correction of a rate: the value it replaced, the new one, who or which file changed it.

    A rate's first value is the row itself (its ``source`` says where it came from); only a
    change to it writes one of these.
    """

    rate = models.ForeignKey(ExchangeRate, on_delete=models.PROTECT, related_name="changes")
    old_rate = models.DecimalField(_("previous rate"), **RATE)
    new_rate = models.DecimalField(_("new rate"), **RATE)
    source = models.CharField(_("source"), max_length=200, blank=True)
    note = models.TextField(_("note"), blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    created_at = models.DateTimeField(_("when"), default=timezone.now)

    class Meta:
        verbose_name = _("exchange rate change")
        verbose_name_plural = _("exchange rate changes")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.rate_id}: {self.old_rate} → {self.new_rate}"
