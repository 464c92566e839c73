"""The ready texts for the buyer on the transition forms, and recording one as sent.

The forms of "ask the buyer to cancel", "propose a return" and "resolve the dispute" show the
text in the buyer's language (``orders.buyer_messages.chat``); its button posts here, and
``orders.workflow.buyer_chat.record_chat_message`` records the text as the operator's outbound
message to the buyer. Then back to the step, whose evidence is now recorded.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.admin import ModelAdmin
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest, HttpResponse, HttpResponseNotAllowed, HttpResponseRedirect
from django.utils.translation import gettext as _

from shopops.errors import NotPermitted, Refused

from ..said import summary_of
from ..transitions import TRANSITIONS
from ..workflow.buyer_chat import record_chat_message
from .order_views import get_order, order_url, transition_url


def ready_text_view(model_admin: ModelAdmin, request: HttpRequest, object_id: str) -> HttpResponse:
    """POST: record the ready text the operator sent the buyer; back to the step it was for."""
    if request.method != "POST":
        return HttpResponseNotAllowed(["POST"])
    order = get_order(model_admin, request, object_id)
    next_transition = request.POST.get("next_transition", "")
    back = transition_url(order, next_transition) if next_transition in TRANSITIONS else order_url(order)
    try:
        communication = record_chat_message(
            order,
            by=request.user,
            message=request.POST.get("message", ""),
            text=request.POST.get("text", ""),
            language=request.POST.get("language", ""),
        )
    except NotPermitted as exc:
        raise PermissionDenied(exc.message) from exc
    except Refused as exc:
        messages.error(request, exc.message)
        return HttpResponseRedirect(back)
    if request.POST.get("copied") == "0":
        messages.warning(request, _("The text could not be copied: select it and copy it by hand."))
    messages.success(request, _("Recorded “%(summary)s”.") % {"summary": summary_of(communication)})
    return HttpResponseRedirect(back)
