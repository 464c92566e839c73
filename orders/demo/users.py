"""The demo users, one per group, and their documented passwords (README "Demo users")."""

from __future__ import annotations

from typing import TextIO

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group

# (user name, group name); the groups and their permissions come from a data migration.
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
    for username, group_name in DEMO_USERS:
        user, created = user_model.objects.get_or_create(username=username)
        user.is_staff = True
        user.is_active = True
        user.is_superuser = group_name is None
        user.email = user.email or f"{username}@shopops.localhost"
        user.set_password(demo_password(username))
        user.save()
        if group_name:
            group, _ = Group.objects.get_or_create(name=group_name)
            user.groups.add(group)
        if stdout is not None:
            stdout.write(f"{'Created' if created else 'Updated'} user {username}")
