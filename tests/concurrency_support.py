"""Real concurrency for the PostgreSQL tests: calls run in threads with their own connections."""

import threading
from collections.abc import Callable
from typing import Any

from django.db import connection


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
