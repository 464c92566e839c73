"""The kept loss ledger: one row per closed order, what its close cost, written when it changes.

The ledger's definition (``orders.selectors.ledger_sql``) converts each movement of an order's
money and goods at the ECB rate of its day. Computing that on every read took seconds for a
year of closes; so the workflow keeps the result here (``orders.workflow.ledger``): when an
event touches a closed order, and when a rate one of its movements used is added or corrected.
``manage.py rebuild_ledger`` writes it from scratch (and ``--check`` compares).

A row holds what the close analytics count and group by (store, close time, reason, stage,
time to close, outcome, SKU, country, supplier),
the six movements in their own currencies (as the ledger CSV shows them) and converted to the
reporting currency, the cost of the close, and why it is incomplete when it is: a close whose
ledger lacks something has no cost (``incomplete``, and each reason below), never a guess.
Movement days are in the shop's time zone (``TIME_ZONE``).
"""

from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .choices import MONEY
from .order import Order, Sku
from .store import Store

# What the analytics' grouped reads take from an index alone (PostgreSQL): they count order ids.
_READ_COLUMNS = [
    "order",
    "closed_day",
    "close_reason",
    "close_stage",
    "close_started_at",
    "outcome",
    "dispute_with",
    "sku",
    "buyer_country",
    "supplier",
    "supplier_names",
    "has_supplier",
    "refused",
    "incomplete",
    "cost_of_close",
]


class OrderLedger(models.Model):
    """One closed order's ledger, in its own currencies and in ``reporting_currency``."""

    order = models.OneToOneField(
        Order, primary_key=True, on_delete=models.CASCADE, related_name="kept_ledger", verbose_name=_("order")
    )
    # Copies of the order's fields that the views filter and group by (refreshed with the row).
    store = models.ForeignKey(Store, on_delete=models.PROTECT, related_name="+", db_index=False)
    platform_order_id = models.CharField(_("order id"), max_length=64)
    closed_at = models.DateTimeField(_("closed"))
    # The close's calendar day in the shop's time zone: what the analytics count per day.
    closed_day = models.DateField(_("close day"))
    close_reason = models.CharField(_("close reason"), max_length=32)
    close_stage = models.CharField(_("closed at stage"), max_length=16, blank=True)
    close_started_at = models.DateTimeField(_("close started"), null=True)
    outcome = models.CharField(_("outcome"), max_length=32, blank=True)
    dispute_with = models.CharField(_("dispute with"), max_length=16, blank=True)
    sku = models.ForeignKey(Sku, on_delete=models.PROTECT, related_name="+", db_index=False)
    buyer_country = models.CharField(_("country"), max_length=2, blank=True)
    # The first-named supplier of the bought purchases ('' when none is named).
    supplier = models.CharField(_("supplier"), max_length=200, blank=True)
    # Every supplier the order's purchases name, bought or not, once each, sorted: the close
    # counts once under each of them.
    supplier_names = models.JSONField(_("suppliers"), default=list, blank=True)
    has_supplier = models.BooleanField(_("bought from a supplier"))
    refused = models.BooleanField(_("a supplier refused a refund"))
    currency = models.CharField(_("currency"), max_length=3)
    reporting_currency = models.CharField(_("reporting currency"), max_length=3)

    # The movements in their own currencies (the sale's, CNY); empty: unknown (no unit cost).
    paid = models.DecimalField(_("received from the buyer"), **MONEY)
    refunded_to_buyer = models.DecimalField(_("refunded to the buyer"), **MONEY)
    supplier_cost_cny = models.DecimalField(_("paid to the supplier (CNY)"), **MONEY, null=True)
    recovered_from_supplier_cny = models.DecimalField(_("recovered from the supplier (CNY)"), **MONEY)
    goods_back_cny = models.DecimalField(_("goods back (CNY)"), **MONEY, null=True)
    goods_lost_cny = models.DecimalField(_("goods lost (CNY)"), **MONEY, null=True)
    # The same, converted; empty when a movement of that kind has no rate.
    converted_paid = models.DecimalField(_("received, converted"), **MONEY, null=True)
    converted_refunded = models.DecimalField(_("refunded, converted"), **MONEY, null=True)
    converted_supplier = models.DecimalField(_("paid to the supplier, converted"), **MONEY, null=True)
    converted_recovered = models.DecimalField(_("recovered, converted"), **MONEY, null=True)
    converted_back = models.DecimalField(_("goods back, converted"), **MONEY, null=True)
    converted_lost = models.DecimalField(_("goods lost, converted"), **MONEY, null=True)
    # (refunded − paid) + (supplier − recovered − back); empty when incomplete.
    cost_of_close = models.DecimalField(_("cost of the close"), **MONEY, null=True)

    # Incomplete, and why.
    incomplete = models.BooleanField(_("incomplete"))
    no_supplier_order = models.BooleanField(_("shipped without a supplier order"))
    no_unit_cost = models.BooleanField(_("a supplier order without its amount"))
    buyer_refund_pending = models.BooleanField(_("a refund to the buyer not yet paid"))
    supplier_refund_pending = models.BooleanField(_("a supplier refund not yet received"))
    # [[currency, "YYYY-MM-DD"], ...]: the rates missing, in the order the ledger names them.
    missing_rates = models.JSONField(_("missing rates"), default=list, blank=True)

    # The days of its first and last movement: a rate of day D converts movements of D..D+6.
    first_day = models.DateField(_("first movement"), null=True)
    last_day = models.DateField(_("last movement"), null=True)
    updated_at = models.DateTimeField(_("written"), default=timezone.now)

    class Meta:
        verbose_name = _("order ledger")
        verbose_name_plural = _("order ledgers")
        indexes = [
            # The analytics of a period: every store's (the system, superusers), or some stores'.
            # Index-only on PostgreSQL (covering), not created elsewhere.
            models.Index(fields=["closed_at"], include=["store", *_READ_COLUMNS], name="ledger_closed"),
            models.Index(fields=["store", "closed_at"], include=_READ_COLUMNS, name="ledger_store_closed"),
            # The orders a rate of a day converted (orders.workflow.ledger.refresh_for_rates).
            models.Index(fields=["last_day"], name="ledger_last_day"),
        ]
        constraints = [
            models.CheckConstraint(
                condition=Q(incomplete=True, cost_of_close__isnull=True)
                | Q(incomplete=False, cost_of_close__isnull=False),
                name="ledger_cost_unless_incomplete",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.platform_order_id}: {self.cost_of_close} {self.reporting_currency}"
