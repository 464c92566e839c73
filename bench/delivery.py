"""Benchmark: buyer messages delivered end to end by real Celery workers on Redis and PostgreSQL.

    .venv/bin/python bench/delivery.py
    BENCH_DATABASE_URL=postgres://…/shopops_bench_x BENCH_REDIS_URL=redis://127.0.0.1:6379/9 \\
        BENCH_MESSAGES=2000 .venv/bin/python bench/delivery.py

Recreates and migrates its own database (``shopops_bench_delivery``) and starts, as separate
processes: a loopback SMTP sink (a small SMTP server that counts messages and distinct
Message-IDs), the loopback HTTP SMS provider of the tests (``tests/sms_provider.py``: checks the
token, drops a repeated Idempotency-Key), and ``celery -A shopops worker --pool=prefork -c 2``.
For one worker, then two on the same queue, it records ``BENCH_MESSAGES`` outbox rows (half
emails, half SMS; not yet rendered, as the workflow records them), hands them to Celery as the
workflow does (``outbox.enqueue_many``: one broker message per ``SHOPOPS_NOTIFICATION_BATCH``),
and times until the sinks have received every message; then checks that every row is ``sent``
and that no message arrived twice. Before each measured run the workers deliver a warm-up batch.

Prints messages/s, the SQL transactions per message (PostgreSQL's own counters for the
database, ``pg_stat_database.xact_commit + xact_rollback``: in autocommit every statement is
one) and the PostgreSQL sessions opened during the run. Target (issue 16): ≥ 600 messages/s
with one worker, ≤ 2 queries per message, more with a second worker. Redis: the given DB is
flushed.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
import socketserver
import subprocess
import sys
import time
from email.parser import BytesHeaderParser
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.support import recreate_database, server_connection  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shopops_bench_delivery"
)
REDIS_URL = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/15")
MESSAGES = int(os.environ.get("BENCH_MESSAGES", "2000"))
WARM_UP = 200
CONCURRENCY = 2
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ["REDIS_URL"] = REDIS_URL
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ["DJANGO_SETTINGS_MODULE"] = "shopops.settings"


# --- the sinks (child processes, started before Django is set up) --------------------------------


class _SmtpHandler(socketserver.StreamRequestHandler):
    """Just enough SMTP for smtplib: a session may carry any number of messages."""

    def handle(self) -> None:
        counters = self.server.counters
        self.wfile.write(b"220 sink ESMTP\r\n")
        while line := self.rfile.readline():
            verb = line[:4].upper()
            if verb == b"EHLO":
                self.wfile.write(b"250-sink\r\n250-8BITMIME\r\n250 SMTPUTF8\r\n")
            elif verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                self.wfile.flush()
                head, in_head = [], True
                while (data := self.rfile.readline()) not in (b".\r\n", b""):
                    in_head = in_head and data != b"\r\n"
                    if in_head:
                        head.append(data)
                # The Message-ID may be folded onto a second line: let the email parser read it.
                message_id = BytesHeaderParser().parsebytes(b"".join(head)).get("Message-ID", "")
                with counters["lock"]:
                    counters["messages"].value += 1
                    if message_id in self.server.seen:
                        counters["repeats"].value += 1
                    self.server.seen.add(message_id)
                self.wfile.write(b"250 queued\r\n")
            elif verb == b"QUIT":
                self.wfile.write(b"221 bye\r\n")
                return
            else:  # HELO, MAIL, RCPT, RSET, NOOP
                self.wfile.write(b"250 ok\r\n")
            self.wfile.flush()


def _smtp_sink(port, counters) -> None:
    socketserver.ThreadingTCPServer.allow_reuse_address = True
    socketserver.ThreadingTCPServer.request_queue_size = 128  # every worker thread connects at once
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _SmtpHandler)
    server.daemon_threads = True
    server.counters, server.seen = counters, set()
    port.value = server.server_address[1]
    server.serve_forever(poll_interval=0.05)


def _sms_sink(port, counters) -> None:
    from http.server import ThreadingHTTPServer

    from tests.sms_provider import start_provider

    ThreadingHTTPServer.request_queue_size = 128  # (this child process only) many senders at once
    provider = start_provider()
    port.value = provider.server.server_address[1]
    while True:
        counters["messages"].value = len(provider.delivered)
        counters["repeats"].value = len(provider.requests) - len(provider.delivered)
        time.sleep(0.005)


def start_sink(target) -> tuple[multiprocessing.Process, int, dict]:
    counters = {
        "messages": multiprocessing.Value("i", 0, lock=False),
        "repeats": multiprocessing.Value("i", 0, lock=False),
        "lock": multiprocessing.Lock(),
    }
    port = multiprocessing.Value("i", 0)
    process = multiprocessing.Process(target=target, args=(port, counters), daemon=True)
    process.start()
    while not port.value:
        time.sleep(0.01)
    return process, port.value, counters


# --- database, workers, statistics ---------------------------------------------------------------


def database_counters() -> tuple[int, int]:
    """(transactions, sessions) PostgreSQL counted for the bench database so far."""
    admin, name = server_connection(DATABASE_URL)
    with admin:
        admin.execute("SELECT pg_stat_clear_snapshot()")
        row = admin.execute(
            "SELECT xact_commit + xact_rollback, sessions FROM pg_stat_database WHERE datname = %s", [name]
        ).fetchone()
    return int(row[0]), int(row[1])


def start_worker(name: str, smtp_port: int, sms_port: int) -> subprocess.Popen:
    from tests.sms_provider import TOKEN as SMS_TOKEN

    env = {
        **os.environ,
        "EMAIL_URL": f"smtp://127.0.0.1:{smtp_port}",
        "SMS_URL": f"http://127.0.0.1:{sms_port}/v1/messages",
        "SMS_TOKEN": SMS_TOKEN,  # the loopback provider's
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "celery", "-A", "shopops", "worker", "--pool=prefork"]
    command += [f"--concurrency={CONCURRENCY}", "--loglevel=WARNING", f"--hostname={name}@%h"]
    command += ["--without-gossip", "--without-mingle", "--without-heartbeat"]
    return subprocess.Popen(command, cwd=BASE_DIR, env=env, start_new_session=True, stdout=subprocess.DEVNULL)


def wait_for_workers(count: int) -> None:
    from shopops.celery import app

    deadline = time.monotonic() + 60
    while len(app.control.ping(timeout=0.5) or []) < count:
        if time.monotonic() > deadline:
            raise SystemExit("the workers did not answer a ping within 60 s")


def stop_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.send_signal(signal.SIGTERM)
    for worker in workers:
        try:
            worker.wait(30)
        except subprocess.TimeoutExpired:
            worker.kill()
            worker.wait(5)


def record_messages(run: str, count: int) -> list[int]:
    """``count`` outbox rows, half emails and half SMS, as the workflow records a payment reminder."""
    from orders.models import Notification, NotificationChannel, NotificationTemplate

    rows = []
    for i in range(count):
        channel = NotificationChannel.EMAIL if i % 2 == 0 else NotificationChannel.SMS
        rows.append(
            Notification(
                key=f"bench:{run}:{i}:{channel}",
                template=NotificationTemplate.PAYMENT_REMINDER,
                channel=channel,
                recipient=f"buyer{i}@example.com" if i % 2 == 0 else f"+3460{i:07d}",
                language="zh-hans" if i % 4 < 2 else "en",
                context={
                    "order_id": f"80{i:014d}",
                    "buyer_name": f"Buyer {i}",
                    "product_title": "Phone case",
                    "amount": "12.50",
                    "currency": "USD",
                },
            )
        )
    return [n.pk for n in Notification.objects.bulk_create(rows, batch_size=1000)]


def wait_for(sinks: list[dict], total: int, timeout: float = 300.0) -> None:
    deadline = time.monotonic() + timeout
    while sum(s["messages"].value for s in sinks) < total:
        if time.monotonic() > deadline:
            got = sum(s["messages"].value for s in sinks)
            raise SystemExit(f"only {got} of {total} messages arrived within {timeout:.0f} s")
        time.sleep(0.002)


def measure(workers: int, smtp: dict, sms: dict, ports: tuple[int, int]) -> dict:
    from django.db import connection

    from orders.models import Notification, NotificationStatus
    from orders.workflow import outbox
    from shopops.celery import app

    app.control.purge()
    procs = [start_worker(f"bench{n}-{workers}", *ports) for n in range(workers)]
    try:
        wait_for_workers(workers)
        sinks = [smtp, sms]
        warm = record_messages(f"warm{workers}", WARM_UP * workers)
        base = sum(s["messages"].value for s in sinks)
        outbox.enqueue_many(warm)
        wait_for(sinks, base + len(warm))
        ids = record_messages(f"run{workers}", MESSAGES)
        connection.close()  # this process's own statements stay out of the window
        time.sleep(1.2)  # PostgreSQL publishes a backend's counters at most once a second
        xacts, sessions = database_counters()
        base = sum(s["messages"].value for s in sinks)
        started = time.perf_counter()
        outbox.enqueue_many(ids)
        wait_for(sinks, base + MESSAGES)
        elapsed = time.perf_counter() - started
    finally:
        stop_workers(procs)
    time.sleep(1.2)
    xacts_after, sessions_after = database_counters()
    sent = Notification.objects.filter(pk__in=ids, status=NotificationStatus.SENT).count()
    return {
        "workers": workers,
        "seconds": elapsed,
        "rate": MESSAGES / elapsed,
        "queries": (xacts_after - xacts) / MESSAGES,
        "sessions": sessions_after - sessions,
        "sent": sent,
        "repeats": (smtp["repeats"].value, sms["repeats"].value),
    }


def main() -> None:
    smtp_process, smtp_port, smtp = start_sink(_smtp_sink)
    sms_process, sms_port, sms = start_sink(_sms_sink)
    recreate_database(DATABASE_URL)

    import django
    import redis

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    redis.Redis.from_url(REDIS_URL).flushdb()
    load = os.getloadavg()
    batch = settings.SHOPOPS_NOTIFICATION_BATCH
    threads = settings.SHOPOPS_DELIVERY_THREADS
    print(f"delivery bench: {MESSAGES} messages (half email, half SMS), batch {batch}, {threads} threads")
    print(f"  load average before: {load[0]:.2f} {load[1]:.2f} {load[2]:.2f}, {os.cpu_count()} CPUs")
    heads = ("workers", "x procs", "seconds", "msg/s", "SQL/msg", "sessions")
    print("  " + " ".join(f"{h:>8}" for h in heads) + f" {'sent':>6}")
    for workers in (1, 2):
        r = measure(workers, smtp, sms, (smtp_port, sms_port))
        print(
            f"  {r['workers']:>8} {CONCURRENCY:>8} {r['seconds']:>8.2f} {r['rate']:>8.0f} "
            f"{r['queries']:>8.2f} {r['sessions']:>8} {r['sent']:>6}"
        )
        if r["sent"] != MESSAGES or any(r["repeats"]):
            raise SystemExit(f"not exactly once: {r['sent']} sent of {MESSAGES}, {r['repeats']} repeat(s)")
    print("  (SQL/msg: PostgreSQL transactions on the bench database per message, all statements")
    print("   autocommit; sessions: PostgreSQL sessions opened during the measured run)")
    smtp_process.terminate()
    sms_process.terminate()
    redis.Redis.from_url(REDIS_URL).flushdb()


if __name__ == "__main__":
    main()
