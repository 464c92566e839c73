"""Real concurrency in tests: calls run in threads with their own connections (:func:`race`, for
the PostgreSQL tests), and the one way to wait for what another thread writes (:func:`wait_until`).
"""

import threading
import time
from collections.abc import Callable
from typing import Any

from django.db import OperationalError, connection


def wait_until(done: Callable[[], bool], *, seconds: float = 30, what: str = "", every: float = 0.05) -> None:
    """Ask ``done()`` every ``every`` seconds until it is true; fail naming ``what`` after ``seconds``.

    For rows another thread writes (a Celery worker, the live server): on SQLite the test
    database is in memory with a shared cache, where reading a table another connection is
    writing fails at once with "database table is locked" instead of waiting. That counts as not
    yet (a team walk polling the notifications its worker was sending failed on it). PostgreSQL
    never refuses the read.
    """
    deadline = time.monotonic() + seconds
    while not _done_yet(done):
        assert time.monotonic() < deadline, f"still waiting after {seconds:g} s: {what}"
        time.sleep(every)


def _done_yet(done: Callable[[], bool]) -> bool:
    try:
        return done()
    except OperationalError as exc:
        if connection.vendor == "sqlite" and "locked" in str(exc):
            return False
        raise


def race(calls: list[Callable[[], Any]]) -> list[tuple[str, Any]]:
    """Run every call in its own thread (and connection), all released by one barrier."""
    barrier = threading.Barrier(len(calls))
    results: list[tuple[str, Any]] = [("", None)] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=30)
            results[index] = ("ok", call())
        except Exception as exc:  # collected and asserted on by the test
            results[index] = ("error", exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads)
    return results
