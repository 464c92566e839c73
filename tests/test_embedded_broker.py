"""The embedded broker (``shopops/broker.py``): a worker that looks for a message while it is being
written finds none, instead of an empty file that stops it for good (kombu issue #1551: "Unrecoverable
error: JSONDecodeError", seen here in a test's worker on 2026-12-07)."""

import os
import subprocess
import sys
from pathlib import Path
from queue import Empty

import pytest
from kombu import Connection
from kombu.transport import filesystem

from shopops import broker

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def folders(tmp_path) -> dict[str, str]:
    for sub in ("queue", "control"):
        (tmp_path / sub).mkdir()
    return {
        "data_folder_in": str(tmp_path / "queue"),
        "data_folder_out": str(tmp_path / "queue"),
        "control_folder": str(tmp_path / "control"),
        "store_processed": False,
    }


def test_without_redis_the_settings_name_our_embedded_broker():
    # settings as `make run` reads them (no Redis, no pytest): the broker URL, and its transport
    code = (
        "import django; django.setup()\n"
        "from django.conf import settings\n"
        "from kombu import Connection\n"
        "from kombu.transport import get_transport_cls\n"
        "url = settings.CELERY_BROKER_URL\n"
        "transport = get_transport_cls(Connection(url).transport_cls)\n"
        "print(url, transport.__module__, transport.__name__)\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shopops.settings", "DEBUG": "1"}
    env.pop("REDIS_URL", None)
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == [f"{broker.SCHEME}://", "shopops.broker", "Transport"]


@pytest.mark.parametrize("scheme", [broker.SCHEME, "filesystem"])
def test_a_message_being_written_is_not_taken_by_a_worker(folders, monkeypatch, scheme):
    """``shopops-filesystem`` is ours; ``filesystem`` is kombu's own, which the worker stops on."""
    seen = []
    real_dumps = filesystem.dumps
    # a queue of its own: kombu keeps what was declared per process, not per folder
    name = f"tasks-{scheme}"

    def dumps_while_a_worker_looks(value, *args, **kwargs):
        # the message's file is open for writing: a worker looks at the queue now
        if seen == ["armed"]:
            seen.clear()
            with Connection(f"{scheme}://", transport_options=folders) as worker:
                try:
                    seen.append(worker.SimpleQueue(name).get(block=False).payload)
                except Empty:
                    seen.append("nothing yet")
                except ValueError as exc:  # json's decode error
                    seen.append(f"stopped: {exc}")
        return real_dumps(value, *args, **kwargs)

    monkeypatch.setattr(filesystem, "dumps", dumps_while_a_worker_looks)
    with Connection(f"{scheme}://", transport_options=folders) as web:
        queue = web.SimpleQueue(name)
        seen.append("armed")
        queue.put({"task": "orders.build_evidence_pack", "order": 8100234567})
    monkeypatch.setattr(filesystem, "dumps", real_dumps)

    if scheme == "filesystem":
        assert seen and seen[0].startswith("stopped: Expecting value"), seen  # kombu's own race
        return
    assert seen == ["nothing yet"]
    with Connection(f"{scheme}://", transport_options=folders) as worker:
        message = worker.SimpleQueue(name).get(block=False)
    assert message.payload == {"task": "orders.build_evidence_pack", "order": 8100234567}
