"""Buyer feedback, the follow-up of bad ratings and its history."""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django_fsm import FSMField, FSMModelMixin, transition

from shopops.appendonly import AppendOnlyModel

from .choices import (
    FollowupStatus,
)
from .order import Order


class Feedback(FSMModelMixin, models.Model):
    """A buyer's rating of an order; low ratings open a follow-up."""

    order = models.ForeignKey(Order, on_delete=models.PROTECT, related_name="feedback")
    rating = models.PositiveSmallIntegerField(_("rating"))
    comment = models.TextField(_("comment"), blank=True)
    received_at = models.DateTimeField(_("received"), default=timezone.now)
    followup_status = FSMField(
        _("follow-up"), max_length=16, choices=FollowupStatus.choices, default=FollowupStatus.NONE, blank=True
    )
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    followup_notes = models.TextField(_("follow-up notes"), blank=True)
    followup_opened_at = models.DateTimeField(_("follow-up opened"), null=True, blank=True)
    followup_closed_at = models.DateTimeField(_("follow-up closed"), null=True, blank=True)
    created_at = models.DateTimeField(_("created"), default=timezone.now, editable=False)

    class Meta:
        verbose_name = _("feedback")
        verbose_name_plural = _("feedback")
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["followup_status", "received_at"], name="feedback_followup")]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=1) & Q(rating__lte=5), name="feedback_rating_1_5"),
            models.UniqueConstraint(
                fields=["order", "received_at", "rating"], name="feedback_unique_per_order_time"
            ),
        ]

    def __str__(self) -> str:
        # What a person recognises: the platform order id, the stars, the buyer (not our ids).
        stars = "★" * self.rating + "☆" * (5 - self.rating)
        return f"{self.order.platform_order_id} · {stars} · {self.order.buyer_name}"

    # --- follow-up transitions: rules only; orders.workflow.feedback runs them ----------------

    @transition(field=followup_status, source=FollowupStatus.NONE, target=FollowupStatus.NEW)
    def open_followup(self, at):
        self.followup_opened_at = at

    @transition(
        field=followup_status,
        source=FollowupStatus.NEW,
        target=FollowupStatus.CONTACTED,
        permission="orders.change_feedback",
    )
    def mark_contacted(self):
        pass

    @transition(
        field=followup_status,
        source=FollowupStatus.CONTACTED,
        target=FollowupStatus.RESOLVED,
        permission="orders.change_feedback",
    )
    def resolve(self, at):
        self.followup_closed_at = at

    @transition(
        field=followup_status,
        source=FollowupStatus.CONTACTED,
        target=FollowupStatus.UNRESOLVED,
        permission="orders.change_feedback",
    )
    def mark_unresolved(self, at):
        self.followup_closed_at = at


class FeedbackEvent(AppendOnlyModel):
    """One line of a feedback follow-up's history: written by ``orders.workflow.feedback``.

    Follow-ups worked before these rows existed keep their history as text in
    ``Feedback.followup_notes``; the admin shows that text first, then these events.
    """

    feedback = models.ForeignKey(Feedback, on_delete=models.PROTECT, related_name="events", db_index=False)
    name = models.CharField(_("event"), max_length=64)
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
    data = models.JSONField(_("details"), default=dict, blank=True, encoder=DjangoJSONEncoder)

    class Meta:
        verbose_name = _("follow-up event")
        verbose_name_plural = _("follow-up events")
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["feedback", "created_at"], name="feedback_event_time")]

    def __str__(self) -> str:
        return f"{self.feedback_id} {self.name}"
