"""What the 1688 refund tests share: a store connected to both fake gateways, a sale returned with
its 1688 purchase known to the fake, the supplier asked without a reference, and one attempt at
filing the request over real HTTP."""

from __future__ import annotations

from decimal import Decimal

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evidence import services
from orders import workflow
from orders.models import FilingStatus, Order, PlatformRefund, Status
from orders.platforms import filing, sync
from orders.platforms.fake import FakeGateways, fake_1688_order
from orders.workflow import stores
from tests.factories import OrderFactory, SupplierOrderFactory, default_store, staff
from tests.platform_support import KEY_1688, SECRET_1688, TOKEN_1688, connect, quick_transport
from tests.workflow_support import png_bytes, say

ORDER_1688 = "2202100000000001"
ENTRY = "2202100000000101"


def connect_1688(store, *, token: str = TOKEN_1688) -> None:
    stores.connect_store(
        store, by=None, platform="1688", app_key=KEY_1688, app_secret=SECRET_1688, access_token=token
    )


@pytest.fixture(name="team")
def supervisor_and_operator():
    """An Operator and a Supervisor of the default store (import it to use the fixture "team")."""
    return {group: staff(group) for group in ("Operator", "Supervisor")}


@pytest.fixture(name="store")
def connected_store(fake: FakeGateways):
    """The default store, connected to AliExpress and 1688, both the fake's (import it to use the
    fixture "store")."""
    store = default_store()
    connect(store)
    connect_1688(store)
    return store


def sale_with_purchase(
    fake: FakeGateways | None,
    *,
    status: str = Status.SHIPPED,
    purchase_status: str = "received",
    order_status_1688: str = "confirm_goods",
    amount_1688: str = "90.00",
    entry_ids: list[str] | None = None,
) -> Order:
    """A sale of 2 units for 100 USD, its purchase of 90 CNY on 1688 (known to the fake)."""
    order = OrderFactory(status=status, quantity=2, total_amount=Decimal("100.00"), buyer_phone="")
    SupplierOrderFactory(
        order=order,
        amount=Decimal("90.00"),
        status=purchase_status,
        supplier_order_id=ORDER_1688,
        entry_ids=[ENTRY] if entry_ids is None else entry_ids,
        quantity=2,
    )
    if fake is not None:
        fake.put_1688_order(
            TOKEN_1688, fake_1688_order(ORDER_1688, [ENTRY], status=order_status_1688, amount=amount_1688)
        )
    return order


def photo(order: Order, name: str = "cracked.png") -> None:
    services.attach_file(order, by=None, file=SimpleUploadedFile(name, png_bytes(), content_type="image/png"))


def returned(order: Order, team, *, condition: str = "damaged", to_supplier: int = 2) -> Order:
    """The buyer sends both units back; the operator receives them (damaged: back to the supplier)."""
    op = team["Operator"]
    say(order, by=op)
    workflow.propose_return(order, by=op)
    say(order, kind="consent", by=op)
    workflow.record_return_agreement(order, by=op, reason="quality_issue", tracking_number="RT1CN")
    return workflow.receive_return(order, by=op, quantity=2, condition=condition, to_supplier=to_supplier)


def ask_supplier(order: Order, team, **inputs) -> PlatformRefund:
    """The Supervisor asks the supplier without a reference: the request Shopops will file."""
    inputs = {"amount": "90.00", "reason": "Both cases arrived cracked.", **inputs}
    workflow.request_supplier_refund(order, by=team["Supervisor"], **inputs)
    return PlatformRefund.objects.get(order=order, filing=FilingStatus.PENDING)


def file(request: PlatformRefund, *, timeout: float = 2.0, now=None) -> str:
    """One attempt at filing ``request`` against the fake, over real HTTP."""
    return filing.file_request(request.pk, transport=quick_transport(timeout=timeout), now=now)


def run(store, **options) -> sync.StoreReport:
    options.setdefault("transport", quick_transport())
    return sync.run_pass(store, **options)
