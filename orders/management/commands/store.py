"""``manage.py store``: add stores, grant and revoke them, list them (SPEC §11).

- ``store add CODE --name NAME [--return-address …] [--payment-reminder-hours …] …``
- ``store grant USERNAME CODE [CODE …]`` (adds to the stores the user works for)
- ``store revoke USERNAME CODE [CODE …]``
- ``store list``: code, name, order count, staff with their groups
- ``store connect CODE --ae-app-key K --ae-app-secret S --ae-session TOKEN
  [--1688-app-key K --1688-app-secret S --1688-token TOKEN]`` (SPEC §11): the store's platform
  credentials, stored encrypted; a value ``-`` is read from standard input instead (it then
  stays out of the shell's history and the process list)

The writes are ``orders.workflow.stores``' (run as the system: whoever runs the command runs
the machine). Every refusal is a ``CommandError`` naming what is wrong (exit status 1).
"""

from __future__ import annotations

import getpass
import sys

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError, CommandParser

from orders.models import Platform, Store
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


# store connect: --flag, destination, help (SPEC section 11).
CONNECT_FLAGS = (
    ("--ae-app-key", "ae_key", "The AliExpress app key."),
    ("--ae-app-secret", "ae_secret", "The AliExpress app secret (stored encrypted; - : read it from stdin)."),
    ("--ae-session", "ae_session", "The store's AliExpress access token, its session (stored encrypted)."),
    ("--1688-app-key", "key_1688", "The 1688 app key."),
    ("--1688-app-secret", "secret_1688", "The 1688 app secret (stored encrypted)."),
    ("--1688-token", "token_1688", "The 1688 buying account's access token (stored encrypted)."),
)


class Command(BaseCommand):
    help = (
        "Stores: add one, grant or revoke them to a staff user, list them with their staff and orders, "
        "connect one to the platforms."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        actions = parser.add_subparsers(
            dest="action", required=True, metavar="{add,grant,revoke,list,connect}"
        )
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
        connect = actions.add_parser(
            "connect",
            help="Connect a store to AliExpress (and 1688): its app keys, app secrets and access tokens.",
            description="Secrets are stored encrypted (SHOPOPS_SECRETS_KEY) and never shown again. "
            "Give - as a value to type it on standard input instead.",
        )
        connect.add_argument("code", help="The store's code.")
        for flag, dest, text in CONNECT_FLAGS:
            connect.add_argument(flag, dest=dest, default=None, required=flag.startswith("--ae-"), help=text)

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

    def _connect(self, options: dict) -> None:
        (store,) = self._stores([options["code"]])
        given = {dest: self._secret(dest, options[dest]) for _flag, dest, _text in CONNECT_FLAGS}
        alibaba = [given[dest] for dest in ("key_1688", "secret_1688", "token_1688")]
        if any(value is not None for value in alibaba) and not all(alibaba):
            raise CommandError(
                "Give all three of --1688-app-key, --1688-app-secret and --1688-token, or none."
            )
        stores.connect_store(
            store,
            by=None,
            platform=Platform.ALIEXPRESS,
            app_key=given["ae_key"],
            app_secret=given["ae_secret"],
            access_token=given["ae_session"],
        )
        self.stdout.write(
            self.style.SUCCESS(f"{store.code} is connected to AliExpress (app key {given['ae_key']}).")
        )
        if all(alibaba):
            stores.connect_store(
                store,
                by=None,
                platform=Platform.ALIBABA_1688,
                app_key=given["key_1688"],
                app_secret=given["secret_1688"],
                access_token=given["token_1688"],
            )
            self.stdout.write(
                self.style.SUCCESS(f"{store.code} is connected to 1688 (app key {given['key_1688']}).")
            )
        self.stdout.write(
            "The secrets are stored encrypted. Pull now with: manage.py sync_platforms --store " + store.code
        )

    def _secret(self, dest: str, value: str | None) -> str | None:
        if value != "-":
            return value
        label = next(flag for flag, name, _text in CONNECT_FLAGS if name == dest)
        if self.stdin.isatty():
            return getpass.getpass(f"{label}: ")
        return self.stdin.readline().rstrip("\r\n")

    @property
    def stdin(self):
        return sys.stdin

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
