"""Demo data for ``manage.py seed_demo``, kept apart from the production modules.

- ``users``: the demo users, one per group, with the passwords the README documents;
- ``catalogue``: the demo's SKUs, suppliers, buyers and what buyers write;
- ``orders``: about 330 live orders in every state, moved there through ``orders.workflow``;
- ``history``: a few months of closed orders written in bulk, for the close analytics.

Every part recognises what an earlier run made, so :func:`seed_demo` is safe to run again.
"""

from __future__ import annotations

from typing import TextIO

from django.db import transaction

from ..workflow import outbox
from .catalogue import DEMO_PREFIX, HISTORY_PREFIX
from .history import seed_demo_history
from .orders import seed_demo_orders
from .users import DEMO_USERS, demo_password, ensure_demo_users

__all__ = [
    "DEMO_PREFIX",
    "DEMO_USERS",
    "HISTORY_PREFIX",
    "demo_password",
    "seed_demo",
]


def seed_demo(stdout: TextIO | None = None) -> None:
    """The demo users, the live demo orders and the close history, in one transaction.

    The demo's notifications are recorded as already sent, and none is handed to the broker:
    otherwise the first worker to start would print some 140 made-up emails and SMS.
    """
    # The demo's past has nothing to deliver (orders.demo.orders.mark_demo_notifications_sent):
    # its outbox rows are not handed to Celery.
    with outbox.kept_from_delivery(), transaction.atomic():
        ensure_demo_users(stdout)
        seed_demo_orders(stdout)
        seed_demo_history(stdout)
