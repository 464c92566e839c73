"""Benchmark of the AliExpress pull: one pass over 10,000 changed orders, pages of 50, through the fake.

    .venv/bin/python bench/platform_sync.py [--orders 10000]

Creates the database ``shopops_bench_platform`` (or ``BENCH_DB_NAME``) anew on the server of
``BENCH_PG_URL`` (default ``postgres://postgres@127.0.0.1:5432``), migrates it, starts the fake
gateways in a child process (``python -m orders.platforms.fake``) and gives them N orders of one
seller, changed five minutes ago. With production settings (DEBUG off), it then runs
``orders.platforms.sync.run_pass`` for the connected default store, three times:

(a) the N orders are new: checked by the import's rules and written (COPY), one event each;
(b) the same orders again, none changed since (the next pass's overlap): recognised unchanged;
(c) each of the N orders changed on the platform (its buyer's name): N updates, one ``imported``
    event each with the old and new value.

For each it prints the wall time, the time spent waiting for the fake's answers (its own work:
JSON, paging, HTTP), Shopops' own time (wall − waiting: the client's parsing, the import's rules,
the database) and its orders/s, this process's CPU seconds, and its RSS after every 50 pages:
flat in the number of pages. On a loaded machine the fake, PostgreSQL and the pass share the
two cores, and time moves between "waiting" and "own": compare runs at the same load.
``BENCH_PROFILE=a|b|c`` profiles a pass (``BENCH_SORT``: the pstats order), ``BENCH_SQL=a|b|c``
prints its statements by time. Target: ≥ 1,000 orders/s of Shopops' own work; RSS growth from
page 50 to the last page ≤ 20 MB.
"""

from __future__ import annotations

import argparse
import contextlib
import cProfile
import json
import os
import pstats
import secrets
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.support import recreate_database  # noqa: E402

PG = os.environ.get("BENCH_PG_URL", "postgres://postgres@127.0.0.1:5432")
DB_NAME = os.environ.get("BENCH_DB_NAME", "shopops_bench_platform")
os.environ.update(
    DATABASE_URL=f"{PG}/{DB_NAME}",
    DEBUG="0",
    SECRET_KEY=secrets.token_urlsafe(50),
    SHOPOPS_SECRETS_KEY=secrets.token_urlsafe(48),
    ALLOWED_HOSTS="localhost",
    DJANGO_SETTINGS_MODULE="shopops.settings",
    LOG_LEVEL="WARNING",
)
os.environ.pop("REDIS_URL", None)

import django  # noqa: E402
import psutil  # noqa: E402

APP_KEY, SECRET, TOKEN = "bench-app", "bench-secret-0001", "bench-token"
FIRST_ID = 8100000000000000


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def command(port: int, name: str, body: dict) -> dict:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/_fake/{name}", data=json.dumps(body).encode(), method="POST"
    )
    with urllib.request.urlopen(request, timeout=600) as answer:  # noqa: S310 (loopback)
        return json.loads(answer.read())


def start_fake(port: int) -> subprocess.Popen:
    fake = subprocess.Popen(
        [sys.executable, "-m", "orders.platforms.fake", "--port", str(port)],
        cwd=BASE_DIR,
        stdout=subprocess.PIPE,
    )
    fake.stdout.readline()  # "fake gateways: …" once it listens
    return fake


