"""The outbox: side effects recorded in the workflow's transaction, delivered after commit.

Exactly once, as far as the recipient can tell, end to end:

1. **Recorded once.** A ``Notification`` row is written in the same transaction as its cause,
   with a unique ``key`` per cause, channel and template (``refund:42:email:refund_confirmation``),
   so it exists if and only if the cause committed, and exists once.
2. **Never lost.** After commit we ask Celery to deliver it (``enqueue``, which never raises: a
   broker outage costs the caller at most the connect timeout). A row the broker never got, or
   whose worker died, stays ``pending`` / ``sending`` and the periodic relay
   (``orders.jobs.relay_notifications``) hands it to Celery again.
3. **Sent by one worker at a time.** ``deliver`` claims the row with one conditional UPDATE
   (``pending`` and due, or ``sending`` with an expired claim → ``sending`` until now + claim
   time) and goes on only if that UPDATE changed exactly one row. Any number of duplicate task
   messages, relays and workers racing each other therefore send it once.
4. **Not repeated after a crash.** The one window left is a worker that dies after the provider
   accepted the message but before the row was marked ``sent``: once the claim expires, the
   message is sent again. The SMS provider receives the same ``Idempotency-Key`` (the row's
   key) and drops the repeat; emails carry a Message-ID derived from the key, so a mail client
   shows the two copies as one message. An SMTP server itself does not de-duplicate: in that
   rare case a buyer's mailbox may hold the same message twice.
5. **Never dropped silently.** Errors a retry can fix (timeouts, connection failures, 5xx, SMTP
   4xx) are retried with exponential backoff up to ``SHOPOPS_NOTIFICATION_MAX_ATTEMPTS``; other
   errors (HTTP 400, SMTP 5xx, a missing template) fail at once. A failed row keeps its
   ``last_error``, shows in the admin under "Failed", and ``retry_failed`` sends it again.
"""

from __future__ import annotations

import hashlib
import logging
import smtplib
import time
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.utils import parseaddr

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops.errors import require_permission

from . import sms
from .models import (
    Notification,
    NotificationChannel,
    NotificationStatus,
    NotificationTemplate,
    Order,
    Refund,
    SupplierOrder,
)
from .notifications import render_notification, resolve_language

logger = logging.getLogger(__name__)


# --- recording ----------------------------------------------------------------------------------


def record(
    *,
    key: str,
    template: str,
    channel: str,
    recipient: str,
    order: Order | None = None,
    refund: Refund | None = None,
    language: str = "en",
    context: dict | None = None,
    subject: str = "",
    body: str = "",
) -> Notification | None:
    """Write one outbox row (or find the one already written for ``key``); deliver after commit.

    Call it inside the transaction that makes the message true. Without a recipient nothing is
    written (a buyer with no phone gets no SMS). ``subject``/``body`` may be given pre-rendered
    (when the same text is also kept as evidence); otherwise delivery renders the template.
    """
    if not recipient:
        return None
    notification, created = Notification.objects.get_or_create(
        key=key,
        defaults={
            "template": template,
            "channel": channel,
            "recipient": recipient,
            "order": order,
            "refund": refund,
            "language": language or "en",
            "context": context or {},
            "subject": subject,
            "body": body,
        },
    )
    if created:
        transaction.on_commit(lambda: enqueue(notification.pk))
    return notification


# After a failed publish, this process leaves messages to the relay for a while instead of
# making every caller wait for the broker's connect timeout again: a close that records an email
# and an SMS pays the timeout once, not twice. The relay (every minute) probes the broker anyway.
BROKER_BACKOFF_SECONDS = 30.0
_broker_down_until = 0.0


def enqueue(notification_id: int, *, countdown: float | None = None, probe: bool = False) -> bool:
    """Hand a notification to Celery. Never raises: a broker outage leaves it for the relay.

    Returns whether the broker took the message. After a failure, further calls in this process
    return False at once for ``BROKER_BACKOFF_SECONDS`` (the row stays pending for the relay),
    unless ``probe`` (the relay's own calls). ``countdown`` is capped by ``SHOPOPS_MAX_COUNTDOWN``
    so that no message waits longer than the broker's visibility timeout allows.
    """
    global _broker_down_until
    from .tasks import deliver_notification

    if not probe and time.monotonic() < _broker_down_until:
        logger.info("Broker recently unreachable; notification %s left for the relay", notification_id)
        return False
    options: dict = {"retry": False}
    if countdown:
        options["countdown"] = min(float(countdown), float(settings.SHOPOPS_MAX_COUNTDOWN))
    try:
        deliver_notification.apply_async((notification_id,), **options)
    except Exception:  # the broker is down or unreachable: the periodic relay will send it
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning(
            "Broker unavailable; notification %s left for the relay", notification_id, exc_info=True
        )
        return False
    _broker_down_until = 0.0
    return True


