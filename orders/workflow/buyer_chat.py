"""What the operator writes to the buyer in the platform chat, and the Supervisor's wording of it.

- :func:`record_chat_message`: the ready text the operator copied into the platform chat,
  recorded as an outbound communication with the buyer (the evidence "ask to cancel" and
  "propose a return" require).
- :func:`save_buyer_template` / :func:`delete_buyer_template`: a Supervisor's edit of a buyer
  message in one language, refused when its placeholders would not render.
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from evidence import services
from evidence.models import Channel, Communication, Counterparty, Direction, Kind
from shopops.errors import Refused

from .. import policy
from ..buyer_messages.catalogue import text_problems
from ..buyer_messages.spec import LANGUAGES, MESSAGES
from ..buyer_messages.supplier_chat import SUPPLIER_MESSAGES
from ..models import BuyerMessageTemplate, Order

MAX_CHAT_TEXT = 4000


def record_chat_message(
    order: Order | int, *, by: AbstractBaseUser | None, message: str, text: str, language: str
) -> Communication:
    """Record that the operator sent ``text`` (a ready text, maybe retouched) to the buyer, or to
    the supplier (a ``supplier.*`` text, ``orders.buyer_messages.supplier_chat``).

    One outbound communication with the buyer on the AliExpress chat (with the supplier on 1688
    Wangwang), its full text as sent. Requires ``evidence.add_communication``. Refused for an
    unknown message or an empty text.
    """
    supplier = message in SUPPLIER_MESSAGES
    if not supplier and (message not in MESSAGES or MESSAGES[message].kind != "chat"):
        raise Refused(_("“%(message)s” is not a ready text for the buyer.") % {"message": message})
    # A browser posts a textarea's line breaks as CRLF; the text kept is the one the chat shows.
    text = (text or "").replace("\r\n", "\n").strip()
    if not text:
        raise Refused(_("The text sent to the buyer is empty."), field="text")
    if len(text) > MAX_CHAT_TEXT:
        raise Refused(_("Keep the text under %(max)d characters.") % {"max": MAX_CHAT_TEXT}, field="text")
    language_name = LANGUAGES.get(language, LANGUAGES["en"])[0]
    label = SUPPLIER_MESSAGES[message].label if supplier else MESSAGES[message].label
    return services.record_communication(
        order,
        by=by,
        counterparty=Counterparty.SUPPLIER if supplier else Counterparty.BUYER,
        channel=Channel.WANGWANG if supplier else Channel.ALIEXPRESS_MESSAGE,
        direction=Direction.OUTBOUND,
        kind=Kind.MESSAGE,
        summary=_("Ready text sent: %(label)s (%(language)s)") % {"label": label, "language": language_name},
        body=text,
    )


@transaction.atomic
def save_buyer_template(
    *, message: str, language: str, text: str, by: AbstractBaseUser | None
) -> BuyerMessageTemplate:
    """Set the wording of ``message`` in ``language`` (replacing the shipped text).

    Requires ``orders.change_buyermessagetemplate``. Refused, with nothing written, when the text
    uses a placeholder the message does not know, lacks one it needs, has a stray brace, or (an
    SMS) would take more than two segments with the longest order id and amount.
    """
    policy.require(by, "orders.change_buyermessagetemplate", _("edit buyer messages"))
    if message not in MESSAGES:
        raise Refused(_("“%(message)s” is not a buyer message.") % {"message": message}, field="message")
    if language not in LANGUAGES:
        raise Refused(_("“%(language)s” is not a buyer language.") % {"language": language}, field="language")
    text = (text or "").replace("\r\n", "\n").strip()
    found = text_problems(message, language, text)
    if found:
        raise Refused(" ".join(found), field="text")
    template, _created = BuyerMessageTemplate.objects.update_or_create(
        message=message,
        language=language,
        defaults={"text": text, "updated_at": timezone.now(), "updated_by": by},
    )
    return template


@transaction.atomic
def delete_buyer_template(template_id: int, *, by: AbstractBaseUser | None) -> None:
    """Drop a Supervisor's wording: the shipped text of that language applies again."""
    policy.require(by, "orders.delete_buyermessagetemplate", _("delete buyer messages"))
    BuyerMessageTemplate.objects.filter(pk=template_id).delete()
