"""The 1688 purchase behind a sale (``SupplierOrder``, SPEC section 8): its own life and its units.

A purchase is placed on 1688, shipped by the supplier, and received in our warehouse or sent
straight on to the buyer; or never bought, or cancelled on 1688 (``PurchaseStatus``). It keeps
what 1688's own refund request needs (``orders.selectors.purchase.refund_request``): the 1688
order id and its entry ids (18-digit numbers, beyond JavaScript's 2^53: kept as strings), the
amount paid in CNY and the units bought; and, when goods go back, how many and the return
tracking number. Its refunds (``Refund`` with ``supplier_order``) say their kind and units.
"""

from django.db import models
from django.db.models import Q, Value
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import MONEY, PurchaseStatus
from .order import Order


class SupplierOrder(models.Model):
    """The 1688 purchase order that sourced an AliExpress order. Amounts in CNY."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="supplier_orders")
    supplier_name = models.CharField(_("supplier"), max_length=200, blank=True)
    supplier_contact = models.EmailField(_("supplier contact"), blank=True)
    # Indexed below (exact, non-blank lookups only: no LIKE index beside it).
    supplier_order_id = models.CharField(_("1688 order id"), max_length=64, blank=True)
    amount = models.DecimalField(_("amount (CNY)"), **MONEY, null=True, blank=True)
    # Database defaults too: bulk writers that name their columns (the benches' COPY) keep working.
    status = models.CharField(
        _("purchase status"),
        max_length=16,
        choices=PurchaseStatus.choices,
        default=PurchaseStatus.PLACED,
        db_default=PurchaseStatus.PLACED.value,
    )
    # 1688's order entry (sub-order) ids, as strings: createRefund's ``orderEntryIds``.
    entry_ids = models.JSONField(
        _("1688 order entry ids"),
        default=list,
        db_default=Value([], output_field=models.JSONField()),
        blank=True,
    )
    # Units bought; empty: the order's quantity (an import names no purchase quantity).
    quantity = models.PositiveIntegerField(_("units bought"), null=True, blank=True)
    # Units of the sale's return sent back to the supplier (never in our stock).
    returned_quantity = models.PositiveIntegerField(
        _("units sent back to the supplier"), default=0, db_default=0
    )
    return_tracking_number = models.CharField(
        _("return tracking number (to the supplier)"), max_length=64, blank=True, default="", db_default=""
    )
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)
    status_changed_at = models.DateTimeField(_("status since"), null=True, blank=True)

    class Meta:
        verbose_name = _("supplier order")
        verbose_name_plural = _("supplier orders")
        ordering = ["id"]
        indexes = [
            models.Index(fields=["supplier_name"], name="supplierorder_name"),
            models.Index(
                fields=["supplier_order_id"], condition=~Q(supplier_order_id=""), name="supplierorder_1688_id"
            ),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(amount__isnull=True) | Q(amount__gte=0), name="supplierorder_amount_not_negative"
            ),
            models.CheckConstraint(
                condition=Q(quantity__isnull=True) | Q(quantity__gte=1),
                name="supplierorder_quantity_positive",
            ),
        ]

    def __str__(self) -> str:
        return self.supplier_order_id or f"{self.supplier_name} #{self.pk}"

    @property
    def units(self) -> int:
        """Units bought: the purchase's quantity, else the order's."""
        return self.quantity or self.order.quantity
