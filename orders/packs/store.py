"""Where packs built in the background wait to be downloaded, and how long.

A background pack is a job: ``<token>.json`` (who asked, the target, the orders, the progress)
and, when built, ``<token>.zip``, both in ``SHOPOPS_EVIDENCE_PACK_DIR`` under ``MEDIA_ROOT`` —
private files beside the evidence, which the web server and the workers already share, never
served under a public URL. Each new job deletes the jobs older than
``SHOPOPS_EVIDENCE_PACK_KEEP_HOURS``. Small packs are built in the request and never stored.
"""

from __future__ import annotations

import json
import os
import re
import time
import uuid
from pathlib import Path
from typing import Any

from django.conf import settings

_TOKEN = re.compile(r"^[0-9a-f]{32}$")


def pack_dir() -> Path:
    folder = Path(settings.MEDIA_ROOT) / settings.SHOPOPS_EVIDENCE_PACK_DIR
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def is_token(token: str) -> bool:
    return bool(_TOKEN.match(token or ""))


def zip_path(token: str) -> Path:
    return pack_dir() / f"{token}.zip"


def _job_path(token: str) -> Path:
    return pack_dir() / f"{token}.json"


def _write_json(path: Path, data: dict[str, Any]) -> None:
    # Written aside, then renamed over: a poll never reads half a file.
    part = path.with_suffix(f".{uuid.uuid4().hex}.part")
    part.write_text(json.dumps(data), encoding="utf-8")
    os.replace(part, path)


def new_job(*, user_id: int, target: str, orders: list[int], chosen: list[int] | None) -> str:
    """Record a job to build; return its token (unguessable: the progress page's address)."""
    sweep()
    token = uuid.uuid4().hex
    _write_json(
        _job_path(token),
        {
            "user_id": user_id,
            "target": target,
            "orders": orders,
            "chosen": chosen,
            "state": "queued",
            "done": 0,
            "total": 0,
            "error": "",
            "created": time.time(),
        },
    )
    return token


def read_job(token: str) -> dict[str, Any] | None:
    if not is_token(token):
        return None
    try:
        return json.loads(_job_path(token).read_text(encoding="utf-8"))
    except (FileNotFoundError, ValueError):
        return None


def update_job(token: str, **changes: Any) -> dict[str, Any]:
    job = read_job(token) or {}
    job.update(changes)
    _write_json(_job_path(token), job)
    return job


def sweep(now: float | None = None) -> int:
    """Delete jobs and packs older than the keeping time; return how many files went."""
    limit = (now or time.time()) - settings.SHOPOPS_EVIDENCE_PACK_KEEP_HOURS * 3600
    removed = 0
    for path in pack_dir().iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < limit:
                path.unlink()
                removed += 1
        except FileNotFoundError:  # another process swept it first
            continue
    return removed
