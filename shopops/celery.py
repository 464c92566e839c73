"""The Celery app, and the one hand-off from the domain to it.

Configuration lives in Django settings under the CELERY_ namespace. Domain code never imports
a task module: it hands a message over by task name with :func:`hand_off`, which never raises
and keeps the broker-outage circuit breaker, so the domain outbox knows nothing of Celery.
"""

import logging
import os
import threading
import time

from celery import Celery
from celery.signals import task_postrun, task_prerun, worker_process_shutdown
from django.db import close_old_connections, connections

from . import broker  # noqa: F401  registers the embedded broker's URL scheme (settings)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopops.settings")

app = Celery("shopops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# shopops is the project package, not an installed app, so autodiscovery does not see its tasks.
app.conf.include = ["shopops.tasks"]

logger = logging.getLogger(__name__)


@task_prerun.connect
@task_postrun.connect
def _close_old_db_connections(sender=None, **kwargs) -> None:
    """Give each task the database connection a Django request would get.

    Celery's Django fixup closes every connection around every task unless
    ``CELERY_DB_REUSE_MAX`` is set (settings set it): a new PostgreSQL session per task. Instead,
    as Django does around a request, close only what ``CONN_MAX_AGE`` retires or an error broke;
    ``CONN_HEALTH_CHECKS`` then checks a reused connection before its first query. Tasks run in
    a thread (the tests' in-process worker, the threads pool) still close theirs after each
    task: such a thread can end without a signal, and its session would linger.
    """
    if getattr(getattr(sender, "request", None), "is_eager", False):
        return
    if threading.current_thread() is threading.main_thread():
        close_old_connections()
    else:
        connections.close_all()


@worker_process_shutdown.connect
def _close_db_connections(**kwargs) -> None:
    """A stopping pool process ends its kept database sessions instead of leaving them to the
    server's timeout."""
    connections.close_all()


# After a failed publish, this process gives messages back to their caller (who leaves them to
# the relay) for a while instead of making every caller wait for the broker's connect timeout
# again: a close that records an email and an SMS pays the timeout once, not twice. The relay
# (every minute) probes the broker anyway.
BROKER_BACKOFF_SECONDS = 30.0
_broker_down_until = 0.0


def reset_broker_backoff() -> None:
    """Forget a past publish failure: the next hand-off tries the broker at once."""
    global _broker_down_until
    _broker_down_until = 0.0


def hand_off(task_name: str, *args: object, countdown: float | None = None, probe: bool = False) -> bool:
    """Publish the task ``task_name`` with ``args``; return whether the broker took it.

    Never raises: a broker outage returns False (the caller's durable record is picked up
    later). After a failure, further calls in this process return False at once for
    ``BROKER_BACKOFF_SECONDS``, unless ``probe``. Publishing by name needs no task module;
    ``send_task`` ignores ``task_always_eager``, so an eager configuration runs the
    registered task in place instead.
    """
    global _broker_down_until
    if not probe and time.monotonic() < _broker_down_until:
        logger.info("Broker recently unreachable; %s%r left for the relay", task_name, args)
        return False
    options: dict = {"retry": False}
    if countdown:
        options["countdown"] = countdown
    try:
        if app.conf.task_always_eager:
            app.loader.import_default_modules()
            app.tasks[task_name].apply_async(args, **options)
        else:
            app.send_task(task_name, args=args, **options)
    except Exception:  # the broker is down or unreachable: the caller's record waits for the relay
        _broker_down_until = time.monotonic() + BROKER_BACKOFF_SECONDS
        logger.warning("Broker unavailable; %s%r left for the relay", task_name, args, exc_info=True)
        return False
    _broker_down_until = 0.0
    return True
