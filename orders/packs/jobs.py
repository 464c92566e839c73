"""A pack built in the background: one order's large pack, or one folder per order of several.

``run_job`` is what the Celery task ``orders.build_evidence_pack`` runs (``orders.tasks``). It
reads the job written by the admin (``store.new_job``), writes the ZIP aside and renames it when
complete, reports its progress in the job after each file, and records each order's history
event only once the whole ZIP is there. Running it again after it is done does nothing.
"""

from __future__ import annotations

import logging
import os
import re
import zipfile
from typing import Any

from django.contrib.auth import get_user_model
from django.utils.translation import gettext as _

from shopops.errors import Refused

from .. import policy
from ..selectors.packs import orders_for_pack
from ..workflow.packs import PACK_PERMISSION
from . import store
from .builder import plan_pack, record_pack, write_pack

logger = logging.getLogger(__name__)


def _folder(platform_order_id: str) -> str:
    return re.sub(r"[^0-9A-Za-z._-]+", "_", platform_order_id).strip("._") or "order"


def folders(platform_order_ids: list[str]) -> list[str]:
    """A folder name per order, safe on any system and unique even where case is not told apart
    (``RT/1`` and ``RT_1`` are ``RT_1`` and ``RT_1-2``); each manifest names its order."""
    taken: set[str] = set()
    names = []
    for platform_order_id in platform_order_ids:
        base = name = _folder(platform_order_id)
        number = 1
        while name.casefold() in taken:
            number += 1
            name = f"{base}-{number}"
        taken.add(name.casefold())
        names.append(name)
    return names


def run_job(token: str) -> dict[str, Any]:
    """Build the pack of job ``token``; return the job as it ends (``state``: done or failed)."""
    job = store.read_job(token)
    if job is None:
        return {"state": "missing"}
    if job["state"] == "done":
        return job
    by = get_user_model().objects.filter(pk=job["user_id"]).first()
    store.update_job(token, state="running")
    part = store.zip_path(token).with_suffix(".zip.part")
    try:
        if by is None:
            raise Refused(_("The user who asked for this pack no longer exists."))
        policy.require(by, PACK_PERMISSION, _("build evidence packs"))
        orders = orders_for_pack(job["orders"], by)
        if not orders:
            raise Refused(_("None of the chosen orders exists any more."))
        several = len(job["orders"]) > 1
        plans = [
            plan_pack(order, job["target"], None if several else job["chosen"], auto_choose=True)
            for order in orders
        ]
        total = sum(len(plan.selected) + 1 for plan in plans)
        done = 0
        store.update_job(token, total=total)

        def tick() -> None:
            nonlocal done
            done += 1
            store.update_job(token, done=done)

        results = []
        names = folders([plan.order.platform_order_id for plan in plans]) if several else [""]
        with zipfile.ZipFile(part, "w") as archive:
            for plan, folder in zip(plans, names, strict=True):
                results.append(write_pack(plan, archive, by=by, folder=folder, progress=tick))
        os.replace(part, store.zip_path(token))
        for plan, result in zip(plans, results, strict=True):
            record_pack(plan, result, by=by)
        return store.update_job(
            token,
            state="done",
            done=total,
            size=store.zip_path(token).stat().st_size,
            files=sum(len(r.files) for r in results),
            left_out=sum(len(r.left_out) for r in results),
        )
    except Refused as exc:
        part.unlink(missing_ok=True)
        store.zip_path(token).unlink(missing_ok=True)
        return store.update_job(token, state="failed", error=exc.message)
    except Exception:
        part.unlink(missing_ok=True)
        store.zip_path(token).unlink(missing_ok=True)
        logger.exception("Evidence pack %s failed", token)
        store.update_job(token, state="failed", error=_("The pack could not be built; the error is logged."))
        raise