def _buyer_messages(
    *, prefix: str, template: str, order: Order, refund: Refund | None, context: dict
) -> list[Notification]:
    sent = []
    for channel, recipient in (
        (NotificationChannel.EMAIL, order.buyer_email),
        (NotificationChannel.SMS, order.buyer_phone),
    ):
        notification = record(
            key=f"{prefix}:{channel}:{template}",
            template=template,
            channel=channel,
            recipient=recipient,
            order=order,
            refund=refund,
            language=resolve_language(order.buyer_language),
            context=context,
        )
        if notification is not None:
            sent.append(notification)
    return sent


def record_refund_confirmation(refund: Refund) -> list[Notification]:
    """One email, and one SMS when a phone is known, telling the buyer their refund succeeded.

    Says which order, how much, and when to expect the money (``SHOPOPS_REFUND_EXPECTED_DAYS``
    business days), in the buyer's language.
    """
    order = refund.order
    context = {
        "order_id": order.platform_order_id,
        "buyer_name": order.buyer_name,
        "product_title": order.product_title,
        "amount": str(refund.amount),
        "currency": refund.currency,
        "refund_expected_days": settings.SHOPOPS_REFUND_EXPECTED_DAYS,
    }
    return _buyer_messages(
        prefix=f"refund:{refund.pk}",
        template=NotificationTemplate.REFUND_CONFIRMATION,
        order=order,
        refund=refund,
        context=context,
    )


def record_payment_reminder(order: Order) -> list[Notification]:
    """Ask the buyer of an unpaid order to pay: email (and SMS when a phone is known)."""
    context = {
        "order_id": order.platform_order_id,
        "buyer_name": order.buyer_name,
        "product_title": order.product_title,
        "amount": str(order.total_amount),
        "currency": order.currency,
    }
    return _buyer_messages(
        prefix=f"order:{order.pk}",
        template=NotificationTemplate.PAYMENT_REMINDER,
        order=order,
        refund=None,
        context=context,
    )


def _local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def supplier_reminder_context(
    refund: Refund, supplier_order: SupplierOrder | None, chase_number: int
) -> dict:
    """What the supplier reminder says: which 1688 order, how much, by when, which reminder."""
    return {
        "order_id": refund.order.platform_order_id,
        "supplier_name": supplier_order.supplier_name if supplier_order else "",
        "supplier_order_id": supplier_order.supplier_order_id if supplier_order else "",
        "amount": str(refund.amount),
        "currency": refund.currency,
        "reason": refund.reason,
        "reference": refund.reference,
        "requested_at": _local(refund.requested_at),
        "respond_by": _local(refund.respond_by),
        "chase_number": chase_number,
    }


def record_supplier_reminder(
    refund: Refund, *, supplier_order: SupplierOrder, chase_number: int, subject: str, body: str
) -> Notification | None:
    """The ``chase_number``-th reminder email to the supplier contact, in Chinese, pre-rendered.

    The key carries the chase number: each chase interval's reminder is its own message, and
    the same chase run twice records it once.
    """
    return record(
        key=f"refund:{refund.pk}:{NotificationChannel.EMAIL}:{NotificationTemplate.SUPPLIER_REMINDER}:{chase_number}",
        template=NotificationTemplate.SUPPLIER_REMINDER,
        channel=NotificationChannel.EMAIL,
        recipient=supplier_order.supplier_contact,
        order=refund.order,
        refund=refund,
        language="zh-hans",
        context=supplier_reminder_context(refund, supplier_order, chase_number),
        subject=subject,
        body=body,
    )


def record_overdue_digest(
    *, digest_id: str, recipients: Iterable[str], refunds: list[dict], total: int
) -> list[Notification]:
    """One digest email per supervisor listing newly overdue supplier refunds.

    ``refunds`` are the ones listed (the first ones, to keep the email readable); ``total`` is
    how many became overdue. The key is derived from the refunds, so one digest is one message.
    """
    sent = []
    for recipient in recipients:
        notification = record(
            key=f"overdue_digest:{digest_id}:{recipient}"[:200],
            template=NotificationTemplate.OVERDUE_DIGEST,
            channel=NotificationChannel.EMAIL,
            recipient=recipient,
            language=resolve_language(settings.LANGUAGE_CODE),
            context={"refunds": refunds, "total": total, "more": max(total - len(refunds), 0)},
        )
        if notification is not None:
            sent.append(notification)
    return sent


