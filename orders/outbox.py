"""The outbox: side effects recorded in the workflow's transaction, delivered after commit.

A ``Notification`` row is written in the same transaction as its cause, with a unique key per
cause × channel × template, so it exists if and only if the cause committed, and exists once.
After commit we ask Celery to deliver it; if the broker is down the row stays ``pending`` and
the periodic relay picks it up later (``orders.tasks``).
"""

from __future__ import annotations

import logging

from django.db import transaction

from .models import Notification, NotificationChannel, NotificationTemplate, Order, Refund

logger = logging.getLogger(__name__)


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
) -> Notification | None:
    """Write one outbox row (or find the one already written for ``key``); deliver after commit."""
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
        },
    )
    if created:
        transaction.on_commit(lambda: enqueue(notification.pk))
    return notification


def enqueue(notification_id: int) -> None:
    """Hand a notification to Celery. Never raises: a broker outage leaves it for the relay."""
    from .tasks import deliver_notification

    try:
        deliver_notification.apply_async((notification_id,), retry=False)
    except Exception:  # the broker is down or unreachable: the periodic relay will send it
        logger.warning("Broker unavailable; notification %s left for the relay", notification_id, exc_info=True)


def record_refund_confirmation(refund: Refund) -> list[Notification]:
    """One email, and one SMS when a phone is known, telling the buyer their refund succeeded."""
    order = refund.order
    context = {
        "order_id": order.platform_order_id,
        "buyer_name": order.buyer_name,
        "amount": str(refund.amount),
        "currency": refund.currency,
    }
    sent = []
    for channel, recipient in (
        (NotificationChannel.EMAIL, order.buyer_email),
        (NotificationChannel.SMS, order.buyer_phone),
    ):
        notification = record(
            key=f"refund:{refund.pk}:{channel}:{NotificationTemplate.REFUND_CONFIRMATION}",
            template=NotificationTemplate.REFUND_CONFIRMATION,
            channel=channel,
            recipient=recipient,
            order=order,
            refund=refund,
            language=order.buyer_language,
            context=context,
        )
        if notification is not None:
            sent.append(notification)
    return sent


def record_payment_reminder(order: Order) -> list[Notification]:
    """Ask the buyer of an unpaid order to pay: email (and SMS when a phone is known)."""
    context = {
        "order_id": order.platform_order_id,
        "buyer_name": order.buyer_name,
        "amount": str(order.total_amount),
        "currency": order.currency,
    }
    sent = []
    for channel, recipient in (
        (NotificationChannel.EMAIL, order.buyer_email),
        (NotificationChannel.SMS, order.buyer_phone),
    ):
        notification = record(
            key=f"order:{order.pk}:{channel}:{NotificationTemplate.PAYMENT_REMINDER}",
            template=NotificationTemplate.PAYMENT_REMINDER,
            channel=channel,
            recipient=recipient,
            order=order,
            language=order.buyer_language,
            context=context,
        )
        if notification is not None:
            sent.append(notification)
    return sent
