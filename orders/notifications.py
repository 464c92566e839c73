"""Rendering notifications in the recipient's language.

Templates live in ``templates/notifications/``: ``<template>/subject.txt``, ``body.txt`` (email)
and ``sms.txt`` (text message). The Chinese versions sit in ``notifications/zh-hans/<template>/``
and are chosen by language, so a buyer reads Chinese even before the gettext catalog is compiled;
the English templates wrap their text in ``{% translate %}`` for any further language the catalog
gains. A language we have no text for falls back to English.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.template.loader import select_template
from django.utils import translation

from .models import Notification, NotificationChannel

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


def render(template: str, channel: str, language: str | None, context: dict[str, Any]) -> Rendered:
    """Render ``template`` for ``channel`` in ``language`` (resolved; English fallback).

    Emails get a one-line subject and a body; text messages only a body. Raises
    ``TemplateDoesNotExist`` / ``TemplateSyntaxError`` for a template we do not have: a
    permanent error for the caller.
    """
    lang = resolve_language(language)
    data = {"refund_expected_days": settings.SHOPOPS_REFUND_EXPECTED_DAYS, **context}
    with translation.override(lang):
        if channel == NotificationChannel.SMS:
            body = _template(lang, template, "sms.txt").render(data).strip()
            return Rendered(subject="", body=body)
        subject = _template(lang, template, "subject.txt").render(data)
        body = _template(lang, template, "body.txt").render(data).strip() + "\n"
    # A header cannot hold a newline (Django would refuse to send it).
    subject = " ".join(subject.split())
    return Rendered(subject=subject, body=body)


def render_notification(notification: Notification) -> Rendered:
    """Render an outbox row from its template, channel, language and context."""
    return render(notification.template, notification.channel, notification.language, notification.context)
