"""Benchmark: one pass of each periodic job over 1,000, 10,000 and 100,000 due items on PostgreSQL.

    .venv/bin/python bench/periodic_jobs.py            # BENCH_DATABASE_URL to use another server
    BENCH_SIZES=1000,10000 .venv/bin/python bench/periodic_jobs.py

Recreates and migrates its own database (``shopops_bench_jobs``), then for each size creates the
due items with bulk inserts and calls the pass functions of ``orders.jobs`` directly, in this
process, as a worker would: payment reminders, payment-timeout closes, the supplier chase, the
overdue digest and the refund-arrival check. Prints seconds per pass, items per second,
milliseconds per item (which must stay flat from 1,000 to 100,000 items), this process's CPU
milliseconds per item (Python's share, less sensitive to other load than the wall clock), SQL
queries and batches (the queries must grow with the batches, ``orders.jobs.JOB_BATCH`` items
each, not with the items), then each pass again with nothing due. Messages are published to a throw-away
filesystem broker: the publish after commit (one message per delivery batch) is part of the
measured cost, delivery is not. Target (issue 16): ≥ 2,000 items/s at 10,000 items per job.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from collections import deque
from datetime import timedelta
from decimal import Decimal
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.support import recreate_database  # noqa: E402

DATABASE_URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shopops_bench_jobs")
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.pop("REDIS_URL", None)  # no worker: publish to a private filesystem broker
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ["DJANGO_SETTINGS_MODULE"] = "shopops.settings"
SIZES = [int(n) for n in os.environ.get("BENCH_SIZES", "1000,10000,100000").split(",")]


def main() -> None:
    recreate_database(DATABASE_URL)
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from django.utils import timezone

    from orders import jobs
    from orders.models import (
        Notification,
        NotificationStatus,
        Order,
        Refund,
        RefundDirection,
        Sku,
        Status,
        Store,
        SupplierOrder,
    )
    from orders.models.store import DEFAULT_CODE

    call_command("migrate", verbosity=0)
    broker = Path(tempfile.mkdtemp(prefix="bench-broker-"))
    for sub in ("queue", "control", "results"):
        (broker / sub).mkdir()
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "data_folder_in": str(broker / "queue"),
        "data_folder_out": str(broker / "queue"),
        "control_folder": str(broker / "control"),
    }
    settings.CELERY_RESULT_BACKEND = f"file://{broker / 'results'}"
    settings.EMAIL_BACKEND = "django.core.mail.backends.dummy.EmailBackend"
    settings.SHOPOPS_SUPERVISOR_EMAILS = ["lead@bench.example", "boss@bench.example"]
    import logging

    logging.disable(logging.WARNING)  # one log line per item would be measured too
    sku = Sku.objects.create(code="BENCH-1", title="Benchmark item")
    store = Store.objects.get_or_create(code=DEFAULT_CODE, defaults={"name": "Main store"})[0]
    serial = iter(range(10**9))

    def unpaid_orders(n: int, hours_ago: float) -> None:
        placed = timezone.now() - timedelta(hours=hours_ago)
        Order.objects.bulk_create(
            [
                Order(
                    platform_order_id=f"B{next(serial):012d}",
                    store=store,
                    buyer_name="Bench Buyer",
                    buyer_email=f"buyer{i}@bench.example",
                    buyer_phone="+34600000001",
                    buyer_language="zh-hans" if i % 3 == 0 else "en",
                    sku=sku,
                    total_amount=Decimal("19.90"),
                    placed_at=placed,
                )
                for i in range(n)
            ],
            batch_size=2000,
        )

    def supplier_refunds(
        n: int, *, respond_in: timedelta = timedelta(days=1), asked: timedelta = timedelta(hours=48)
    ) -> None:
        now = timezone.now()
        orders = Order.objects.bulk_create(
            [
                Order(
                    platform_order_id=f"B{next(serial):012d}",
                    store=store,
                    status=Status.SUPPLIER_REFUND_PENDING,
                    close_reason="quality_issue",
                    buyer_name="Bench Buyer",
                    sku=sku,
                    total_amount=Decimal("19.90"),
                    placed_at=now - timedelta(days=10),
                )
                for _ in range(n)
            ],
            batch_size=2000,
        )
        SupplierOrder.objects.bulk_create(
            [
                SupplierOrder(
                    order=o,
                    supplier_name="义乌市晨光饰品厂",
                    supplier_contact="chenguang@bench.example",
                    supplier_order_id=f"30{o.pk:014d}",
                    amount=Decimal("80.00"),
                )
                for o in orders
            ],
            batch_size=2000,
        )
        Refund.objects.bulk_create(
            [
                Refund(
                    order=o,
                    direction=RefundDirection.FROM_SUPPLIER,
                    amount=Decimal("80.00"),
                    currency="CNY",
                    reason="质量问题",
                    reference=f"TK{o.pk}",
                    idempotency_key=f"bench-{o.pk}",
                    requested_at=now - asked,
                    respond_by=now + respond_in,
                )
                for o in orders
            ],
            batch_size=2000,
        )

    def measure(label: str, run, items: int, *, batched: bool = True) -> None:
        # The default query log keeps 9,000 entries; keep them all.
        connection.queries_log = deque(maxlen=10_000_000)
        with CaptureQueriesContext(connection) as queries:
            started, cpu_started = time.perf_counter(), time.process_time()
            result = run()
            seconds, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        count = len(queries)
        batches = -(-items // jobs.JOB_BATCH) if batched else (1 if items else 0)
        rate = f"{items / seconds:8.0f}" if items else "       -"
        ms_item = f"{1000 * seconds / items:7.3f}" if items else "      -"
        cpu_item = f"{1000 * cpu / items:7.3f}" if items else "      -"
        per_batch = f"{count / batches:7.1f}" if batches else "      -"
        figures = f"{items:>7} {seconds:8.2f} {rate} {ms_item} {cpu_item} {count:>7} {batches:>7} {per_batch}"
        print(f"{label:<24} {figures}   {result}")
        connection.queries_log = deque(maxlen=9000)

    print(f"PostgreSQL {connection.pg_version}, database {connection.settings_dict['NAME']}")
    print(f"batch size (orders.jobs.JOB_BATCH): {jobs.JOB_BATCH}; load average before: {os.getloadavg()}")
    header = f"{'pass':<24} {'items':>7} {'seconds':>8} {'items/s':>8} {'ms/item':>7} {'cpu ms':>7}"
    print(f"{header} {'queries':>7} {'batches':>7} {'q/batch':>7}   result")
    reminder_hours = settings.SHOPOPS_PAYMENT_REMINDER_HOURS
    for n in SIZES:
        # orders past the reminder delay but not the timeout, then orders past the timeout
        unpaid_orders(n, hours_ago=reminder_hours + 1)
        measure("payment reminders", lambda: jobs.send_payment_reminders().as_dict(), n)
        unpaid_orders(n, hours_ago=settings.SHOPOPS_PAYMENT_TIMEOUT_HOURS + 1)
        measure("payment timeout closes", lambda: jobs.close_timed_out_orders().as_dict(), n)
        supplier_refunds(n)
        measure("supplier chase", lambda: jobs.chase_supplier_refunds().as_dict(), n)
        # one transaction and one digest per pass (not batched): set-based queries
        supplier_refunds(n, respond_in=-timedelta(hours=1), asked=timedelta(hours=1))  # not due a chase
        measure("overdue digest", lambda: jobs.report_overdue_supplier_refunds().as_dict(), n, batched=False)
        print()
    print(f"load average after: {os.getloadavg()}")

    print("\nNothing due (everything above was just handled):")
    measure("payment reminders", lambda: jobs.send_payment_reminders().as_dict(), 0)
    measure("payment timeout closes", lambda: jobs.close_timed_out_orders().as_dict(), 0)
    measure("supplier chase", lambda: jobs.chase_supplier_refunds().as_dict(), 0)
    measure("overdue digest", lambda: jobs.report_overdue_supplier_refunds().as_dict(), 0)
    measure("refund arrival check", lambda: jobs.check_refund_arrivals(), 0)
    # As if the workers had delivered everything recorded above.
    delivered = Notification.objects.update(status=NotificationStatus.SENT, sent_at=timezone.now())
    measure("outbox relay", lambda: jobs.relay_notifications(), 0)
    print(f"(relay ran over {delivered} delivered outbox rows)")
    print(f"\nOrders: {Order.objects.count()}, refunds: {Refund.objects.count()}")
    shutil.rmtree(broker, ignore_errors=True)


if __name__ == "__main__":
    main()
