"""What the operator writes to the buyer in the platform chat, and the Supervisor's wording of it.

- :func:`record_chat_message`: the ready text the operator copied into the platform chat,
  recorded as an outbound communication with the buyer (the evidence "ask to cancel" and
  "propose a return" require).
- :func:`save_buyer_template` / :func:`delete_buyer_template`: a Supervisor's edit of a buyer
  message in one language, refused when its placeholders would not render, when it holds a
  control or bidirectional-override character (``shopops.inputs``: U+202E would reverse what the
  operator pastes into the chat), or when it was edited by someone else since the form was read.
  Every wording saved, and every deletion, is kept as a ``BuyerMessageTemplateVersion``
  (append-only, with who and when).
"""

from __future__ import annotations

from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from evidence import services
from evidence.models import Channel, Communication, Counterparty, Direction, Kind
from shopops import inputs
from shopops.errors import Refused, Stale

from .. import policy, said
from ..buyer_messages.catalogue import text_problems
from ..buyer_messages.chat import buyer_facts, unsendable
from ..buyer_messages.spec import LANGUAGES, MESSAGES
from ..buyer_messages.supplier_chat import SUPPLIER_MESSAGES
from ..models import BuyerMessageTemplate, BuyerMessageTemplateVersion, Order
from .versions import version_of

MAX_CHAT_TEXT = 4000
MAX_TEMPLATE_TEXT = 10_000


def template_text(text: object) -> str:
    """A template's text as it is stored: line breaks as the chat shows them (a browser posts
    CRLF), stripped; refused when empty, too long, or holding a control or bidirectional
    character (``shopops.inputs.text``)."""
    value = text.replace("\r\n", "\n") if isinstance(text, str) else text
    return inputs.text(
        value,
        "text",
        label=_("The text"),
        max_length=MAX_TEMPLATE_TEXT,
        required=True,
        multiline=True,
        message=_("The text is empty."),
    )


def template_version(template: BuyerMessageTemplate | None) -> str:
    """The version of a template's wording as its form shows it ("" when there is none yet)."""
    return version_of(template, ["text"]) if template is not None else ""


def check_template_version(message: str, language: str, seen: str | None) -> None:
    """``Stale`` when the wording of (``message``, ``language``) changed since the form showed
    version ``seen`` (:func:`template_version`); ``None`` is not checked."""
    if seen is None:
        return
    current = BuyerMessageTemplate.objects.filter(message=message, language=language).first()
    if seen == template_version(current):
        return
    last = (
        BuyerMessageTemplateVersion.objects.filter(message=message, language=language)
        .select_related("created_by")
        .first()
    )
    who = last.created_by.get_username() if last and last.created_by_id else _("the system")
    raise Stale(
        _(
            "While you had this form open, %(who)s %(action)s this text (%(when)s). Nothing was "
            "saved: the form now shows the current text; check it and save again."
        )
        % {
            "who": who,
            "action": last.get_action_display() if last else _("changed"),
            "when": timezone.localtime(last.created_at).strftime("%Y-%m-%d %H:%M") if last else "",
        },
        version=template_version(current),
        field="text",
    )


def _order(order: Order | int, by: AbstractBaseUser | None) -> Order:
    """The order, when ``by`` may know of it (another store's does not exist for them)."""
    if isinstance(order, Order):
        return order
    try:
        found = policy.scope(by, Order.objects.select_related("store")).filter(pk=order).first()
    except (ValueError, TypeError):
        found = None
    if found is None:
        raise policy.not_found(Order, order)
    return found


