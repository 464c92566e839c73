"""Rendering notifications in the recipient's language.

Buyer messages (the refund confirmation and the payment reminder) come from the buyer-message
catalogue, in the buyer's language with amounts and dates formatted for it
(``orders.buyer_messages``, ``docs/buyer-messages.md``); their emails get an HTML part with
``lang`` and ``dir`` (right to left for Arabic and Hebrew) besides the text.

Staff and supplier messages (the supplier reminder, the overdue digest, the hand-offs to staff
and their digest) are Django templates in ``templates/notifications/<template>/``: ``subject.txt``,
``body.txt`` (email), ``sms.txt`` (text message) and ``chat.txt`` (the team chat robot). The
Chinese versions sit in ``notifications/zh-hans/<template>/`` and are chosen by language, so a
supplier reads Chinese even before the gettext catalog is compiled; the English templates wrap
their text in ``{% translate %}``. A language we have no text for falls back to
English.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.template.loader import select_template
from django.utils import timezone, translation
from django.utils.translation import gettext

from .buyer_messages.catalogue import html_document, render_text
from .buyer_messages.spec import buyer_language
from .models import HandoffKind, Notification, NotificationChannel, NotificationTemplate
from .transitions import TRANSITIONS

FALLBACK_LANGUAGE = "en"
# Buyer language codes that read Simplified Chinese (AliExpress and browsers spell it many ways).
_SIMPLIFIED_CHINESE = {"zh", "zh-hans", "zh-cn", "zh-sg", "zh-hans-cn", "zh-hans-sg"}


@dataclass(frozen=True)
class Rendered:
    subject: str
    body: str


def resolve_language(code: str | None) -> str:
    """The language we write to someone whose language code is ``code``: zh-hans or English."""
    normalised = (code or "").strip().lower().replace("_", "-")
    if normalised in _SIMPLIFIED_CHINESE:
        return "zh-hans"
    return FALLBACK_LANGUAGE


def _template(language: str, template: str, part: str):
    names = [f"notifications/{template}/{part}"]
    if language != FALLBACK_LANGUAGE:
        names.insert(0, f"notifications/{language}/{template}/{part}")
    return select_template(names)


# The messages to buyers: rendered from the buyer-message catalogue, not from Django templates.
BUYER_TEMPLATES = frozenset({NotificationTemplate.REFUND_CONFIRMATION, NotificationTemplate.PAYMENT_REMINDER})


def _render_for_buyer(template: str, channel: str, language: str | None, context: dict[str, Any]) -> Rendered:
    lang = buyer_language(language)
    if channel == NotificationChannel.SMS:
        return Rendered(subject="", body=render_text(f"{template}.sms", lang, context)[1])
    subject = render_text(f"{template}.subject", lang, context)[1]
    body = render_text(f"{template}.body", lang, context)[1] + "\n"
    return Rendered(subject=" ".join(subject.split()), body=body)


def html_alternative(notification: Notification) -> str | None:
    """The HTML part of a buyer email (from the text kept on the row), or None for other messages."""
    if notification.template not in BUYER_TEMPLATES or notification.channel != NotificationChannel.EMAIL:
        return None
    return html_document(
        notification.body, language=buyer_language(notification.language), subject=notification.subject
    )


# The messages to staff about work handed to them (orders.workflow.handoffs): their context holds
# codes ("what", "step") and ISO times, named and formatted here in the reader's language.
STAFF_TEMPLATES = frozenset({NotificationTemplate.STAFF_HANDOFF, NotificationTemplate.STAFF_DIGEST})


def _local(value: str) -> str:
    try:
        moment = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        return value or ""
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M") if timezone.is_aware(moment) else value


def _handoff_words(context: dict[str, Any]) -> dict[str, Any]:
    """What a hand-off's codes say, in the active language."""
    what = context.get("what", "")
    step = context.get("step", "")
    return {
        "what_label": str(HandoffKind(what).label) if what in HandoffKind.values else what,
        "step_label": gettext(TRANSITIONS[step].label) if step in TRANSITIONS else "",
        "since_local": _local(context.get("since", "")),
        "respond_by_local": _local(context.get("respond_by", "")),
    }


def _staff_words(template: str, context: dict[str, Any]) -> dict[str, Any]:
    if template == NotificationTemplate.STAFF_DIGEST:
        return {"items": [{**item, **_handoff_words(item)} for item in context.get("items", [])]}
    return _handoff_words(context)


def render(template: str, channel: str, language: str | None, context: dict[str, Any]) -> Rendered:
    """Render ``template`` for ``channel`` in ``language`` (resolved; English fallback).

    Emails get a one-line subject and a body; text and team chat messages only a body. Raises
    ``TemplateDoesNotExist`` / ``TemplateSyntaxError`` for a template we do not have: a
    permanent error for the caller.
    """
    if template in BUYER_TEMPLATES:
        return _render_for_buyer(template, channel, language, context)
    lang = resolve_language(language)
    data = {"refund_expected_days": settings.SHOPOPS_REFUND_EXPECTED_DAYS, **context}
    with translation.override(lang):
        if template in STAFF_TEMPLATES:
            data.update(_staff_words(template, context))
        if channel in (NotificationChannel.SMS, NotificationChannel.WEBHOOK):
            part = "sms.txt" if channel == NotificationChannel.SMS else "chat.txt"
            body = _template(lang, template, part).render(data).strip()
            return Rendered(subject="", body=body)
        subject = _template(lang, template, "subject.txt").render(data)
        body = _template(lang, template, "body.txt").render(data).strip() + "\n"
    # A header cannot hold a newline (Django would refuse to send it).
    subject = " ".join(subject.split())
    return Rendered(subject=subject, body=body)


def render_notification(notification: Notification) -> Rendered:
    """Render an outbox row from its template, channel, language and context."""
    return render(notification.template, notification.channel, notification.language, notification.context)