def measure(label: str, store, count: int, page_size: int) -> None:
    from django.db import connection

    from orders.platforms import sync
    from orders.platforms.common import Limits, Transport

    process = psutil.Process()
    samples: list[tuple[int, float]] = []
    original = sync.Pass.apply_page

    def sampled(self, got, following):
        original(self, got, following)
        pages = self.counts["pages"]
        if pages == 1 or pages % 50 == 0:
            samples.append((pages, process.memory_info().rss / 1e6))

    sync.Pass.apply_page = sampled
    transport = Transport(Limits(timeout=60, retries=0, backoff=0, max_bytes=50 * 1024 * 1024))
    profiler = cProfile.Profile() if os.environ.get("BENCH_PROFILE") == label[0] else None
    timings: dict[str, list[float]] = {}

    def timed(execute, sql, params, many, context):
        began = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            timings.setdefault(" ".join(sql.split())[:70], []).append(time.perf_counter() - began)

    wrapper = (
        connection.execute_wrapper(timed)
        if os.environ.get("BENCH_SQL") == label[0]
        else contextlib.nullcontext()
    )
    started, cpu = time.perf_counter(), time.process_time()
    try:
        wrapper.__enter__()
        if profiler is not None:
            profiler.enable()
        report = sync.run_pass(store, transport=transport)
    finally:
        if profiler is not None:
            profiler.disable()
            pstats.Stats(profiler).sort_stats(os.environ.get("BENCH_SORT", "cumulative")).print_stats(35)
        sync.Pass.apply_page = original
        wrapper.__exit__(None, None, None)
    for sql, spent in sorted(timings.items(), key=lambda item: -sum(item[1]))[:15]:
        print(f"    {sum(spent):6.2f} s {len(spent):6d}x  {sql}")
    wall, cpu = time.perf_counter() - started, time.process_time() - cpu
    own = wall - transport.waited
    assert report.ok, report.error
    c = report.counts
    done = {"new": c["new"], "updated": c["updated"], "unchanged": c["unchanged"]}
    print(
        f"\n({label}) {c['orders']} orders in {c['pages']} pages of {page_size}: {done}, "
        f"problems {c['problems']}"
    )
    print(
        f"    wall {wall:6.2f} s   waiting for the fake {transport.waited:6.2f} s   "
        f"Shopops' own {own:6.2f} s = {c['orders'] / own:7.0f} orders/s  (target ≥ 1,000); "
        f"this process's CPU {cpu:5.2f} s"
    )
    rss = "  ".join(f"p{pages}: {mb:.0f} MB" for pages, mb in samples)
    growth = samples[-1][1] - samples[min(1, len(samples) - 1)][1]
    print(f"    RSS after pages  {rss}   growth after page 50: {growth:+.1f} MB  (target ≤ 20)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=10_000)
    options = parser.parse_args()
    print(
        f"load average: {' / '.join(f'{x:.2f}' for x in os.getloadavg())}, {options.orders} orders, "
        f"PostgreSQL {DB_NAME}"
    )
    recreate_database(os.environ["DATABASE_URL"])
    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    from orders.models import Order, Store
    from orders.models.store import DEFAULT_CODE
    from orders.workflow import stores

    call_command("migrate", verbosity=0)
    port = free_port()
    fake = start_fake(port)
    try:
        settings.SHOPOPS_AE_GATEWAY = f"http://127.0.0.1:{port}/sync"
        settings.SHOPOPS_SYNC_PAGE_SIZE = 50
        command(port, "aliexpress/seller", {"app_key": APP_KEY, "secret": SECRET, "token": TOKEN})
        changed = (datetime.now(UTC) - timedelta(minutes=5)).isoformat()
        command(
            port,
            "aliexpress/generate",
            {"token": TOKEN, "count": options.orders, "first_id": FIRST_ID, "modified_at": changed},
        )
        store = Store.objects.get(code=DEFAULT_CODE)
        stores.connect_store(
            store, by=None, platform="aliexpress", app_key=APP_KEY, app_secret=SECRET, access_token=TOKEN
        )
        measure("a: new", store, options.orders, 50)
        assert Order.objects.count() == options.orders
        measure("b: the same again, unchanged", store, options.orders, 50)
        changed = (datetime.now(UTC) - timedelta(minutes=2)).isoformat()
        orders = []
        for n in range(options.orders):
            from orders.platforms.fake import fake_order

            orders.append(
                fake_order(
                    str(FIRST_ID + n), buyer=f"Buyer {n} renamed", modified=datetime.fromisoformat(changed)
                )
            )
            if len(orders) == 1000:
                command(port, "aliexpress/orders", {"token": TOKEN, "orders": orders})
                orders = []
        if orders:
            command(port, "aliexpress/orders", {"token": TOKEN, "orders": orders})
        measure("c: every order changed", store, options.orders, 50)
    finally:
        fake.terminate()
        fake.wait()


if __name__ == "__main__":
    main()
