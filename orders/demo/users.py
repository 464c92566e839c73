"""The demo users, one per group, and their documented passwords (README "Demo users")."""

from __future__ import annotations

from typing import TextIO

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

from ..groups import sync_groups

# (user name, group name); the groups and their permissions come from a data migration, and a
# group someone deleted is created again with the same permissions (``orders.groups``).
DEMO_USERS = [
    ("admin", None),
    ("operator", "Operator"),
    ("supervisor", "Supervisor"),
    ("finance", "Finance"),
    ("analyst", "Analyst"),
]


def demo_password(username: str) -> str:
    return f"{username}-demo-2026"


def ensure_demo_users(stdout: TextIO | None = None) -> None:
    """Create the demo users, or put them back as documented if someone changed them."""
    user_model = get_user_model()
    wanted = [group for _user, group in DEMO_USERS if group]
    missing = sorted(set(wanted) - set(Group.objects.filter(name__in=wanted).values_list("name", flat=True)))
    if missing:
        sync_groups(apps, only=missing)
    for username, group_name in DEMO_USERS:
        user, created = user_model.objects.get_or_create(username=username)
        user.is_staff = True
        user.is_active = True
        user.is_superuser = group_name is None
        user.email = user.email or f"{username}@shopops.localhost"
        user.set_password(demo_password(username))
        user.save()
        if group_name:
            user.groups.add(Group.objects.get(name=group_name))
        if stdout is not None:
            stdout.write(f"{'Created' if created else 'Updated'} user {username}")