def record_chat_message(
    order: Order | int, *, by: AbstractBaseUser | None, message: str, text: str, language: str
) -> Communication:
    """Record that the operator sent ``text`` (a ready text, maybe retouched) to the buyer, or to
    the supplier (a ``supplier.*`` text, ``orders.buyer_messages.supplier_chat``).

    One outbound communication with the buyer on the AliExpress chat (with the supplier on 1688
    Wangwang), its full text as sent. Requires ``evidence.add_communication``. Refused for an
    unknown message, an empty text, or a buyer text that needs a fact the order's store lacks
    (``chat.unsendable``: a return proposed with no return address).
    """
    supplier = message in SUPPLIER_MESSAGES
    if not supplier and (message not in MESSAGES or MESSAGES[message].kind != "chat"):
        raise Refused(_("“%(message)s” is not a ready text for the buyer.") % {"message": message})
    # A browser posts a textarea's line breaks as CRLF; the text kept is the one the chat shows.
    text = inputs.text(
        text.replace("\r\n", "\n") if isinstance(text, str) else text,
        "text",
        label=_("The text sent to the buyer"),
        max_length=100_000,
        required=True,
        multiline=True,
        message=_("The text sent to the buyer is empty."),
    )
    if len(text) > MAX_CHAT_TEXT:
        raise Refused(_("Keep the text under %(max)d characters.") % {"max": MAX_CHAT_TEXT}, field="text")
    if not supplier:
        # A text the buyer could not act on (a return with no address to send it to) is not sent.
        target = _order(order, by)
        blocked = unsendable(message, buyer_facts(target))
        if blocked:
            raise Refused(blocked)
        order = target
    # Stored as codes, told in each reader's language (orders.said); a language we do not write
    # in is English, as the text shown was.
    data = said.ready_text(message, language if language in LANGUAGES else "en")
    return services.record_communication(
        order,
        by=by,
        counterparty=Counterparty.SUPPLIER if supplier else Counterparty.BUYER,
        channel=Channel.WANGWANG if supplier else Channel.ALIEXPRESS_MESSAGE,
        direction=Direction.OUTBOUND,
        kind=Kind.MESSAGE,
        summary=said.told(data),
        body=text,
        data=data,
    )


@transaction.atomic
def save_buyer_template(
    *, message: str, language: str, text: str, by: AbstractBaseUser | None, seen: str | None = None
) -> BuyerMessageTemplate:
    """Set the wording of ``message`` in ``language`` (replacing the shipped text).

    Requires ``orders.change_buyermessagetemplate``. Refused, with nothing written, when the text
    holds a control or bidirectional character, uses a placeholder the message does not know,
    lacks one it needs, has a stray brace, or (an SMS) would take more than two segments at its
    worst; ``Stale`` when ``seen`` (the version the form showed) is not the current one. The
    wording is kept as a new ``BuyerMessageTemplateVersion``.
    """
    policy.require(by, "orders.change_buyermessagetemplate", _("edit buyer messages"))
    if message not in MESSAGES:
        raise Refused(_("“%(message)s” is not a buyer message.") % {"message": message}, field="message")
    if language not in LANGUAGES:
        raise Refused(_("“%(language)s” is not a buyer language.") % {"language": language}, field="language")
    text = template_text(text)
    found = text_problems(message, language, text)
    if found:
        raise Refused(" ".join(found), field="text")
    # The row of (message, language) locked, so that two saves are one after the other.
    list(BuyerMessageTemplate.objects.select_for_update().filter(message=message, language=language))
    check_template_version(message, language, seen)
    now = timezone.now()
    template, _created = BuyerMessageTemplate.objects.update_or_create(
        message=message,
        language=language,
        defaults={"text": text, "updated_at": now, "updated_by": by},
    )
    BuyerMessageTemplateVersion.objects.create(
        message=message,
        language=language,
        action=BuyerMessageTemplateVersion.Action.SAVED,
        text=text,
        created_at=now,
        created_by=by,
    )
    return template


@transaction.atomic
def delete_buyer_template(template_id: int, *, by: AbstractBaseUser | None) -> None:
    """Drop a Supervisor's wording: the shipped text of that language applies again. The wording
    it had is kept as a ``deleted`` ``BuyerMessageTemplateVersion``."""
    policy.require(by, "orders.delete_buyermessagetemplate", _("delete buyer messages"))
    template = BuyerMessageTemplate.objects.select_for_update().filter(pk=template_id).first()
    if template is None:
        return
    BuyerMessageTemplateVersion.objects.create(
        message=template.message,
        language=template.language,
        action=BuyerMessageTemplateVersion.Action.DELETED,
        text=template.text,
        created_by=by,
    )
    template.delete()
