"""The record of each applied order import."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shopops.appendonly import AppendOnlyModel


class OrderImport(AppendOnlyModel):
    """One order file applied by the CSV import: who imported which file, when, and the outcome.

    The import history, written once per import that was not a dry run and had no invalid row.
    It also lets a re-import of the very same bytes be recognised without reading a row: after
    an import that refused nothing, every order of the file is as the file says. ``order_ranges``
    are those orders (primary keys, as ``[first, last]`` runs) and ``checksum`` sums a hash of
    their ``updated_at``; while it is the same, none of them has changed and the file changes
    nothing — exactly what checking each row would find (``orders.imports.history``).
    """

    file_name = models.CharField(_("file"), max_length=255)
    sha256 = models.CharField(_("SHA-256 of the file"), max_length=64, db_index=True)
    # The import's parsing rules and platform time zone: the same bytes mean the same orders
    # only under the same rules.
    rules = models.CharField(_("rules"), max_length=100)
    imported_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("imported by"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        db_index=False,
    )
    imported_at = models.DateTimeField(_("imported"), default=timezone.now, db_index=True)
    # The store of every row of the file; blank when the file held several stores' orders (then
    # only those who work for every store see the record: orders.policy).
    store = models.ForeignKey(
        "orders.Store",
        verbose_name=_("store"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    rows = models.PositiveIntegerField(_("rows"))
    new = models.PositiveIntegerField(_("new"))
    updated = models.PositiveIntegerField(_("updated"))
    unchanged = models.PositiveIntegerField(_("unchanged"))
    refused = models.PositiveIntegerField(_("refused"))
    moves = models.PositiveIntegerField(_("status moves"))
    # Empty when the import cannot vouch for the file (rows refused, or too scattered orders).
    order_ranges = models.JSONField(_("orders"), default=list, blank=True, editable=False)
    checksum = models.CharField(_("checksum"), max_length=40, blank=True, editable=False)

    class Meta:
        verbose_name = _("order import")
        verbose_name_plural = _("order imports")
        ordering = ["-imported_at", "-id"]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.imported_at:%Y-%m-%d %H:%M})"
