"""The platforms a pack is for, and what each accepts (settings ``SHOPOPS_EVIDENCE_PACK_*``)."""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.utils.translation import gettext as _
from django.utils.translation import gettext_noop

from shopops.errors import Refused

# The target codes are public (SPEC section 10: ``?target=aliexpress|1688``).
TARGET_LABELS = {
    "aliexpress": gettext_noop("AliExpress dispute"),
    "1688": gettext_noop("1688 refund request"),
}
# The output types a platform may accept, by the name a setting uses.
KNOWN_TYPES = {"jpeg": "image/jpeg", "png": "image/png", "pdf": "application/pdf"}


@dataclass(frozen=True)
class Limits:
    target: str
    max_files: int  # the summary included (a file per page when it goes in as images)
    max_bytes: int
    types: tuple[str, ...]  # content types, in the order of preference

    @property
    def label(self) -> str:
        return _(TARGET_LABELS[self.target])

    @property
    def max_mb(self) -> str:
        return f"{self.max_bytes / (1024 * 1024):g}"

    def accepts(self, content_type: str) -> bool:
        return content_type in self.types

    def describe(self) -> str:
        names = ", ".join(k.upper() for k, v in KNOWN_TYPES.items() if v in self.types)
        return _("at most %(files)d files (the summary included), %(mb)s MB each, %(types)s") % {
            "files": self.max_files,
            "mb": self.max_mb,
            "types": names,
        }


def limits_for(target: str) -> Limits:
    """The limits of ``target`` from the settings; ``Refused`` for an unknown target."""
    if target not in TARGET_LABELS:
        raise Refused(
            _("“%(target)s” is not a target for an evidence pack: use aliexpress or 1688.")
            % {"target": target},
            field="target",
        )
    prefix = f"SHOPOPS_EVIDENCE_PACK_{target.upper()}_"
    types = tuple(
        KNOWN_TYPES[t.strip().lower()]
        for t in getattr(settings, prefix + "TYPES")
        if t.strip().lower() in KNOWN_TYPES
    )
    return Limits(
        target=target,
        max_files=int(getattr(settings, prefix + "MAX_FILES")),
        max_bytes=int(float(getattr(settings, prefix + "MAX_MB")) * 1024 * 1024),
        types=types,
    )
