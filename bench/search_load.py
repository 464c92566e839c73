"""Load of the order list's buyer search: concurrent users against gunicorn on loopback.

    .venv/bin/python bench/search_load.py [--users 8] [--workers 2] [--requests 600] [--seconds 60]

Uses the database ``bench/admin_pages.py`` loads (run it first; ``BENCH_DB_NAME`` names another
one, as there). Starts ``gunicorn shopops.wsgi`` with ``--workers`` sync workers on a free
loopback port (production settings: DEBUG off, plain HTTP), logs a Supervisor in through a
database session, then ``--users`` threads, each with its own keep-alive connection, ask the
order list for ``?q=Buyer <n>`` (a random buyer of the 50,000 the bench loads, part of ~20
orders' names and a prefix of others) one after the other until ``--requests`` answers in all
or ``--seconds`` have passed, whichever comes first. Prints requests per second, p50 / p95 /
max latency and the errors. Target (issue 16): ≥ 30 req/s with 8 users and 2 workers.

``--path`` measures another page the same way, e.g. ``--path /admin/orders/order/`` (the list).
"""

from __future__ import annotations

import argparse
import http.client
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import quote

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR / "bench"))

import admin_pages  # noqa: E402  (sets the bench database's environment before Django starts)

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def session_cookie() -> str:
    """A logged-in Supervisor's session id, stored in the database gunicorn reads."""
    import django

    django.setup()
    from django.contrib.auth.models import Group, User
    from django.test import Client

    user, _ = User.objects.get_or_create(username="bench-supervisor", defaults={"is_staff": True})
    user.groups.set([Group.objects.get(name="Supervisor")])
    client = Client()
    client.force_login(user)
    return client.cookies["sessionid"].value


def start_gunicorn(port: int, workers: int) -> subprocess.Popen:
    env = {**os.environ, "ALLOWED_HOSTS": HOST}
    server = subprocess.Popen(
        [
            str(BASE_DIR / ".venv/bin/gunicorn"),
            "shopops.wsgi",
            f"--workers={workers}",
            f"--bind={HOST}:{port}",
            "--log-level=warning",
        ],
        cwd=BASE_DIR,
        env=env,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            socket.create_connection((HOST, port), timeout=1).close()
            return server
        except OSError:
            if server.poll() is not None:
                sys.exit(f"gunicorn exited with {server.returncode}")
            time.sleep(0.2)
    server.terminate()
    sys.exit("gunicorn did not listen within 30 s")


class Load:
    """Shared budget and results of the users' threads."""

    def __init__(self, requests: int, seconds: float) -> None:
        self.left = requests
        self.until = time.monotonic() + seconds
        self.lock = threading.Lock()
        self.timings: list[float] = []
        self.errors: list[str] = []

    def take(self) -> bool:
        with self.lock:
            if self.left <= 0 or time.monotonic() >= self.until:
                return False
            self.left -= 1
            return True


def user(load: Load, port: int, cookie: str, path: str | None, seed: int) -> None:
    rng = random.Random(seed)
    conn = http.client.HTTPConnection(HOST, port, timeout=60)
    headers = {"Cookie": f"sessionid={cookie}", "Connection": "keep-alive"}
    while load.take():
        url = path or f"/admin/orders/order/?q={quote(f'Buyer {rng.randrange(50_000)}')}"
        started = time.perf_counter()
        try:
            conn.request("GET", url, headers=headers)
            response = conn.getresponse()
            body = response.read()
            ok = response.status == 200 and b'id="result_list"' in body
            error = None if ok else f"{response.status} {url}"
        except (OSError, http.client.HTTPException) as exc:
            error = f"{type(exc).__name__}: {exc}"
            conn.close()
            conn = http.client.HTTPConnection(HOST, port, timeout=60)
        elapsed = (time.perf_counter() - started) * 1000
        with load.lock:
            if error:
                load.errors.append(error)
            else:
                load.timings.append(elapsed)
    conn.close()


def run(port: int, cookie: str, users: int, requests: int, seconds: float, path: str | None) -> Load:
    load = Load(requests, seconds)
    threads = [threading.Thread(target=user, args=(load, port, cookie, path, k)) for k in range(users)]
    started = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    load.elapsed = time.perf_counter() - started
    return load


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--users", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--requests", type=int, default=600, help="answers in all, at most")
    parser.add_argument("--seconds", type=float, default=60, help="duration, at most")
    parser.add_argument("--path", help="a fixed page instead of the buyer search")
    args = parser.parse_args()

    cookie = session_cookie()
    port = free_port()
    server = start_gunicorn(port, args.workers)
    try:
        run(port, cookie, args.users, args.users * 3, 30, args.path)  # warm the workers
        load = run(port, cookie, args.users, args.requests, args.seconds, args.path)
    finally:
        server.terminate()
        server.wait(timeout=30)

    what = args.path or "/admin/orders/order/?q=Buyer <n>"
    print(f"\n{what}: {args.users} users, gunicorn {args.workers} workers, {os.environ['DATABASE_URL']}")
    done = len(load.timings)
    rate = done / load.elapsed
    print(f"{done} answers in {load.elapsed:.1f} s: {rate:.1f} req/s  (target ≥ 30)")
    if done >= 2:
        print(
            f"latency p50 {statistics.median(load.timings):.0f} ms, "
            f"p95 {admin_pages.p95(load.timings):.0f} ms, max {max(load.timings):.0f} ms"
        )
    print(f"errors: {len(load.errors)}" + (f" (first: {load.errors[0]})" if load.errors else ""))
    print(f"load average: {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sys.exit(1 if load.errors or rate < 30 else 0)


if __name__ == "__main__":
    main()
