"""Project-level views."""

import logging

from django.db import connections
from django.http import HttpRequest, JsonResponse
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_GET

from .celery import app as celery_app

logger = logging.getLogger(__name__)

# A load balancer polls this; a dead dependency must answer quickly, not hang the probe.
BROKER_TIMEOUT_SECONDS = 2


def _check_database() -> str:
    try:
        with connections["default"].cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
    except Exception as exc:
        logger.warning("healthz: database check failed", exc_info=True)
        return f"error: {type(exc).__name__}"
    return "ok"


def _check_broker() -> str:
    try:
        with celery_app.connection_for_write(connect_timeout=BROKER_TIMEOUT_SECONDS) as conn:
            conn.ensure_connection(max_retries=1, interval_start=0, timeout=BROKER_TIMEOUT_SECONDS)
    except Exception as exc:
        logger.warning("healthz: broker check failed", exc_info=True)
        return f"error: {type(exc).__name__}"
    return "ok"


@never_cache
@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Report whether the database and the Celery broker answer: 200 if both do, 503 otherwise.

    Errors name only the exception class: the endpoint is unauthenticated, details go to the log.
    """
    checks = {"database": _check_database(), "broker": _check_broker()}
    healthy = all(value == "ok" for value in checks.values())
    return JsonResponse(checks, status=200 if healthy else 503)
