"""A store's connections to the platforms, its sync state, and the platform's disputes of its orders.

- :class:`StoreConnection`: the app key, app secret and access token of one platform for one store
  (AliExpress: the seller's ``session``; 1688: the buying account's ``access_token``). The secret
  and the token are stored encrypted (``shopops.secrets``) and never shown back.
- :class:`SyncState`: where the store's pull stands (docs/platforms.md): the high-water mark of
  the last good pass, the cursor of a pass in progress, the last error and the counts.
- :class:`PlatformDispute`: an AliExpress dispute ("issue") of one of the store's orders, with
  its status and deadline, as the last pass read it.
- :class:`PlatformRefund`: a supplier refund as 1688 knows it — the request Shopops files for it
  (an outbox row: recorded with the refund, sent after commit, once) and what the last pass read
  of it (1688's status, the supplier's refusal, what 1688 waits for from us).

Written only by ``orders.workflow`` (``stores.connect_store``, ``platforms``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .order import Order
from .refund import Refund
from .store import Store


class Platform(models.TextChoices):
    ALIEXPRESS = "aliexpress", _("AliExpress")
    ALIBABA_1688 = "1688", _("1688")


class StoreConnection(models.Model):
    """One platform's credentials for one store. ``app_secret`` and ``access_token`` hold
    ciphertext (``shopops.secrets``): read them only through ``shopops.secrets.decrypt``."""

    store = models.ForeignKey(
        Store, verbose_name=_("store"), on_delete=models.CASCADE, related_name="connections"
    )
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    app_key = models.CharField(_("app key"), max_length=64)
    app_secret = models.TextField(_("app secret (encrypted)"), editable=False)
    access_token = models.TextField(_("access token (encrypted)"), editable=False)
    connected_at = models.DateTimeField(_("connected"))

    class Meta:
        verbose_name = _("store connection")
        verbose_name_plural = _("store connections")
        ordering = ["store", "platform"]
        constraints = [
            models.UniqueConstraint(fields=["store", "platform"], name="storeconnection_one_per_platform")
        ]

    def __str__(self) -> str:
        return f"{self.store_id} {self.platform}"


class SyncState(models.Model):
    """Where a store's pull from AliExpress stands (one row per store, made by its first pass).

    ``mark`` is the end of the window of the last pass that completed: the next pass reads what
    changed since (less the overlap). ``cursor`` is the pass in progress — its window, its phase and
    the next page — kept after each page, so a pass that failed part-way is resumed where it
    stopped. ``running_until`` is the lease of the pass that runs now.
    """

    store = models.OneToOneField(
        Store, verbose_name=_("store"), on_delete=models.CASCADE, related_name="sync_state"
    )
    mark = models.DateTimeField(_("synced up to"), null=True, blank=True)
    cursor = models.JSONField(_("pass in progress"), default=dict, blank=True)
    last_good_pass_at = models.DateTimeField(_("last good pass"), null=True, blank=True)
    last_attempt_at = models.DateTimeField(_("last attempt"), null=True, blank=True)
    last_error = models.TextField(_("last error"), blank=True)
    last_error_at = models.DateTimeField(_("last error at"), null=True, blank=True)
    # The last pass's counts (orders new, updated, unchanged, refused, invalid; disputes opened,
    # updated; pages) and its problems, one per order (at most PROBLEMS_KEPT).
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    problems = models.JSONField(_("problems"), default=list, blank=True)
    running_until = models.DateTimeField(_("running until"), null=True, blank=True)
    # The 1688 refunds read back: changes since this mark (less the overlap) are read next time.
    refunds_mark = models.DateTimeField(_("1688 refunds read up to"), null=True, blank=True)
    refunds_error = models.TextField(
        _("last error of the 1688 refunds"), blank=True, default="", db_default=""
    )

    PROBLEMS_KEPT = 50

    class Meta:
        verbose_name = _("sync state")
        verbose_name_plural = _("sync states")

    def __str__(self) -> str:
        return f"sync of {self.store_id}"


class PlatformDispute(models.Model):
    """An AliExpress dispute of one of the store's orders, as the last pass read it."""

    store = models.ForeignKey(Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="+")
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="platform_disputes"
    )
    platform = models.CharField(_("platform"), max_length=16, choices=Platform.choices)
    dispute_id = models.CharField(_("dispute id"), max_length=32)
    status = models.CharField(_("platform status"), max_length=32)
    reason = models.CharField(_("reason"), max_length=255, blank=True)
    buyer_login_id = models.CharField(_("buyer's login id"), max_length=128, blank=True)
    opened_at = models.DateTimeField(_("opened"), null=True, blank=True)
    platform_modified_at = models.DateTimeField(_("changed on the platform"), null=True, blank=True)
    # When the seller must answer by (from the order's time left in its status, docs/platforms.md).
    deadline = models.DateTimeField(_("answer by"), null=True, blank=True)
    first_seen_at = models.DateTimeField(_("first seen"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("platform dispute")
        verbose_name_plural = _("platform disputes")
        ordering = ["-first_seen_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "dispute_id"], name="platformdispute_unique_id")
        ]

    def __str__(self) -> str:
        return f"{self.platform} {self.dispute_id}"


class FilingStatus(models.TextChoices):
    """Where the 1688 refund request Shopops files for a supplier refund stands."""

    NONE = "", _("Not filed by Shopops")  # the reference was typed in: only read back
    PENDING = "pending", _("Waiting to be sent to 1688")
    SENDING = "sending", _("Being sent to 1688")
    FILED = "filed", _("Filed on 1688")
    FAILED = "failed", _("Refused by 1688, or failed")
    NOT_NEEDED = "not_needed", _("Not sent: the refund was answered or cancelled first")


class PlatformAction(models.TextChoices):
    """What 1688 waits for from us on a refund request (the order page and the queue say it)."""

    NONE = "", _("Nothing")
    MODIFY = "modify", _("The supplier refused: modify the request on 1688, or escalate")
    SEND_GOODS = "send_goods", _("The supplier agreed to the return: send the goods back")
    CHECK = "check", _("Closed on 1688 without a refund: check why")


class PlatformRefund(models.Model):
    """A supplier refund (``Refund``, from the supplier) as 1688 knows it.

    **Filed by Shopops** (``filing`` set): the outbox half. Recorded in the transaction that asks
    the supplier (``request_supplier_refund`` or a paid close that cancels on 1688, without a
    reference, on a store connected to 1688), sent after commit by one worker at a time
    (``claimed_until``), once: ``key`` is unique, and a request that may have reached 1688
    (``create_sent_at``) is looked for in the order's refunds before it is ever sent again. Its
    failure keeps 1688's code and words (``error_code``, ``error_message``).

    **Read back** (every supplier refund with a 1688 refund id): 1688's status of it, the
    supplier's refusal, and what 1688 waits for from us (``action``).
    """

    refund = models.OneToOneField(
        Refund, verbose_name=_("supplier refund"), on_delete=models.PROTECT, related_name="on_1688"
    )
    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="platform_refunds"
    )
    store = models.ForeignKey(Store, verbose_name=_("store"), on_delete=models.PROTECT, related_name="+")
    key = models.CharField(_("idempotency key"), max_length=100, unique=True)
    filing = models.CharField(
        _("filing"), max_length=16, choices=FilingStatus.choices, blank=True, default=FilingStatus.NONE
    )
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt"), null=True, blank=True)
    claimed_until = models.DateTimeField(_("claimed until"), null=True, blank=True)
    # Set before createRefund is sent: from then on 1688 may hold the request, and it is looked
    # for (queryOrderRefundList) before createRefund is ever sent again.
    create_sent_at = models.DateTimeField(_("request sent"), null=True, blank=True)
    filed_at = models.DateTimeField(_("filed"), null=True, blank=True)
    error_code = models.CharField(_("error code"), max_length=64, blank=True)
    error_message = models.TextField(_("1688's words"), blank=True)
    # What was sent: 1688's reason, the goods status, the vouchers' URLs.
    reason_id = models.CharField(_("1688 reason id"), max_length=32, blank=True)
    reason_name = models.CharField(_("1688 reason"), max_length=200, blank=True)
    goods_status = models.CharField(_("goods status"), max_length=32, blank=True)
    vouchers = models.JSONField(_("vouchers"), default=list, blank=True)
    # 1688's side, as the last read found it.
    platform_id = models.CharField(_("1688 refund id"), max_length=32, blank=True)
    platform_status = models.CharField(_("1688 status"), max_length=32, blank=True)
    platform_modified_at = models.DateTimeField(_("changed on 1688"), null=True, blank=True)
    read_at = models.DateTimeField(_("last read"), null=True, blank=True)
    refund_payment = models.PositiveBigIntegerField(_("refunded (fen)"), null=True, blank=True)
    reject_reason = models.TextField(_("the supplier's refusal"), blank=True)
    seller_address = models.TextField(_("return address"), blank=True)
    action = models.CharField(
        _("1688 waits for us"), max_length=16, choices=PlatformAction.choices, blank=True, default=""
    )
    created_at = models.DateTimeField(_("created"))
    updated_at = models.DateTimeField(_("updated"))

    class Meta:
        verbose_name = _("1688 refund request")
        verbose_name_plural = _("1688 refund requests")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["filing", "next_attempt_at"], name="platformrefund_due"),
            models.Index(fields=["store", "platform_id"], name="platformrefund_store_id"),
            models.Index(fields=["order", "action"], name="platformrefund_order_action"),
        ]

    def __str__(self) -> str:
        return self.platform_id or self.key
