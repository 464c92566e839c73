"""Delivery of outbox notifications: send a batch of emails, SMS and team chat messages
(``orders.staff_webhook``), classify each failure.

Every change to the row goes through ``orders.workflow.outbox`` (claim, keep the rendered text,
mark sent / retry / failed); this module only talks to the providers. ``orders.tasks`` runs
:func:`deliver_many` (and :func:`deliver`) in Celery; the exactly-once argument is in
``orders.workflow.outbox``.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import logging
import smtplib
import threading
import time
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from email.headerregistry import Address
from email.utils import parseaddr

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.utils import timezone

from . import sms, staff_webhook
from .models import Notification, NotificationChannel
from .models.store import option_value
from .notifications import BUYER_TEMPLATES, html_alternative, render_notification
from .selectors.buyer_messages import edits_read_once
from .workflow import outbox

logger = logging.getLogger(__name__)

# Sent rows are recorded at least this often during a long batch (and always at its end).
SENT_FLUSH_SECONDS = 1.0


@dataclass(frozen=True)
class Delivery:
    """What one delivery attempt did: ``sent``, ``retry`` (after ``retry_in`` s), ``failed``,
    ``released`` (claimed, but the batch ran out of time before its turn: due again now), or
    ``skipped`` (another worker holds it, or it is already sent / failed / not yet due)."""

    outcome: str
    retry_in: float | None = None
    error: str = ""


def _message_id(key: str) -> str:
    domain = parseaddr(settings.DEFAULT_FROM_EMAIL)[1].rpartition("@")[2] or "shopops.localhost"
    digest = hashlib.sha256(key.encode("utf-8")).hexdigest()[:40]
    return f"<shopops.{digest}@{domain}>"


class _Mailer:
    """One email connection for a whole batch, opened at the first email, reopened after an error."""

    def __init__(self) -> None:
        self.connection = None

    def send(self, message: EmailMultiAlternatives) -> None:
        if self.connection is None:
            self.connection = get_connection(fail_silently=False)
            self.connection.open()
        try:
            self.connection.send_messages([message])
        except Exception:
            self.close()  # the session may be half way through a command: start the next one afresh
            raise

    def close(self) -> None:
        if self.connection is not None:
            with contextlib.suppress(Exception):  # a dead session cannot even say QUIT: nothing lost
                self.connection.close()
            self.connection = None


# A send not started because the batch ran out of claim time (see deliver_many).
_RELEASED = Exception("released")


class _Lanes:
    """Sends a batch on up to ``SHOPOPS_DELIVERY_THREADS`` threads, each with its own SMTP
    connection: the waits on the providers overlap. Threads only send; every database write
    stays in the caller's thread (its connection), in the order the results come back."""

    def __init__(self, count: int) -> None:
        threads = min(max(int(settings.SHOPOPS_DELIVERY_THREADS), 1), count)
        self.pool = ThreadPoolExecutor(threads, thread_name_prefix="delivery") if threads > 1 else None
        self.local = threading.local()
        self.mailers: list[_Mailer] = []
        self.lock = threading.Lock()

    def _mailer(self) -> _Mailer:
        mailer = getattr(self.local, "mailer", None)
        if mailer is None:
            mailer = self.local.mailer = _Mailer()
            with self.lock:
                self.mailers.append(mailer)
        return mailer

    def _attempt(self, notification: Notification, send_until: float) -> BaseException | None:
        if time.monotonic() > send_until:
            return _RELEASED
        try:
            _send(notification, self._mailer())
        except Exception as exc:  # returned to the caller, who records it
            return exc
        return None

    def send_all(self, notifications: list[Notification], send_until: float):
        """Yield ``(notification, None | the exception | _RELEASED)``, in the given order."""
        attempt = functools.partial(self._attempt, send_until=send_until)
        outcomes = self.pool.map(attempt, notifications) if self.pool else map(attempt, notifications)
        return zip(notifications, outcomes, strict=True)

    def close(self) -> None:
        if self.pool:
            self.pool.shutdown(wait=True, cancel_futures=True)
        for mailer in self.mailers:
            mailer.close()


# A notification loaded without its store's sender name (not by outbox.claim_many).
_UNREAD = object()


