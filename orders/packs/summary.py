"""``summary.pdf``: the case as a platform's reviewer reads it, in any script the evidence has.

fpdf2 writes the PDF and embeds subsets of TrueType fonts (``SHOPOPS_PDF_FONTS``, by default
``shopops.fonts``: Debian's DejaVu Sans for Latin, Cyrillic, Greek, Arabic and Hebrew when
installed; WenQuanYi Micro Hei, from a pinned wheel, for Chinese, Japanese and Korean, as the
fallback for what the first lacks). With its HarfBuzz
shaping (uharfbuzz) Arabic letters join and Arabic and Hebrew run right to left. Embedded fonts
mean the reviewer's viewer needs no Asian font pack, and the text stays text: it can be searched
and copied. Reads only: the records come from ``orders.selectors.packs``.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable
from datetime import datetime
from pathlib import Path
from typing import Any

from django.conf import settings
from django.utils import timezone
from django.utils.translation import gettext as _
from fpdf import FPDF

from evidence.models import Channel, Counterparty, Direction, Kind
from shopops.errors import Refused
from shopops.money import format_money

from ..models import CloseReason, Outcome, RefundDirection, RefundStatus
from ..selectors.packs import PackRecords
from ..workflow.core import status_label
from ..workflow.events import event_label
from .limits import Limits

# fontTools logs each subset glyph by glyph at INFO: a page of noise per PDF in the worker's log.
logging.getLogger("fontTools").setLevel(logging.WARNING)

# Control characters, and the explicit bidi overrides and isolates: a message must not be able
# to reverse how the text after it reads (the shaper lays out right-to-left scripts by itself).
_CONTROLS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\u202a-\u202e\u2066-\u2069]")
# fpdf2's alias for the number of pages ("{nb}" by default, which a message may well contain).
PAGE_COUNT = "\x00pages\x00"
MARGIN = 15
LINE = 5.2
LABEL_WIDTH = 50


def _clean(text: Any) -> str:
    """Text as fpdf2 lays it out: newlines kept, tabs as spaces, other control characters dropped."""
    text = (
        str(text if text is not None else "").replace("\r\n", "\n").replace("\r", "\n").replace("\t", "    ")
    )
    return _CONTROLS.sub("", text)


def when(value: datetime | None) -> str:
    """A moment with its UTC offset: a reviewer elsewhere reads it without guessing the zone."""
    if value is None:
        return "—"
    local = timezone.localtime(value)
    offset = local.strftime("%z")
    return f"{local:%Y-%m-%d %H:%M} (UTC{offset[:3]}:{offset[3:]})"


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label)
    except ValueError:
        return value


class SummaryPDF(FPDF):
    def __init__(self, title: str):
        super().__init__(format="A4")
        self.footer_title = title
        self.set_margins(MARGIN, MARGIN, MARGIN)
        self.set_auto_page_break(True, margin=MARGIN)
        fonts = [Path(p) for p in settings.SHOPOPS_PDF_FONTS]
        missing = [str(p) for p in fonts if not p.is_file()]
        if missing or not fonts:
            raise Refused(
                _(
                    "The PDF summary cannot be written: font file %(fonts)s is missing. Set "
                    "SHOPOPS_PDF_FONTS to TrueType files that exist, or leave it unset: DejaVu Sans "
                    "(Debian's fonts-dejavu-core) and the CJK font that requirements.txt installs."
                )
                % {"fonts": ", ".join(missing) or "—"}
            )
        names = []
        for index, path in enumerate(fonts):
            name = f"f{index}"
            self.add_font(name, fname=str(path))
            names.append(name)
        self.set_fallback_fonts(names[1:], exact_match=False)
        self.set_text_shaping(True)
        self.font_name = names[0]
        self.set_font(self.font_name, size=10)
        # Only the footer's count of pages is replaced by the number, never recorded text: the
        # alias holds a NUL, which _clean takes out of everything else written.
        self.alias_nb_pages(PAGE_COUNT)
        self.set_title(title)
        self.set_creator("Shopops")

    def settle_font(self) -> None:
        """Set the current font for the page before text is written, when fpdf2 has not.

        fpdf2 2.8.9: a line whose first run is in a fallback font (a Chinese label) sets the main
        font only inside that line's own ``q … Q`` yet records it as set for the page; the next line
        that starts in the main font (``1688退款申请``, a date, an id) is then drawn with no font
        or the fallback's, its Latin squeezed, overlapping or missing. Set for the page first, it is
        what fpdf2 believes it is. (fpdf2's own private helpers: there is no public way to write
        the font to the page; tests/test_evidence_pack_audience.py measures the Latin glyphs.)
        """
        if self.page and not self.current_font_is_set_on_page and self.current_font is not None:
            self._out(self._set_font_for_page(self.current_font, self.font_size_pt))

    def cell(self, *args: Any, **kwargs: Any) -> Any:
        self.settle_font()
        return super().cell(*args, **kwargs)

    def multi_cell(self, *args: Any, **kwargs: Any) -> Any:
        self.settle_font()
        return super().multi_cell(*args, **kwargs)

    def footer(self) -> None:
        self.set_y(-10)
        self.set_font(self.font_name, size=8)
        self.cell(0, 5, f"{_clean(self.footer_title)} · {self.page_no()}/{PAGE_COUNT}", align="C")
        self.set_font(self.font_name, size=10)

    def heading(self, text: str, size: int = 13) -> None:
        if self.get_y() > self.h - 40:
            self.add_page()
        self.ln(2)
        self.set_font(self.font_name, size=size)
        self.multi_cell(0, size * 0.55, _clean(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_draw_color(160, 160, 160)
        self.line(MARGIN, self.get_y() + 0.5, self.w - MARGIN, self.get_y() + 0.5)
        self.ln(2)
        self.set_font(self.font_name, size=10)

    def fields(self, rows: Iterable[tuple[str, Any]]) -> None:
        for label, value in rows:
            if value in (None, ""):
                continue
            label = _clean(label)
            lines = self.multi_cell(LABEL_WIDTH, LINE, label, dry_run=True, output="LINES")
            top, page = self.get_y(), self.page
            self.set_text_color(90, 90, 90)
            self.multi_cell(LABEL_WIDTH, LINE, label, align="L", new_x="RIGHT", new_y="TOP")
            self.set_text_color(0, 0, 0)
            self.multi_cell(0, LINE, _clean(value), align="L", new_x="LMARGIN", new_y="NEXT")
            if self.page == page:  # a label longer than its value: the next row starts below it
                self.set_y(max(self.get_y(), top + len(lines) * LINE))

    def paragraph(self, text: str, *, grey: bool = False, size: int = 10) -> None:
        if grey:
            self.set_text_color(90, 90, 90)
        self.set_font(self.font_name, size=size)
        self.multi_cell(0, LINE, _clean(text), align="L", new_x="LMARGIN", new_y="NEXT")
        self.set_text_color(0, 0, 0)
        self.set_font(self.font_name, size=10)


def _actor(user: Any) -> str:
    return user.get_username() if user is not None else _("system")


def _order_section(pdf: SummaryPDF, records: PackRecords) -> None:
    order = records.order
    pdf.heading(_("Order"))
    pdf.fields(
        [
            (_("Order id"), order.platform_order_id),
            (_("Status"), status_label(order.status)),
            (_("Product"), f"{order.sku} — {order.product_title} × {order.quantity}"),
            (_("Unit price"), format_money(order.unit_price, order.currency)),
            (_("Total paid"), format_money(order.total_amount, order.currency)),
            (_("Placed"), when(order.placed_at)),
            (_("Paid"), when(order.paid_at) if order.paid_at else ""),
            (_("Shipped"), when(order.shipped_at) if order.shipped_at else ""),
            (_("Tracking number"), " ".join(x for x in (order.tracking_number, order.carrier) if x)),
            (_("Return tracking number"), getattr(order, "return_tracking_number", "")),
            (_("Close reason"), _label(CloseReason, order.close_reason) if order.close_reason else ""),
            (_("Outcome"), _label(Outcome, order.outcome) if order.outcome else ""),
            (_("Platform reference"), getattr(order, "platform_reference", "")),
        ]
    )
    pdf.heading(_("Buyer"))
    pdf.fields(
        [
            (_("Name"), order.buyer_name),
            (_("Country"), order.buyer_country),
            (_("Email"), order.buyer_email),
            (_("Phone"), order.buyer_phone),
            (_("Language"), order.buyer_language),
        ]
    )
    for supplier in records.supplier_orders:
        pdf.heading(_("1688 purchase order"))
        pdf.fields(
            [
                (_("Supplier"), supplier.supplier_name),
                (_("Contact"), supplier.supplier_contact),
                (_("1688 order id"), supplier.supplier_order_id),
                (_("Amount"), format_money(supplier.amount, "CNY")),
            ]
        )
    if records.refunds:
        pdf.heading(_("Refunds"))
        for refund in records.refunds:
            amount = format_money(refund.amount, refund.currency)
            direction = _label(RefundDirection, refund.direction)
            pdf.paragraph(f"{direction}: {amount} — {_label(RefundStatus, refund.status)}")
            pdf.fields(
                [
                    (_("Reference"), refund.reference),
                    (_("Requested"), when(refund.requested_at)),
                    (_("Succeeded"), when(refund.succeeded_at) if refund.succeeded_at else ""),
                    (_("Received"), when(refund.received_at) if refund.received_at else ""),
                ]
            )


def _event_value(value: Any) -> str:
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _timeline_section(pdf: SummaryPDF, records: PackRecords) -> None:
    pdf.heading(_("Timeline of steps"))
    if not records.events:
        pdf.paragraph(_("No steps recorded."), grey=True)
    for event in records.events:
        pdf.paragraph(f"{when(event.created_at)} — {event_label(event.transition)} ({_actor(event.actor)})")
        rows = []
        if event.from_status != event.to_status:
            rows.append((_("Status"), f"{status_label(event.from_status)} → {status_label(event.to_status)}"))
        if event.reason:
            rows.append((_("Reason"), _label(CloseReason, event.reason)))
        for key, value in (event.data or {}).items():
            if key in ("refund", "refunds") or value in (None, "", []):
                continue
            rows.append((key.replace("_", " "), _event_value(value)))
        pdf.fields(rows)
        pdf.ln(1)


def _communications_section(pdf: SummaryPDF, records: PackRecords) -> None:
    pdf.heading(_("Communications"))
    if not records.communications:
        pdf.paragraph(_("No communications recorded."), grey=True)
    for number, comm in enumerate(records.communications, start=1):
        pdf.paragraph(
            f"{number}. {when(comm.occurred_at)} — {_label(Direction, comm.direction)}, "
            f"{_label(Counterparty, comm.counterparty)}, {_label(Channel, comm.channel)} "
            f"({_label(Kind, comm.kind)})",
            size=10,
        )
        pdf.fields([(_("Summary"), comm.summary)])
        if comm.body:
            pdf.fields([(_("Full text"), comm.body)])
        pdf.paragraph(
            _("Recorded by %(who)s at %(when)s")
            % {"who": _actor(comm.recorded_by), "when": when(comm.recorded_at)},
            grey=True,
            size=8,
        )
        pdf.ln(2)


def write_summary(
    records: PackRecords,
    limits: Limits,
    *,
    built_by: Any,
    files: list[tuple[str, str]],
    left_out: list[tuple[str, str]],
) -> bytes:
    """The PDF summary of ``records`` for ``limits.target``; ``files`` are (name in the pack,
    original name), ``left_out`` (original name, why)."""
    order = records.order
    title = _("Evidence summary — order %(order)s") % {"order": order.platform_order_id}
    pdf = SummaryPDF(title)
    pdf.add_page()
    pdf.heading(title, size=16)
    pdf.fields(
        [
            (_("For"), limits.label),
            (_("Prepared"), f"{when(timezone.now())}, {_actor(built_by)}"),
        ]
    )
    _order_section(pdf, records)
    _timeline_section(pdf, records)
    _communications_section(pdf, records)
    pdf.heading(_("Files in this pack"))
    pdf.paragraph(f"summary.pdf — {_('this summary')}")
    for name, original in files:
        pdf.paragraph(f"{name} — {original}")
    if left_out:
        pdf.heading(_("Left out"))
        for original, why in left_out:
            pdf.paragraph(f"{original}: {why}")
    return bytes(pdf.output())
