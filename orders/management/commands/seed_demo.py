"""Create the demo stores, users (one per group) and data. Safe to run again."""

from django.core.management.base import BaseCommand

from orders.demo import DEMO_USERS, demo_password, seed_demo, stores_shown


class Command(BaseCommand):
    help = (
        "Create the demo stores (main, eu), users (admin, operator, operator_eu, supervisor, finance, "
        "analyst) and demo data."
    )

    def handle(self, *args, **options) -> None:
        seed_demo(stdout=self.stdout)

        self.stdout.write(self.style.SUCCESS("Demo users (log in at /admin/):"))
        for username, group_name, codes in DEMO_USERS:
            role, password = group_name or "superuser", demo_password(username)
            self.stdout.write(f"  {username:<11} {password:<22} {role:<11} {stores_shown(codes)}")
