"""The record of an evidence pack built for a platform (``orders.packs``).

Building a pack reads the evidence and changes none of it; what it leaves is one history event
on the order: who built it, for which target, which files went in and which were left out.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.utils.translation import gettext as _

from .. import policy
from ..models import Order
from .core import operation

# Whoever records evidence is whoever uploads it to the platforms: Operators and Supervisors.
PACK_PERMISSION = "evidence.add_attachment"


def record_evidence_pack(
    order: Order | int,
    *,
    by: AbstractBaseUser | None,
    target: str,
    files: list[str],
    left_out: list[str],
) -> Order:
    """Write the ``build_evidence_pack`` event of ``order``: ``target`` (``aliexpress`` or
    ``1688``), ``files`` (the names in the pack, the summary first) and ``left_out`` (each
    "original name: why"). Needs ``evidence.add_attachment``; writes nothing else."""
    policy.require(by, PACK_PERMISSION, _("build evidence packs"))
    with operation("build_evidence_pack", order, by=by) as t:
        t.event(target=target, files=list(files), left_out=list(left_out))
    return t.order
