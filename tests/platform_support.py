"""What the platform tests share: the fake gateways on loopback, a store connected to them, a
client transport that does not sleep between retries, and a pass run against them."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from orders.platforms import sync
from orders.platforms.common import Limits, Transport
from orders.platforms.fake import FakeGateways
from orders.workflow import stores

AE_KEY, AE_SECRET, AE_TOKEN = "500123", "ae-test-secret-0001", "ae-token-store-a"
KEY_1688, SECRET_1688, TOKEN_1688 = "1688123", "aop-test-secret-0001", "aop-token-buyer-1"


def quick_transport(*, retries: int = 2, timeout: float = 2.0) -> Transport:
    """Real HTTP, but no waiting between retries (the back-off is asserted on its own)."""
    return Transport(
        Limits(timeout=timeout, retries=retries, backoff=0.0, max_bytes=20 * 1024 * 1024),
        sleep=lambda s: None,
    )


@pytest.fixture(name="fake")
def fake_gateways(settings) -> Iterator[FakeGateways]:
    """The fake gateways, the settings pointing at them, a seller and a buyer known to them.
    Import ``fake_gateways`` into a test module to use the fixture, named ``fake``."""
    with FakeGateways() as gateways:
        # A command or task run here retries as configured, without the seconds between tries
        # (the back-off itself is asserted with a transport of its own).
        settings.SHOPOPS_PLATFORM_BACKOFF_SECONDS = 0
        settings.SHOPOPS_AE_GATEWAY = gateways.aliexpress_gateway
        settings.SHOPOPS_1688_GATEWAY = gateways.alibaba_prefix
        gateways.add_aliexpress_seller(AE_KEY, AE_SECRET, AE_TOKEN)
        gateways.add_1688_buyer(KEY_1688, SECRET_1688, TOKEN_1688)
        yield gateways


def connect(store, *, secret: str = AE_SECRET, token: str = AE_TOKEN) -> None:
    stores.connect_store(
        store, by=None, platform="aliexpress", app_key=AE_KEY, app_secret=secret, access_token=token
    )


def run(store, **options) -> sync.StoreReport:
    options.setdefault("transport", quick_transport())
    return sync.run_pass(store, **options)
