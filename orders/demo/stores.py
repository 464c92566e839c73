"""The demo's two stores: the default store every installation has, and a second seller account.

Part of the demo orders are in each, and the demo users are granted one, the other or both
(``users.DEMO_USERS``), so the back office shows what a user of one store sees and does not
see. Made through ``orders.workflow.stores`` like any store; an existing store is left as it is.
"""

from __future__ import annotations

from typing import TextIO

from ..models import Store
from ..models.store import DEFAULT_CODE
from ..workflow import stores

EU = "eu"
# (code, name, per-store settings): the second store shows its own return address, sender
# name and a quicker payment reminder; the default store keeps the environment's values.
DEMO_STORES = [
    (DEFAULT_CODE, "Main store", {}),
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
        found[code] = store
    return found


def demo_store_of(serial: int, found: dict[str, Store]) -> Store:
    """Which store the demo's ``serial``-th order is in: every third in the EU store."""
    return found[EU] if serial % 3 == 0 else found[DEFAULT_CODE]
