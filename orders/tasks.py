"""Celery tasks: thin wrappers that load by id and call the services (see orders.outbox)."""

from celery import shared_task


@shared_task(name="orders.deliver_notification")
def deliver_notification(notification_id: int) -> None:
    # Delivery (rendering, email/SMS backends, retries, exactly-once claim) arrives with the
    # background-jobs work; until then outbox rows simply stay pending.
    return None
