"""An evidence pack: which files go in, and the ZIP that holds them.

``plan_pack`` decides (reads only): the order's attachments in timeline order, which the target
can take, which the operator chose when there are more than the target's count, and whether the
pack is small enough to build in the request. ``write_pack`` writes the ZIP — ``summary.pdf``
first, then the attachments numbered in timeline order, then ``manifest.txt`` and
``manifest.json`` — and ``record_pack`` adds the history event (``workflow.packs``). The stored
evidence is only read.
"""

from __future__ import annotations

import io
import json
import re
import unicodedata
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override

from evidence.models import Attachment
from shopops.errors import Refused

from ..models import Order
from ..selectors.packs import pack_attachments, pack_records
from ..workflow.packs import record_evidence_pack
from .images import Converted, LeftOut, fit, why_not
from .limits import Limits, limits_for
from .summary import write_summary

# The summary's language: a platform's reviewer reads English (AliExpress) or Chinese (1688).
SUMMARY_LANGUAGE = {"aliexpress": "en", "1688": "zh-hans"}


@dataclass
class PackPlan:
    order: Order
    limits: Limits
    candidates: list[Attachment]  # what the target can take, in timeline order
    selected: list[Attachment]  # what goes in, in timeline order
    left_out: list[tuple[Attachment, str]]  # in timeline order, with why
    needs_choice: bool  # more candidates than the count, and no choice made

    @property
    def source_bytes(self) -> int:
        return sum(a.size for a in self.selected)

    @property
    def inline(self) -> bool:
        """Small enough to build in the request."""
        return self.source_bytes <= settings.SHOPOPS_EVIDENCE_PACK_INLINE_MAX_MB * 1024 * 1024


def plan_pack(
    order: Order, target: str, chosen: list[int] | None = None, *, auto_choose: bool = False
) -> PackPlan:
    """What a pack of ``order`` for ``target`` holds.

    ``chosen``: the ids of the attachments the operator picked (``None``: not asked yet). When
    the target can take fewer files than there are, and nobody chose, ``needs_choice`` is set;
    with ``auto_choose`` (a pack of several orders) the first ones in timeline order go in. A
    choice of files that are not this order's, that the target cannot take, or too many, is
    refused.
    """
    limits = limits_for(target)
    attachments = pack_attachments(order)
    candidates, left_out = [], []
    for attachment in attachments:
        why = why_not(attachment.content_type, attachment.size, limits, attachment.image_check)
        if why:
            left_out.append((attachment, why))
        else:
            candidates.append(attachment)
    over = _("not chosen: the platform takes at most %(count)d files with the summary") % {
        "count": limits.max_files
    }
    if chosen is not None:
        by_id = {a.pk: a for a in attachments}
        unknown = [str(pk) for pk in chosen if pk not in by_id]
        if unknown:
            raise Refused(
                _("File %(ids)s is not evidence of order %(order)s.")
                % {"ids": ", ".join(unknown), "order": order},
                field="files",
            )
        refused = [by_id[pk] for pk in chosen if by_id[pk] not in candidates]
        if refused:
            raise Refused(
                _("“%(name)s” cannot go into a pack for %(target)s: %(why)s.")
                % {
                    "name": refused[0].original_name,
                    "target": limits.label,
                    "why": why_not(refused[0].content_type, refused[0].size, limits, refused[0].image_check),
                },
                field="files",
            )
        if len(set(chosen)) > limits.max_attachments:
            raise Refused(
                _("Choose at most %(count)d files: %(target)s takes %(files)d, the summary is one of them.")
                % {"count": limits.max_attachments, "target": limits.label, "files": limits.max_files},
                field="files",
            )
        selected = [a for a in candidates if a.pk in set(chosen)]
        needs_choice = False
    else:
        needs_choice = len(candidates) > limits.max_attachments and not auto_choose
        selected = candidates[: limits.max_attachments]
    left_out += [(a, over) for a in candidates if a not in selected]
    order_of = {a.pk: i for i, a in enumerate(attachments)}
    left_out.sort(key=lambda pair: order_of[pair[0].pk])
    return PackPlan(order, limits, candidates, selected, left_out, needs_choice)


def _safe_name(name: str) -> str:
    """An attachment's original name, safe as a file name in a ZIP on any system."""
    stem = PurePath(name.replace("\\", "/")).stem
    stem = unicodedata.normalize("NFC", stem)
    stem = re.sub(r'[\x00-\x1f<>:"/\\|?*]+', "_", stem).strip(" ._")
    return stem[:60] or "file"


@dataclass
class PackResult:
    files: list[dict[str, Any]] = field(default_factory=list)  # in the pack, summary.pdf first
    left_out: list[dict[str, Any]] = field(default_factory=list)


