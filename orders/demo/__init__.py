"""Demo data for ``manage.py seed_demo``, kept apart from the production modules.

- ``stores``: the default store and a second one (``eu``), each with part of the orders;
- ``users``: the demo users, one per group and a second Operator, with the passwords and the
  stores the README documents;
- ``catalogue``: the demo's SKUs, suppliers, buyers and what buyers write;
- ``orders``: about 330 live orders in every state, moved there through ``orders.workflow``;
- ``history``: a few months of closed orders written in bulk, for the close analytics;
- ``rates``: the ECB rates of the whole period (the loss ledger), without the network;
  then the kept loss ledger is rebuilt (the history bypassed the workflow that keeps it).

Every part recognises what an earlier run made, so :func:`seed_demo` is safe to run again.
"""

from __future__ import annotations

from datetime import timedelta
from typing import TextIO

from django.db import transaction
from django.utils import timezone

from ..workflow import ledger, outbox
from .catalogue import DEMO_PREFIX, HISTORY_PREFIX
from .history import HISTORY_DAYS, seed_demo_history
from .orders import seed_demo_orders
from .rates import seed_demo_rates
from .users import DEMO_USERS, demo_password, ensure_demo_users, stores_shown

__all__ = [
    "DEMO_PREFIX",
    "DEMO_USERS",
    "HISTORY_PREFIX",
    "demo_password",
    "seed_demo",
    "stores_shown",
]


def seed_demo(stdout: TextIO | None = None) -> None:
    """The demo stores and users, the live demo orders and the close history, in one transaction.

    The demo's notifications are recorded as already sent, and none is handed to the broker:
    otherwise the first worker to start would print some 140 made-up emails and SMS.
    """
    # The demo's past has nothing to deliver (orders.demo.orders.mark_demo_notifications_sent):
    # its outbox rows are not handed to Celery.
    with outbox.kept_from_delivery(), transaction.atomic():
        ensure_demo_users(stdout)
        seed_demo_orders(stdout)
        seed_demo_history(stdout)
        today = timezone.localdate()
        seed_demo_rates(stdout, since=today - timedelta(days=HISTORY_DAYS + 30), until=today)
        # The history was written in bulk, not through the workflow that keeps the loss ledger.
        ledger.rebuild_ledger()
