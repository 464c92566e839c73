"""``manage.py store``: add stores, grant and revoke them, list them (SPEC §11).

- ``store add CODE --name NAME [--return-address …] [--payment-reminder-hours …] …``
- ``store grant USERNAME CODE [CODE …]`` (adds to the stores the user works for)
- ``store revoke USERNAME CODE [CODE …]``
- ``store list``: code, name, order count, staff with their groups

The writes are ``orders.workflow.stores``' (run as the system: whoever runs the command runs
the machine). Every refusal is a ``CommandError`` naming what is wrong (exit status 1).
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.models import Store
from orders.selectors.stores import store_overview, superusers
from orders.workflow import stores
from shopops.errors import Refused

# --flag → Store field (orders.workflow.stores.SETTINGS): each left out is blank, the environment's.
SETTING_FLAGS = {
    "--return-address": ("return_address", "Where buyers send returns [SHOPOPS_RETURN_ADDRESS]."),
    "--payment-reminder-hours": (
        "payment_reminder_hours",
        "Hours after placing until an unpaid order's buyer is reminded [SHOPOPS_PAYMENT_REMINDER_HOURS].",
    ),
    "--payment-timeout-hours": (
        "payment_timeout_hours",
        "Hours after placing until an unpaid order is closed [SHOPOPS_PAYMENT_TIMEOUT_HOURS].",
    ),
    "--supplier-respond-days": (
        "supplier_respond_days",
        "Days a supplier has to answer a refund request [SHOPOPS_SUPPLIER_RESPOND_DAYS].",
    ),
    "--message-sender": ("message_sender", "The name buyer emails come from [SHOPOPS_MESSAGE_SENDER]."),
}


class Command(BaseCommand):
    help = "Stores: add one, grant or revoke them to a staff user, list them with their staff and orders."

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(dest="action", required=True, metavar="{add,grant,revoke,list}")
        add = actions.add_parser("add", help="Add a store.")
        add.add_argument("code", help="Short and unique (regardless of case): 1–32 letters, digits, - or _.")
        add.add_argument("--name", required=True, help="The store's name, as staff see it.")
        for flag, (field, text) in SETTING_FLAGS.items():
            add.add_argument(flag, dest=field, default=None, help=text)
        for name, text in (
            ("grant", "Add stores to those a user works for."),
            ("revoke", "Take stores away."),
        ):
            sub = actions.add_parser(name, help=text)
            sub.add_argument("username")
            sub.add_argument("codes", nargs="+", metavar="CODE")
        actions.add_parser("list", help="Every store: code, name, orders, staff with their groups.")

    def handle(self, *args, action: str, **options) -> None:
        try:
            getattr(self, f"_{action}")(options)
        except Refused as exc:
            raise CommandError(exc.message) from exc

    # --- the actions -----------------------------------------------------------------------

    def _add(self, options: dict) -> None:
        settings = {
            field: options[field] for field, _text in SETTING_FLAGS.values() if options[field] is not None
        }
        store = stores.add_store(options["code"], by=None, name=options["name"], **settings)
        self.stdout.write(self.style.SUCCESS(f"Added store {store.code} ({store.name})."))
        self.stdout.write(f"Grant it to staff with: manage.py store grant USERNAME {store.code}")

    def _grant(self, options: dict) -> None:
        user, found = self._user(options["username"]), self._stores(options["codes"])
        added = stores.grant_stores(user, found, by=None)
        name = user.get_username()
        for store in found:
            if store in added:
                self.stdout.write(self.style.SUCCESS(f"{name} now works for {store.code}."))
            else:
                self.stdout.write(f"{name} already works for {store.code}: nothing to do.")
        if not user.is_staff or not user.is_active:
            self.stdout.write(
                self.style.WARNING(
                    f"Note: {name} is not an active staff user, so cannot log in to the back office yet."
                )
            )

    def _revoke(self, options: dict) -> None:
        user, found = self._user(options["username"]), self._stores(options["codes"])
        removed = stores.revoke_stores(user, found, by=None)
        name = user.get_username()
        for store in found:
            if store in removed:
                self.stdout.write(self.style.SUCCESS(f"{name} no longer works for {store.code}."))
            else:
                self.stdout.write(f"{name} did not work for {store.code}: nothing to do.")

    def _list(self, options: dict) -> None:
        rows = store_overview()
        if not rows:
            self.stdout.write("No stores.")
            return
        code_width = max(len("CODE"), *(len(r.code) for r in rows))
        name_width = max(len("NAME"), *(len(r.name) for r in rows))
        self.stdout.write(f"{'CODE':<{code_width}}  {'NAME':<{name_width}}  {'ORDERS':>8}  STAFF")
        for row in rows:
            staff = (
                ", ".join(f"{user} ({', '.join(groups) or 'no group'})" for user, groups in row.staff)
                or "nobody"
            )
            self.stdout.write(f"{row.code:<{code_width}}  {row.name:<{name_width}}  {row.orders:>8}  {staff}")
        names = superusers()
        self.stdout.write(
            f"Superusers work for every store: {', '.join(names)}." if names else "No active superuser."
        )

    # --- lookups ---------------------------------------------------------------------------

    @staticmethod
    def _user(username: str):
        model = get_user_model()
        try:
            return model.objects.get(**{model.USERNAME_FIELD: username})
        except model.DoesNotExist:
            raise CommandError(f"Unknown user “{username}”.") from None

    @staticmethod
    def _stores(codes: list[str]) -> list[Store]:
        found, unknown = [], []
        for code in dict.fromkeys(codes):
            store = Store.objects.filter(code__iexact=code.strip()).first()
            if store is None:
                unknown.append(code)
            elif store not in found:
                found.append(store)
        if unknown:
            known = ", ".join(Store.objects.order_by("code").values_list("code", flat=True)) or "none"
            listed = ", ".join(f"“{code}”" for code in unknown)
            what = "store" if len(unknown) == 1 else "stores"
            raise CommandError(f"Unknown {what} {listed} (the stores are: {known}). Nothing changed.")
        return found
