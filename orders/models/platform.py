"""A store's connections to the platforms, its sync state, and the platform's disputes of its orders.

- :class:`StoreConnection`: the app key, app secret and access token of one platform for one store
  (AliExpress: the seller's ``session``; 1688: the buying account's ``access_token``). The secret
  and the token are stored encrypted (``shopops.secrets``) and never shown back.
- :class:`SyncState`: where the store's pull stands (docs/platforms.md): the high-water mark of
  the last good pass, the cursor of a pass in progress, the last error and the counts.
- :class:`PlatformDispute`: an AliExpress dispute ("issue") of one of the store's orders, with
  its status and deadline, as the last pass read it.

Written only by ``orders.workflow`` (``stores.connect_store``, ``platforms``).
"""

from __future__ import annotations

from django.db import models
from django.utils.translation import gettext_lazy as _

from .order import Order
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