def _read(attachment: Attachment) -> bytes:
    with attachment.file.open("rb") as stored:
        return stored.read()


def write_pack(
    plan: PackPlan,
    archive: zipfile.ZipFile,
    *,
    by: Any,
    folder: str = "",
    progress: Callable[[], None] = lambda: None,
) -> PackResult:
    """Write ``plan``'s pack into ``archive`` (under ``folder/`` when given); ``progress`` is
    called once per file done. Memory: at most the target's count of converted files."""
    result = PackResult()
    converted: list[tuple[str, Attachment, Converted]] = []
    left_out = list(plan.left_out)
    number = 0
    for attachment in plan.selected:
        try:
            fitted = fit(_read(attachment), attachment.content_type, plan.limits)
        except LeftOut as exc:
            left_out.append((attachment, str(exc)))
        except OSError:
            left_out.append((attachment, _("the stored file cannot be read")))
        else:
            number += 1
            converted.append(
                (f"{number:02d}-{_safe_name(attachment.original_name)}{fitted.extension}", attachment, fitted)
            )
        progress()
    order_of = {a.pk: i for i, a in enumerate(pack_attachments(plan.order))}
    left_out.sort(key=lambda pair: order_of.get(pair[0].pk, 0))
    prefix = f"{folder}/" if folder else ""
    result.files.append(
        {
            "name": "summary.pdf",
            "original_name": "",
            "note": _("the case: order, buyer, amounts, steps, communications"),
        }
    )
    for name, attachment, fitted in converted:
        result.files.append(
            {
                "name": name,
                "attachment": attachment.pk,
                "original_name": attachment.original_name,
                "sha256_of_evidence": attachment.sha256,
                "size": len(fitted.data),
                "note": fitted.note,
            }
        )
    for attachment, why in left_out:
        result.left_out.append(
            {"attachment": attachment.pk, "original_name": attachment.original_name, "why": why}
        )
    with override(SUMMARY_LANGUAGE[plan.limits.target]):
        summary = write_summary(
            pack_records(plan.order),
            plan.limits,
            built_by=by,
            files=[(name, a.original_name) for name, a, _f in converted],
            left_out=[(a.original_name, why) for a, why in left_out],
        )
    archive.writestr(prefix + "summary.pdf", summary, compress_type=zipfile.ZIP_DEFLATED)
    progress()
    for name, _attachment, fitted in converted:
        archive.writestr(prefix + name, fitted.data, compress_type=zipfile.ZIP_STORED)
    archive.writestr(
        prefix + "manifest.txt", _manifest_text(plan, result), compress_type=zipfile.ZIP_DEFLATED
    )
    manifest = {
        "order": plan.order.platform_order_id,
        "target": plan.limits.target,
        "limits": {
            "max_files": plan.limits.max_files,
            "max_bytes": plan.limits.max_bytes,
            "types": list(plan.limits.types),
        },
        "built_at": timezone.now().isoformat(),
        "built_by": by.get_username() if by is not None else None,
        "files": result.files,
        "left_out": result.left_out,
    }
    archive.writestr(
        prefix + "manifest.json",
        json.dumps(manifest, ensure_ascii=False, indent=2),
        compress_type=zipfile.ZIP_DEFLATED,
    )
    return result


def _manifest_text(plan: PackPlan, result: PackResult) -> str:
    lines = [
        _("Evidence pack of order %(order)s for %(target)s")
        % {"order": plan.order.platform_order_id, "target": plan.limits.label},
        _("Platform limits: %(limits)s") % {"limits": plan.limits.describe()},
        "",
        _("In the pack, in upload order (summary first):"),
    ]
    for entry in result.files:
        detail = "; ".join(x for x in (entry["original_name"], entry["note"]) if x)
        lines.append(f"  {entry['name']}" + (f" — {detail}" if detail else ""))
    lines += ["", _("Left out:")]
    if not result.left_out:
        lines.append("  " + _("nothing"))
    for entry in result.left_out:
        lines.append(f"  {entry['original_name']} — {entry['why']}")
    return "\n".join(lines) + "\n"


def record_pack(plan: PackPlan, result: PackResult, *, by: Any) -> None:
    """The history event of a pack that was written (``workflow.record_evidence_pack``)."""
    record_evidence_pack(
        plan.order,
        by=by,
        target=plan.limits.target,
        files=[entry["name"] for entry in result.files],
        left_out=[f"{entry['original_name']}: {entry['why']}" for entry in result.left_out],
    )


def build_pack(plan: PackPlan, *, by: Any) -> bytes:
    """The ZIP of a small pack, in memory, and its history event (a pack built in the request)."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        result = write_pack(plan, archive, by=by)
    record_pack(plan, result, by=by)
    return out.getvalue()
