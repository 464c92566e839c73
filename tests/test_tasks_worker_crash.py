"""A worker killed in the middle of a delivery: the message is delivered once, not lost, not doubled.

Real processes: ``celery -A shopops worker`` subprocesses on Redis and the test database, a slow
HTTP SMS provider on loopback that has already accepted the message when the worker is SIGKILLed.
Another worker then takes the message over once its claim expires; the provider receives it a
second time with the same Idempotency-Key and, as a real provider does, drops the repeat.
"""

import json
import os
import signal
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
import redis
from django.conf import settings as django_settings
from django.db import connection
from django.utils import timezone

from orders import jobs, workflow
from orders.models import Notification, NotificationStatus, Status
from shopops.celery import app

from .concurrency_support import wait_until
from .factories import OrderFactory, RefundFactory
from .sms_provider import TOKEN, start_provider, stop_provider

BASE_DIR = Path(__file__).resolve().parent.parent
CLAIM_SECONDS = 3

pytestmark = [pytest.mark.redis, pytest.mark.postgres]


def _database_url() -> str:
    db = connection.settings_dict
    auth = db["USER"] + (f":{db['PASSWORD']}" if db["PASSWORD"] else "")
    return f"postgres://{auth}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def _start_worker(name: str, sms_url: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "REDIS_URL": django_settings.REDIS_URL,
        "SECRET_KEY": "worker-crash-test-only",
        "SMS_URL": sms_url,
        "SMS_TOKEN": TOKEN,
        "SMS_TIMEOUT": "120",
        "SHOPOPS_NOTIFICATION_CLAIM_SECONDS": str(CLAIM_SECONDS),
        "CONN_MAX_AGE": "0",
    }
    command = [sys.executable, "-m", "celery", "-A", "shopops", "worker", "--pool=solo", "--concurrency=1"]
    command += ["--loglevel=WARNING", "--without-gossip", "--without-mingle", "--without-heartbeat"]
    command += [f"--hostname={name}@%h"]
    return subprocess.Popen(command, cwd=BASE_DIR, env=env, start_new_session=True)


def _stop(worker: subprocess.Popen) -> None:
    if worker.poll() is None:
        worker.send_signal(signal.SIGTERM)
        try:
            worker.wait(15)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(5)


def _forget_unacked_delivery(notification_id: int) -> None:
    """The killed worker's message stays "unacked" in Redis until the visibility timeout (hours):
    drop it, so that it is not redelivered into some later test run's database."""
    client = redis.Redis.from_url(django_settings.REDIS_URL)
    for tag, raw in client.hgetall("unacked").items():
        message = json.loads(raw)[0]
        headers = message.get("headers", {})
        if (
            headers.get("task") == "orders.deliver_notification"
            and headers.get("argsrepr") == f"({notification_id},)"
        ):
            client.hdel("unacked", tag)
            client.zrem("unacked_index", tag)


@pytest.mark.timeout(180)
def test_worker_killed_mid_delivery_the_sms_arrives_exactly_once(transactional_db):
    # given: a refund about to be confirmed for a buyer with a phone only, a provider that
    # accepts the message and then takes a minute to answer, and a real worker process
    provider = start_provider(delay=60)
    order = OrderFactory(status=Status.REFUND_PENDING, close_reason="buyer_cancelled", buyer_email="")
    RefundFactory(order=order, amount=Decimal("42.50"), idempotency_key=f"refund-{order.pk}")
    app.control.purge()
    first = _start_worker("crash-1", provider.url)
    second = None
    note = None
    try:
        # when: the refund is confirmed and the worker is killed while the provider holds the request
        workflow.confirm_refund(order, by=None, reference="AE-RF-2001")
        note = Notification.objects.get(order=order)
        provider.wait_for_requests(1, timeout=60)
        note.refresh_from_db()
        assert note.status == NotificationStatus.SENDING
        os.kill(first.pid, signal.SIGKILL)
        first.wait(10)
        provider.delay = 0

        # and: another worker is up, the claim expires, and the relay runs (beat: every minute)
        second = _start_worker("crash-2", provider.url)
        wait_until(
            lambda: timezone.now() > note.claimed_until, seconds=CLAIM_SECONDS + 5, what="the claim to expire"
        )
        relayed = jobs.relay_notifications()
        wait_until(
            lambda: Notification.objects.get(pk=note.pk).status == NotificationStatus.SENT,
            seconds=60,
            what="the second worker to deliver",
        )

        # then: the provider was asked twice with one key, and the buyer got one SMS
        assert relayed == 1
        assert len(provider.requests) == 2
        assert {r.headers["idempotency-key"] for r in provider.requests} == {note.key}
        assert len(provider.delivered) == 1
        assert provider.delivered[note.key]["to"] == order.buyer_phone
        note.refresh_from_db()
        assert note.attempts == 2
        assert note.sent_at is not None
    finally:
        _stop(first)
        if second is not None:
            _stop(second)
        if note is not None:
            _forget_unacked_delivery(note.pk)
        stop_provider(provider)
