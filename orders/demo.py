"""Demo data for `manage.py seed_demo`.

Placeholder so that the seed_demo command runs before the real demo data lands; the orders
engineer replaces this module with one that creates demo orders, refunds and evidence.
"""


def seed_demo_data(stdout=None) -> None:
    pass
