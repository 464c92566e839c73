"""Whether the evidence a transition declares (``orders.transitions``) was recorded on an order.

One rule for the workflow, which refuses the step without it (``workflow.core.check_evidence``),
and for the screens, which offer to record it only while it is missing.
"""

from __future__ import annotations

from evidence.models import Attachment, Communication

from ..models import Order
from ..transitions import TRANSITIONS


def evidence_missing(name: str, order: Order) -> bool:
    """True when transition ``name`` declares evidence that ``order`` does not have yet.

    A communication counts when it was recorded since the order reached its current status (an
    answer to what was asked then); an attachment counts whenever it was attached.
    """
    evidence = TRANSITIONS[name].evidence
    if evidence is None:
        return False
    if evidence.attachment:
        found = Attachment.objects.filter(order=order)
    else:
        found = Communication.objects.filter(
            order=order, counterparty=evidence.counterparty, recorded_at__gte=order.status_changed_at
        )
        if evidence.kind:
            found = found.filter(kind=evidence.kind)
    return not found.exists()
