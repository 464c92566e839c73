"""Who marks a refund received (issue 23): Finance sees the money due to us arrive in our
account; a buyer's refund is seen arriving on the platform, by the Supervisors who confirm
refunds there (Finance may still mark any refund received, SPEC §5)."""

import pytest

from orders import workflow
from shopops.errors import NotPermitted
from tests.factories import RefundFactory, staff

pytestmark = pytest.mark.django_db


def test_a_supervisor_marks_a_buyers_refund_received_but_not_a_suppliers():
    # given: a buyer's refund and a supplier's, both succeeded
    buyer = RefundFactory(succeeded=True)
    supplier = RefundFactory(succeeded=True, supplier=True)
    supervisor = staff("Supervisor")
    # then: the buyer's, seen arriving on the platform, is the Supervisor's to mark
    assert workflow.mark_refund_received(buyer, by=supervisor).status == "received"
    # the money due to us is Finance's, which sees it arrive in our account
    with pytest.raises(NotPermitted, match="Finance sees that money arrive"):
        workflow.mark_refund_received(supplier, by=supervisor)
    supplier.refresh_from_db()
    assert supplier.status == "succeeded"
    assert workflow.mark_refund_received(supplier, by=staff("Finance")).status == "received"
