"""Small pieces of list and page markup that several admins share."""

from __future__ import annotations

from typing import Any

from django.urls import reverse
from django.utils.html import format_html
from django.utils.safestring import SafeString


def status_badge(status: str, label: Any) -> SafeString:
    """A coloured badge for an order or refund status (``static/shopops/admin.css``)."""
    return format_html('<span class="status-badge status-{}">{}</span>', status, label)


def order_link(obj: Any) -> SafeString:
    """A link to the order page of ``obj.order`` (a refund, a communication, an attachment)."""
    return format_html(
        '<a href="{}">{}</a>', reverse("admin:orders_order_change", args=[obj.order_id]), obj.order
    )