def from_address(notification: Notification) -> str:
    """Who an email comes from. A buyer message: the sender name of the order's store (else
    ``SHOPOPS_MESSAGE_SENDER``) at ``DEFAULT_FROM_EMAIL``'s address, when one is set; every other
    email, and a buyer email with no sender name, ``DEFAULT_FROM_EMAIL`` as it is."""
    if notification.template not in BUYER_TEMPLATES:
        return settings.DEFAULT_FROM_EMAIL
    # The claim read the store's name with the row (outbox.claim_many); a row loaded otherwise
    # reads it here.
    sender = getattr(notification, "store_sender", _UNREAD)
    if sender is _UNREAD:
        order = notification.order
        sender = order.store.message_sender if order is not None else None
    name = option_value("message_sender", sender)
    address = parseaddr(settings.DEFAULT_FROM_EMAIL)[1]
    if not name or not address:
        return settings.DEFAULT_FROM_EMAIL
    return str(Address(display_name=name, addr_spec=address))


def _send(notification: Notification, mailer: _Mailer) -> None:
    if notification.channel == NotificationChannel.SMS:
        sms.send_sms(notification.recipient, notification.body, idempotency_key=notification.key)
        return
    if notification.channel == NotificationChannel.WEBHOOK:
        staff_webhook.send(notification.body, idempotency_key=notification.key)
        return
    message = EmailMultiAlternatives(
        subject=notification.subject,
        body=notification.body,
        from_email=from_address(notification),
        to=[notification.recipient],
        # Deterministic: a resend after a crash is the same message to the recipient's client.
        headers={"Message-ID": _message_id(notification.key)},
    )
    html = html_alternative(notification)
    if html:
        message.attach_alternative(html, "text/html")
    mailer.send(message)


def is_retryable(exc: BaseException) -> bool:
    """Whether a later attempt may succeed where this one raised ``exc``."""
    if isinstance(exc, sms.SmsError | staff_webhook.WebhookError):
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
    """Send one notification if this caller can claim it; see :func:`deliver_many`."""
    return deliver_many([notification_id])[notification_id]


def deliver_many(notification_ids: Iterable[int]) -> dict[int, Delivery]:
    """Send every notification among ``notification_ids`` this caller can claim; record outcomes.

    Safe to call any number of times, from any number of workers at once: only the claimant
    sends (one claim for the batch). Renders the text on first delivery and keeps it before
    sending, so every retry sends the same words. Sends overlap on ``SHOPOPS_DELIVERY_THREADS``
    threads, each with one SMTP connection for all its emails. Sent rows
    are recorded together (at least every ``SENT_FLUSH_SECONDS``, which bounds what a crash can
    make us send again, with the same Message-ID / SMS Idempotency-Key). Sends start only in the
    first half of the claim; rows left then go back to ``pending`` (outcome ``released``).
    Returns the outcome for each id: ``sent``, ``retry``, ``failed``, ``released``, ``skipped``.
    """
    ids = list(dict.fromkeys(int(pk) for pk in notification_ids))
    results = dict.fromkeys(ids, Delivery("skipped"))
    started = time.monotonic()
    claimed = outbox.claim_many(ids, timezone.now())
    ready, rendered_now = [], []
    with edits_read_once():  # a Supervisor's edits of the buyer texts: one read for the batch
        for notification in claimed:
            if not notification.body:
                try:
                    rendered = render_notification(notification)
                except Exception as exc:  # a missing or broken template: recorded, never raised
                    results[notification.pk] = _record_failure(notification, exc)
                    continue
                notification.subject, notification.body = rendered.subject, rendered.body
                rendered_now.append(notification)
            ready.append(notification)
    outbox.keep_texts(rendered_now)
    send_until = started + float(settings.SHOPOPS_NOTIFICATION_CLAIM_SECONDS) / 2
    lanes, sent, left, flushed_at = _Lanes(len(ready)), [], [], time.monotonic()
    try:
        for notification, error in lanes.send_all(ready, send_until):
            if error is _RELEASED:
                left.append(notification.pk)
            elif error is not None:
                results[notification.pk] = _record_failure(notification, error)
            else:
                sent.append(notification.pk)
                results[notification.pk] = Delivery("sent")
                if time.monotonic() - flushed_at > SENT_FLUSH_SECONDS:
                    outbox.mark_sent(sent)
                    sent, flushed_at = [], time.monotonic()
    finally:
        lanes.close()
        outbox.mark_sent(sent)
        outbox.release(left)
    results.update(dict.fromkeys(left, Delivery("released")))
    return results


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
