"""Project-level Celery tasks: infrastructure probes, no business logic."""

from celery import shared_task


@shared_task(name="shopops.ping")
def ping() -> str:
    """Answer "pong": proves that a worker consumes the broker and stores results."""
    return "pong"