# --- delivery ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Delivery:
    """What one delivery attempt did: ``sent``, ``retry`` (after ``retry_in`` s), ``failed``,
    or ``skipped`` (another worker holds it, or it is already sent / failed / not yet due)."""

    outcome: str
    retry_in: float | None = None
    error: str = ""


def _give_up_on_crashes(notification_id: int, now: datetime) -> None:
    """A message whose worker died during every one of its attempts ends ``failed``, not in a loop.

    A dying worker records nothing, so its claim simply expires; without this the relay would
    hand the same poison message to worker after worker forever.
    """
    Notification.objects.filter(
        pk=notification_id,
        status=NotificationStatus.SENDING,
        claimed_until__lt=now,
        attempts__gte=settings.SHOPOPS_NOTIFICATION_MAX_ATTEMPTS,
    ).update(
        status=NotificationStatus.FAILED,
        claimed_until=None,
        last_error=(
            f"The worker stopped during each of {settings.SHOPOPS_NOTIFICATION_MAX_ATTEMPTS} attempts "
            "(crash or time limit); not sent again automatically."
        ),
    )


def _claim(notification_id: int, now: datetime) -> bool:
    """Take the row for this worker: one conditional UPDATE, so only one claimant wins."""
    _give_up_on_crashes(notification_id, now)
    claimable = Q(status=NotificationStatus.PENDING, next_attempt_at__lte=now) | Q(
        status=NotificationStatus.SENDING, claimed_until__lt=now
    )
    updated = Notification.objects.filter(claimable, pk=notification_id).update(
        status=NotificationStatus.SENDING,
        claimed_until=now + timedelta(seconds=float(settings.SHOPOPS_NOTIFICATION_CLAIM_SECONDS)),
        attempts=F("attempts") + 1,
    )
    return updated == 1


def _message_id(key: str) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "shopops.localhost"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<shopops.{digest}@{domain}>"


def _send(notification: Notification) -> None:
    if notification.channel == NotificationChannel.SMS:
        sms.send_sms(notification.recipient, notification.body, idempotency_key=notification.key)
        return
    message = EmailMessage(
        subject=notification.subject,
        body=notification.body,
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[notification.recipient],
        # Deterministic: a resend after a crash is the same message to the recipient's client.
        headers={"Message-ID": _message_id(notification.key)},
    )
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
    if not _claim(notification_id, timezone.now()):
        return Delivery("skipped")
    notification = Notification.objects.get(pk=notification_id)
    try:
        if not notification.body:
            rendered = render_notification(notification)
            notification.subject, notification.body = rendered.subject, rendered.body
            Notification.objects.filter(pk=notification.pk).update(
                subject=rendered.subject, body=rendered.body
            )
        _send(notification)
    except Exception as exc:  # classified below; nothing may escape without being recorded
        return _record_failure(notification, exc)
    Notification.objects.filter(pk=notification.pk, status=NotificationStatus.SENDING).update(
        status=NotificationStatus.SENT, sent_at=timezone.now(), claimed_until=None, last_error=""
    )
    return Delivery("sent")


def _record_failure(notification: Notification, exc: Exception) -> Delivery:
    error = f"{type(exc).__name__}: {exc}"[:2000]
    attempts = notification.attempts
    pending = Notification.objects.filter(pk=notification.pk, status=NotificationStatus.SENDING)
    if is_retryable(exc) and attempts < settings.SHOPOPS_NOTIFICATION_MAX_ATTEMPTS:
        delay = _backoff(attempts)
        pending.update(
            status=NotificationStatus.PENDING,
            next_attempt_at=timezone.now() + timedelta(seconds=delay),
            claimed_until=None,
            last_error=error,
        )
        logger.warning(
            "Notification %s attempt %d failed, retry in %.1f s: %s", notification.key, attempts, delay, error
        )
        return Delivery("retry", retry_in=delay, error=error)
    pending.update(status=NotificationStatus.FAILED, claimed_until=None, last_error=error)
    logger.error("Notification %s failed after %d attempt(s): %s", notification.key, attempts, error)
    return Delivery("failed", error=error)


def retry_failed(notification_ids: Iterable[int], *, by: AbstractBaseUser | None) -> int:
    """Send failed notifications again: back to ``pending`` with a fresh set of attempts.

    Requires ``orders.retry_notification``. Only ``failed`` rows change (a sent message is never
    sent twice this way). Each is handed to Celery after commit. Returns how many were reset.
    """
    require_permission(by, "orders.retry_notification", _("retry notifications"))
    with transaction.atomic():
        ids = list(
            Notification.objects.select_for_update()
            .filter(pk__in=list(notification_ids), status=NotificationStatus.FAILED)
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(
            status=NotificationStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_until=None
        )
        for pk in ids:
            transaction.on_commit(lambda pk=pk: enqueue(pk))
    return len(ids)
