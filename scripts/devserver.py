"""Run the web server, a Celery worker, Celery beat and the fake platform gateways together; stop
all of them on Ctrl-C.

The fake (``orders/platforms/fake.py``, on ``SHOPOPS_FAKE_PORT``, default 8765) knows the demo
stores' credentials (``seed_demo`` connects them) and keeps new AliExpress orders coming, so the
platform sync shows orders arriving without any real credentials. The three others are pointed at
it (``SHOPOPS_AE_GATEWAY``, ``SHOPOPS_1688_GATEWAY``) unless those are set already;
``SHOPOPS_FAKE_PLATFORMS=0`` leaves the fake out.

`make run` prepares the database first and then hands over to this script. Each process gets
its own process group, so Ctrl-C (or SIGTERM) reaches it once, through us, as a SIGINT to the
whole group (runserver's autoreloader child, the worker's pool): a second SIGINT would make Celery
skip its warm shutdown. When any of the three exits, the others are stopped too.
"""

import contextlib
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
BIN_DIR = Path(sys.executable).parent
STOP_GRACE_SECONDS = 15


def commands(address: str, fake_port: int | None = None) -> dict[str, list[str]]:
    celery = str(BIN_DIR / "celery")
    found = {
        "web": [sys.executable, "manage.py", "runserver", address],
        "worker": [celery, "-A", "shopops", "worker", "--concurrency", "2", "--loglevel", "INFO"],
        "beat": [celery, "-A", "shopops", "beat", "--loglevel", "INFO"],
    }
    if fake_port is not None:
        found["fake"] = [sys.executable, "-m", "orders.platforms.fake", "--port", str(fake_port), "--demo"]
    return found


def fake_environment(fake_port: int) -> dict[str, str]:
    """The environment of the processes when the fake runs: the gateways are the fake's, unless set."""
    environment = dict(os.environ)
    environment.setdefault("SHOPOPS_AE_GATEWAY", f"http://127.0.0.1:{fake_port}/sync")
    environment.setdefault("SHOPOPS_1688_GATEWAY", f"http://127.0.0.1:{fake_port}/openapi/")
    return environment


def signal_all(processes: dict[str, subprocess.Popen], signum: int) -> None:
    for process in processes.values():
        if process.poll() is None:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, signum)


def main() -> int:
    address = os.environ.get("SHOPOPS_ADDRESS", "127.0.0.1:8000")
    received: list[int] = []

    def on_signal(signum: int, frame: object) -> None:
        received.append(signum)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)

    fake_port = (
        None
        if os.environ.get("SHOPOPS_FAKE_PLATFORMS") == "0"
        else int(os.environ.get("SHOPOPS_FAKE_PORT", "8765"))
    )
    environment = fake_environment(fake_port) if fake_port is not None else None
    processes = {
        name: subprocess.Popen(argv, cwd=BASE_DIR, start_new_session=True, env=environment)
        for name, argv in commands(address, fake_port).items()
    }
    fake = f", fake platforms on 127.0.0.1:{fake_port}" if fake_port is not None else ""
    print(
        f"devserver: http://{address}/admin/ with worker and beat{fake} (another address: SHOPOPS_ADDRESS);"
        " Ctrl-C stops all.",
        flush=True,
    )

    exit_code = 0
    while not received:
        dead = {name: p.returncode for name, p in processes.items() if p.poll() is not None}
        if dead:
            print(f"devserver: {', '.join(dead)} exited ({dead}); stopping the others.", flush=True)
            exit_code = 1
            break
        time.sleep(0.2)

    # SIGINT to each group is exactly what Ctrl-C in a terminal does, and all three stop
    # gracefully on it; SIGTERM to a group would kill Celery's pool children under it.
    signal_all(processes, signal.SIGINT)
    deadline = time.monotonic() + STOP_GRACE_SECONDS
    while time.monotonic() < deadline and any(p.poll() is None for p in processes.values()):
        time.sleep(0.2)
    stragglers = [name for name, p in processes.items() if p.poll() is None]
    if stragglers:
        print(f"devserver: {', '.join(stragglers)} did not stop in time; killing.", flush=True)
        signal_all(processes, signal.SIGKILL)
        for process in processes.values():
            process.wait()
        exit_code = 1
    print("devserver: all processes stopped.", flush=True)
    return exit_code


if __name__ == "__main__":
    sys.exit(main())
