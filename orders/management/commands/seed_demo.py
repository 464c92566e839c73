"""Create the demo users (one per group) and the demo data. Safe to run again."""

from django.core.management.base import BaseCommand

from orders.demo import DEMO_USERS, demo_password, seed_demo


class Command(BaseCommand):
    help = "Create demo users (admin, operator, supervisor, finance, analyst) and demo data."

    def handle(self, *args, **options) -> None:
        seed_demo(stdout=self.stdout)

        self.stdout.write(self.style.SUCCESS("Demo users (log in at /admin/):"))
        for username, group_name in DEMO_USERS:
            role = group_name or "superuser"
            self.stdout.write(f"  {username:<11} {demo_password(username):<22} {role}")
