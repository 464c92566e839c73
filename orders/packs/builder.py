"""An evidence pack: which files go in, and the ZIP that holds them.

``plan_pack`` decides (reads only): the order's attachments in timeline order that its audience
may see (``audience``), which the target can take, which the operator chose when there are more
than the target's count, and whether the pack is small enough to build in the request. For a
target that takes no PDF (1688: JPEG or PNG only) the summary is written at once and goes in as
images, a page each, counted in the target's files (``pages``). ``write_pack`` writes the ZIP —
the summary first (``summary.pdf``, or ``summary-1.png``…), then the attachments numbered in
timeline order, then ``manifest.txt`` and ``manifest.json``, which list exactly the files to
upload — and ``record_pack`` adds the history event (``workflow.packs``). The stored evidence is
only read.
"""

from __future__ import annotations

import io
import json
import math
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
from ..selectors.packs import pack_attachments
from ..workflow.packs import record_evidence_pack
from . import pages
from .audience import AUDIENCES
from .case import case_for
from .images import Converted, LeftOut, fit, why_not
from .limits import Limits, limits_for
from .summary import Summary, fonts_checked, write_summary

# A summary drawn as images that needs more pages than the target's count leaves room for is set
# on longer pages (up to this many A4 pages long), so that it still fits.
MAX_TALL = 8


@dataclass
class PackPlan:
    order: Order
    limits: Limits
    candidates: list[Attachment]  # what the target can take, in timeline order
    selected: list[Attachment]  # what goes in, in timeline order
    left_out: list[tuple[Attachment, str]]  # in timeline order, with why
    needs_choice: bool  # more candidates than the count, and no choice made
    withheld: list[Attachment] = field(default_factory=list)  # not for this audience: never listed
    summary: Summary | None = None  # written at once when it goes in as images

    @property
    def summary_files(self) -> int:
        """How many of the target's files the summary takes: one PDF, or a file per page."""
        return self.summary.pages if self.summary is not None else 1

    @property
    def max_attachments(self) -> int:
        return max(self.limits.max_files - self.summary_files, 0)

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
    choice of files that are not this order's, that are not for this target's reader, that the
    target cannot take, or too many, is refused.
    """
    limits = limits_for(target)
    audience = AUDIENCES[target]
    everything = pack_attachments(order)
    withheld = [a for a in everything if audience.withheld(a)]
    attachments = [a for a in everything if not audience.withheld(a)]
    candidates, left_out = [], []
    for attachment in attachments:
        why = why_not(attachment.content_type, attachment.size, limits, attachment.image_check)
        if why:
            left_out.append((attachment, why))
        else:
            candidates.append(attachment)
    summary = None if limits.accepts("application/pdf") else _summary_as_images(order, limits, candidates)
    plan = PackPlan(order, limits, candidates, [], left_out, False, withheld, summary)
    if chosen is not None:
        _check_choice(plan, chosen, everything)
        plan.selected = [a for a in candidates if a.pk in set(chosen)]
    else:
        plan.needs_choice = len(candidates) > plan.max_attachments and not auto_choose
        plan.selected = candidates[: plan.max_attachments]
    over = _("not chosen: the platform takes at most %(count)d files with the summary") % {
        "count": limits.max_files
    }
    left_out += [(a, over) for a in candidates if a not in plan.selected]
    order_of = {a.pk: i for i, a in enumerate(attachments)}
    left_out.sort(key=lambda pair: order_of[pair[0].pk])
    return plan


def _check_choice(plan: PackPlan, chosen: list[int], everything: list[Attachment]) -> None:
    limits = plan.limits
    by_id = {a.pk: a for a in everything}
    unknown = [str(pk) for pk in chosen if pk not in by_id]
    if unknown:
        raise Refused(
            _("File %(ids)s is not evidence of order %(order)s.")
            % {"ids": ", ".join(unknown), "order": plan.order},
            field="files",
        )
    withheld = [by_id[pk] for pk in chosen if by_id[pk] in plan.withheld]
    if withheld:
        raise Refused(
            _("“%(name)s” is not for %(target)s: it is part of a communication its reader does not see.")
            % {"name": withheld[0].original_name, "target": limits.label},
            field="files",
        )
    refused = [by_id[pk] for pk in chosen if by_id[pk] not in plan.candidates]
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
    if len(set(chosen)) > plan.max_attachments:
        if plan.summary_files == 1:
            message = _(
                "Choose at most %(count)d files: %(target)s takes %(files)d, the summary is one of them."
            )
        else:
            message = _(
                "Choose at most %(count)d files: %(target)s takes %(files)d, the summary takes %(pages)d "
                "of them."
            )
        raise Refused(
            message
            % {
                "count": plan.max_attachments,
                "target": limits.label,
                "files": limits.max_files,
                "pages": plan.summary_files,
            },
            field="files",
        )


def _summary_as_images(order: Order, limits: Limits, candidates: list[Attachment]) -> Summary:
    """The summary of a target that takes images only, written now: its pages are files of the
    target's count. It keeps room for one file with it when there is one; a summary longer than
    that is set on longer pages (at most ``MAX_TALL`` A4 pages long) rather than cut. Refused in
    the operator's language (the summary is in the reader's)."""
    fonts_checked()
    room = max(limits.max_files - (1 if candidates else 0), 1)
    with override(AUDIENCES[limits.target].language):
        case = case_for(order, limits.target)
        summary = first = write_summary(case, limits)
        tall = 1
        while summary.pages > room and tall < MAX_TALL:
            tall = min(MAX_TALL, max(tall + 1, math.ceil(first.pages / room)))
            summary = write_summary(case, limits, tall=tall)
    if summary.pages > room:
        raise Refused(
            _(
                "The summary of order %(order)s is too long for %(target)s: %(pages)d pages, "
                "and it takes at most %(files)d files."
            )
            % {"order": order, "target": limits.label, "pages": first.pages, "files": limits.max_files}
        )
    return summary


def _safe_name(name: str) -> str:
    """An attachment's original name, safe as a file name in a ZIP on any system."""
    stem = PurePath(name.replace("\\", "/")).stem
    stem = unicodedata.normalize("NFC", stem)
    stem = re.sub(r'[\x00-\x1f<>:"/\\|?*]+', "_", stem).strip(" ._")
    return stem[:60] or "file"


