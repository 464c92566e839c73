"""Refunds to the buyer and from the supplier, and their own small state machine."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from .choices import (
    MONEY,
    RefundDirection,
    RefundStatus,
    SupplierRefundKind,
)
from .order import Order
from .purchase import SupplierOrder


class Refund(FSMModelMixin, models.Model):
    """Money going back to a buyer, or coming back from a supplier."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="refunds")
    direction = models.CharField(_("direction"), max_length=16, choices=RefundDirection.choices)
    status = FSMField(
        _("status"),
        max_length=16,
        choices=RefundStatus.choices,
        default=RefundStatus.REQUESTED,
        protected=True,
    )
    amount = models.DecimalField(_("amount"), **MONEY)
    currency = models.CharField(_("currency"), max_length=3)
    # A supplier refund: the purchase it asks money back on, 1688's kind of request, and the
    # units it covers (a unit is covered once: orders.selectors.purchase). Blank for a buyer's.
    supplier_order = models.ForeignKey(
        SupplierOrder,
        verbose_name=_("purchase"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="refunds",
    )
    kind = models.CharField(
        _("kind"), max_length=16, choices=SupplierRefundKind.choices, blank=True, default="", db_default=""
    )
    units = models.PositiveIntegerField(_("units covered"), null=True, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    reference = models.CharField(_("platform reference"), max_length=100, blank=True)
    idempotency_key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    respond_by = models.DateTimeField(_("respond by"), null=True, blank=True)
    chase_count = models.PositiveIntegerField(_("times chased"), default=0)
    last_chased_at = models.DateTimeField(_("last chased"), null=True, blank=True)
    overdue_notified_at = models.DateTimeField(_("overdue reported"), null=True, blank=True)
    requested_at = models.DateTimeField(_("requested"), default=timezone.now)
    succeeded_at = models.DateTimeField(_("succeeded"), null=True, blank=True)
    received_at = models.DateTimeField(_("received"), null=True, blank=True)
    ended_at = models.DateTimeField(_("rejected / cancelled"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        verbose_name = _("refund")
        verbose_name_plural = _("refunds")
        ordering = ["-requested_at", "-id"]
        indexes = [
            models.Index(fields=["direction", "status", "respond_by"], name="refund_dir_status_due"),
            models.Index(fields=["status", "succeeded_at"], name="refund_status_succeeded"),
            # The loss ledger reads the money that moved per order, and its day: an index-only scan
            # on PostgreSQL.
            models.Index(
                fields=["order"],
                include=["direction", "currency", "amount", "succeeded_at", "requested_at"],
                condition=Q(status__in=["succeeded", "received"]),
                name="refund_moved_by_order",
            ),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(amount__gt=0), name="refund_amount_positive"),
        ]
        permissions = [
            ("mark_refund_received", _("Can mark a refund received")),
            # A buyer's refund, seen arriving on the platform (orders.policy.may_mark_received).
            ("mark_buyer_refund_received", _("Can mark a buyer's refund received (seen on the platform)")),
        ]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.amount} {self.currency}"

    @transition(field=status, source=RefundStatus.REQUESTED, target=RefundStatus.SUCCEEDED)
    def succeed(self, at, reference=""):
        self.succeeded_at = at
        if reference:
            self.reference = reference

    @transition(
        field=status,
        source=RefundStatus.SUCCEEDED,
        target=RefundStatus.RECEIVED,
        permission="orders.mark_refund_received",
    )
    def mark_received(self, at):
        self.received_at = at

    @transition(field=status, source=RefundStatus.REQUESTED, target=RefundStatus.REJECTED)
    def reject(self, at):
        self.ended_at = at

    @transition(
        field=status,
        source=RefundStatus.REQUESTED,
        target=RefundStatus.CANCELLED,
        permission="orders.add_refund",
    )
    def cancel(self, at):
        self.ended_at = at
