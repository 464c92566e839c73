"""Delivery of outbox notifications: send one email or SMS, classify the failure.

Every change to the row goes through ``orders.workflow.outbox`` (claim, keep the rendered text,
mark sent / retry / failed); this module only talks to the providers. ``orders.tasks`` runs
:func:`deliver` in Celery; the exactly-once argument is in ``orders.workflow.outbox``.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
from dataclasses import dataclass
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.utils import timezone

from . import sms
from .models import Notification, NotificationChannel
from .notifications import html_alternative, render_notification
from .workflow import outbox

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Delivery:
    """What one delivery attempt did: ``sent``, ``retry`` (after ``retry_in`` s), ``failed``,
    or ``skipped`` (another worker holds it, or it is already sent / failed / not yet due)."""

    outcome: str
    retry_in: float | None = None
    error: str = ""


def _message_id(key: str) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "shopops.localhost"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<shopops.{digest}@{domain}>"


def _send(notification: Notification) -> None:
    if notification.channel == NotificationChannel.SMS:
        sms.send_sms(notification.recipient, notification.body, idempotency_key=notification.key)
        return
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        # Deterministic: a resend after a crash is the same message to the recipient's client.
        headers={"Message-ID": _message_id(notification.key)},
    )
    html = html_alternative(notification)
    if html:
        message.attach_alternative(html, "text/html")
    message.send(fail_silently=False)


def is_retryable(exc: BaseException) -> bool:
    """Whether a later attempt may succeed where this one raised ``exc``."""
    if isinstance(exc, sms.SmsError):
        return exc.retryable
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return any(400 <= code < 500 for code, _msg in exc.recipients.values())
    if isinstance(exc, smtplib.SMTPServerDisconnected | smtplib.SMTPConnectError):
        return True
    if isinstance(exc, smtplib.SMTPResponseException):
        return 400 <= exc.smtp_code < 500
    # Timeouts, refused or reset connections, DNS failures: the network may come back.
    return isinstance(exc, OSError)


def _backoff(attempts: int) -> float:
    delay = float(settings.SHOPOPS_NOTIFICATION_RETRY_SECONDS) * 2 ** max(attempts - 1, 0)
    return min(delay, float(settings.SHOPOPS_MAX_COUNTDOWN))


def deliver(notification_id: int) -> Delivery:
    """Send one notification if this caller can claim it; record the outcome on the row.

    Safe to call any number of times, from any number of workers at once: only the claimant
    sends. Renders the text on first delivery and keeps it, so every retry sends the same words.
    Side effects: one email or SMS; the row becomes ``sent``, ``pending`` (retry due later) or
    ``failed`` with ``last_error``.
    """
    if not outbox.claim(notification_id, timezone.now()):
        return Delivery("skipped")
    notification = Notification.objects.get(pk=notification_id)
    try:
        if not notification.body:
            rendered = render_notification(notification)
            notification = outbox.keep_text(notification, subject=rendered.subject, body=rendered.body)
        _send(notification)
    except Exception as exc:  # classified below; nothing may escape without being recorded
        return _record_failure(notification, exc)
    outbox.mark_sent(notification.pk)
    return Delivery("sent")


def _record_failure(notification: Notification, exc: Exception) -> Delivery:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    attempts = notification.attempts
    if is_retryable(exc) and attempts < settings.SHOPOPS_NOTIFICATION_MAX_ATTEMPTS:
        delay = _backoff(attempts)
        outbox.schedule_retry(notification.pk, delay=delay, error=error)
        logger.warning(
            "Notification %s attempt %d failed, retry in %.1f s: %s", notification.key, attempts, delay, error
        )
        return Delivery("retry", retry_in=delay, error=error)
    outbox.mark_failed(notification.pk, error=error)
    logger.error("Notification %s failed after %d attempt(s): %s", notification.key, attempts, error)
    return Delivery("failed", error=error)