@dataclass
class PackResult:
    files: list[dict[str, Any]] = field(default_factory=list)  # in the pack, the summary first
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
    summary = _summary_files(plan, converted, left_out)
    progress()
    for name, data, entry in summary:
        # PNG and JPEG are compressed already.
        deflate = entry["content_type"] == "application/pdf"
        archive.writestr(
            prefix + name, data, compress_type=zipfile.ZIP_DEFLATED if deflate else zipfile.ZIP_STORED
        )
        result.files.append({"name": name, **entry})
    for name, attachment, fitted in converted:
        archive.writestr(prefix + name, fitted.data, compress_type=zipfile.ZIP_STORED)
        result.files.append(
            {
                "name": name,
                "content_type": fitted.content_type,
                "size": len(fitted.data),
                "attachment": attachment.pk,
                "original_name": attachment.original_name,
                "sha256_of_evidence": attachment.sha256,
                "note": fitted.note,
            }
        )
    for attachment, why in left_out:
        result.left_out.append(
            {"attachment": attachment.pk, "original_name": attachment.original_name, "why": why}
        )
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


def _summary_files(
    plan: PackPlan, converted: list[tuple[str, Attachment, Converted]], left_out: list[tuple[Attachment, str]]
) -> list[tuple[str, bytes, dict[str, Any]]]:
    """The summary's files: ``summary.pdf`` (which ends with the files of the pack), or a
    ``summary-<page>.png`` per page of the summary written when the pack was planned."""
    audience = AUDIENCES[plan.limits.target]
    what = (
        _("the case: the 1688 purchase, the goods, refunds asked of the supplier, steps, communications")
        if audience.side == "purchase"
        else _("the case: the sale, the buyer, refunds, steps, communications")
    )
    if plan.summary is None:
        with override(audience.language):
            summary = write_summary(
                case_for(plan.order, plan.limits.target),
                plan.limits,
                files=[(name, a.original_name) for name, a, _f in converted],
                left_out=[(a.original_name, why) for a, why in left_out],
            )
        entry = {
            "content_type": "application/pdf",
            "size": len(summary.data),
            "original_name": "",
            "note": what,
        }
        return [("summary.pdf", summary.data, entry)]
    images = pages.as_images(plan.summary.data, plan.limits)
    return [
        (
            f"summary-{number}{image.extension}",
            image.data,
            {
                "content_type": image.content_type,
                "size": len(image.data),
                "original_name": "",
                "note": what
                + " "
                + _("(page %(page)d of %(pages)d, %(width)d×%(height)d pixels)")
                % {"page": number, "pages": len(images), "width": image.width, "height": image.height},
            },
        )
        for number, image in enumerate(images, start=1)
    ]


def _manifest_text(plan: PackPlan, result: PackResult) -> str:
    lines = [
        _("Evidence pack of order %(order)s for %(target)s")
        % {"order": plan.order.platform_order_id, "target": plan.limits.label},
        _("Platform limits: %(limits)s") % {"limits": plan.limits.describe()},
        "",
        _("Upload these %(count)d files, in this order (the summary first):") % {"count": len(result.files)},
    ]
    for entry in result.files:
        detail = "; ".join(x for x in (entry["original_name"], entry["note"]) if x)
        lines.append(f"  {entry['name']}" + (f" — {detail}" if detail else ""))
    lines += ["", _("Left out:")]
    if not result.left_out:
        lines.append("  " + _("nothing"))
    for entry in result.left_out:
        lines.append(f"  {entry['original_name']} — {entry['why']}")
    lines += ["", _("manifest.txt and manifest.json describe the pack for you; they are not uploaded.")]
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
