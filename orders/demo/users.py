"""The demo users, one per group (and a second Operator for the second store), their documented
passwords and the stores each works for (README "Demo users")."""

from __future__ import annotations

from typing import TextIO

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from ..groups import sync_groups
from ..models.store import DEFAULT_CODE
from ..workflow import stores
from .stores import EU, ensure_demo_stores

# (user name, group name, the stores they work for); the groups and their permissions come from
# a data migration, and a group someone deleted is created again with the same permissions
# (``orders.groups``). The superuser (no group) works for every store.
DEMO_USERS = [
    ("admin", None, ()),
    ("operator", "Operator", (DEFAULT_CODE,)),
    ("operator_eu", "Operator", (EU,)),
    ("supervisor", "Supervisor", (DEFAULT_CODE, EU)),
    ("finance", "Finance", (DEFAULT_CODE, EU)),
    ("analyst", "Analyst", (DEFAULT_CODE,)),
]


def demo_password(username: str) -> str:
    return f"{username}-demo-2026"


def stores_shown(codes: tuple[str, ...]) -> str:
    """The stores column of the README's table and the command's output."""
    return ", ".join(codes) if codes else "every store"


def ensure_demo_users(stdout: TextIO | None = None) -> None:
    """Create the demo users, or put them back as documented (password, group, stores) if
    someone changed them."""
    user_model = get_user_model()
    wanted = [group for _user, group, _stores in DEMO_USERS if group]
    missing = sorted(set(wanted) - set(Group.objects.filter(name__in=wanted).values_list("name", flat=True)))
    if missing:
        sync_groups(apps, only=missing)
    demo_stores = ensure_demo_stores(stdout)
    for username, group_name, codes in DEMO_USERS:
        user, created = user_model.objects.get_or_create(username=username)
        user.is_staff = True
        user.is_active = True
        user.is_superuser = group_name is None
        user.email = user.email or f"{username}@shopops.localhost"
        user.set_password(demo_password(username))
        user.save()
        if group_name:
            user.groups.add(Group.objects.get(name=group_name))
            granted = [demo_stores[code] for code in codes]
            stores.revoke_stores(user, [s for s in demo_stores.values() if s not in granted], by=None)
            stores.grant_stores(user, granted, by=None)
        if stdout is not None:
            stdout.write(f"{'Created' if created else 'Updated'} user {username}")
