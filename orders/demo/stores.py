"""The demo's two stores: the default store every installation has, and a second seller account.

Part of the demo orders are in each, and the demo users are granted one, the other or both
(``users.DEMO_USERS``), so the back office shows what a user of one store sees and does not
see. Made through ``orders.workflow.stores`` like any store; an existing store (the default one
a migration makes) gets only the demo settings it has blank, such as its return address.

Each demo store is connected to the platforms with the fake gateways' demo credentials
(``orders.platforms.fake``: ``make run`` starts the fake and points the gateways at it), unless it
is connected already: new AliExpress orders then arrive without real credentials.
"""

from __future__ import annotations

from typing import TextIO

from ..models import Platform, Store, StoreConnection
from ..models.store import DEFAULT_CODE
from ..platforms import fake
from ..workflow import stores

EU = "eu"
# (code, name, per-store settings): each store has its return address (a return proposed in
# the demo tells the buyer where to send the item); the second store also has its own sender
# name and a quicker payment reminder, where the default store keeps the environment's values.
DEMO_STORES = [
    (
        DEFAULT_CODE,
        "Main store",
        {"return_address": "Shopops Returns, Room 1808, Building B, 88 Huaxia Road, Guangzhou 510623, China"},
    ),
    (
        EU,
        "Shopops EU",
        {
            "return_address": "Shopops EU Returns, Lagerstraße 12, 04109 Leipzig, Germany",
            "message_sender": "Shopops EU",
            "payment_reminder_hours": 12,
        },
    ),
]


def ensure_demo_stores(stdout: TextIO | None = None) -> dict[str, Store]:
    """The demo stores by code, each made when missing (a store someone changed stays so)."""
    found = {}
    for code, name, settings in DEMO_STORES:
        store = Store.objects.filter(code__iexact=code).first()
        if store is None:
            store = stores.add_store(code, by=None, name=name, **settings)
            if stdout is not None:
                stdout.write(f"Created store {store.code} ({store.name})")
        else:
            blank = {field: value for field, value in settings.items() if getattr(store, field) in (None, "")}
            if blank:
                store = stores.save_store(store, by=None, code=store.code, name=store.name, **blank)
        found[code] = store
        _connect_to_the_fake(store, code, stdout)
    return found


def _connect_to_the_fake(store: Store, code: str, stdout: TextIO | None) -> None:
    demo = {
        Platform.ALIEXPRESS: (fake.DEMO_AE_APP_KEY, fake.DEMO_AE_SECRET, fake.DEMO_TOKENS.get(code)),
        Platform.ALIBABA_1688: (
            fake.DEMO_1688_APP_KEY,
            fake.DEMO_1688_SECRET,
            fake.DEMO_1688_TOKENS.get(code),
        ),
    }
    for platform, (key, secret, token) in demo.items():
        if token and not StoreConnection.objects.filter(store=store, platform=platform).exists():
            stores.connect_store(
                store, by=None, platform=platform, app_key=key, app_secret=secret, access_token=token
            )
            if stdout is not None:
                stdout.write(f"Connected store {store.code} to the fake {Platform(platform).label} gateway")


def demo_store_of(serial: int, found: dict[str, Store]) -> Store:
    """Which store the demo's ``serial``-th order is in: every third in the EU store."""
    return found[EU] if serial % 3 == 0 else found[DEFAULT_CODE]
