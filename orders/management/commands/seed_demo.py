"""Create the demo users (one per group) and the demo data. Safe to run again."""

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand
from django.db import transaction

from orders.demo import seed_demo_data
from orders.demo_history import seed_demo_history

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


class Command(BaseCommand):
    help = "Create demo users (admin, operator, supervisor, finance, analyst) and demo data."

    def handle(self, *args, **options) -> None:
        with transaction.atomic():
            for username, group_name in DEMO_USERS:
                self._ensure_user(username, group_name)
            seed_demo_data(stdout=self.stdout)
            seed_demo_history(stdout=self.stdout)

        self.stdout.write(self.style.SUCCESS("Demo users (log in at /admin/):"))
        for username, group_name in DEMO_USERS:
            role = group_name or "superuser"
            self.stdout.write(f"  {username:<11} {demo_password(username):<22} {role}")

    def _ensure_user(self, username: str, group_name: str | None) -> None:
        user_model = get_user_model()
        user, created = user_model.objects.get_or_create(username=username)
        # Rerunning restores the documented demo state, even if someone changed it.
        user.is_staff = True
        user.is_active = True
        user.is_superuser = group_name is None
        user.email = user.email or f"{username}@shopops.localhost"
        user.set_password(demo_password(username))
        user.save()
        if group_name:
            group, _ = Group.objects.get_or_create(name=group_name)
            user.groups.add(group)
        self.stdout.write(f"{'Created' if created else 'Updated'} user {username}")
