"""The vouchers of a 1688 refund request: the images the 1688 evidence pack would choose.

The pack decides which of the order's files go to 1688 (``orders.packs.builder.plan_pack`` for
the target ``1688``, its first files in timeline order when there are more than it takes); of
those, the images become vouchers — JPEG or PNG, at most five, each fitted under 1688's 1 MB for
an upload (``orders.packs.images.fit``: copied as it is when it already fits, else converted and
scaled down). A file that cannot be made a voucher is left out, as the pack leaves it out.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass

from evidence.models import IMAGE_TYPES

from ..models import Order
from ..packs.builder import plan_pack
from ..packs.images import LeftOut, fit

MAX_VOUCHERS = 5  # createRefund's vouchers: 1 to 5 (1688.md §4.3)
MAX_BYTES = 1024 * 1024 - 1  # uploadRefundVoucher: smaller than 1 MB (1688.md §4.2)
TYPES = ("image/jpeg", "image/png")
EXTENSIONS = {"image/jpeg": ".jpg", "image/png": ".png"}


@dataclass(frozen=True)
class Voucher:
    name: str
    data: bytes
    content_type: str


def voucher_images(order: Order) -> list[Voucher]:
    """At most five images of ``order`` as 1688 takes them for an upload, in the pack's order."""
    plan = plan_pack(order, "1688", auto_choose=True)
    limits = dataclasses.replace(
        plan.limits,
        max_bytes=min(plan.limits.max_bytes, MAX_BYTES),
        types=tuple(t for t in plan.limits.types if t in TYPES) or TYPES,
    )
    found: list[Voucher] = []
    for attachment in plan.selected:
        if attachment.content_type not in IMAGE_TYPES or len(found) >= MAX_VOUCHERS:
            continue
        try:
            with attachment.file.open("rb") as stored:
                fitted = fit(stored.read(), attachment.content_type, limits)
        except (LeftOut, OSError):
            continue
        if fitted.content_type in TYPES:
            found.append(
                Voucher(
                    f"voucher-{len(found) + 1}{EXTENSIONS[fitted.content_type]}",
                    fitted.data,
                    fitted.content_type,
                )
            )
    return found
