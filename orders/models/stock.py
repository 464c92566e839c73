"""Stock movements: the append-only ledger behind ``Sku.stock_on_hand``."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shopops.appendonly import AppendOnlyModel

from .choices import (
    MovementReason,
)
from .order import Order, Sku


class StockMovement(AppendOnlyModel):
    """A change to a SKU's stock on hand. The only way the figure changes."""

    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="movements")
    delta = models.IntegerField(_("change"))
    reason = models.CharField(_("reason"), max_length=32, choices=MovementReason.choices)
    order = models.ForeignKey(
        Order, null=True, blank=True, on_delete=models.PROTECT, related_name="stock_movements"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    note = models.TextField(_("note"), blank=True)
    stock_after = models.IntegerField(_("stock after"))
    created_at = models.DateTimeField(_("when"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("stock movement")
        verbose_name_plural = _("stock movements")
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"{self.sku_id} {self.delta:+d}"
