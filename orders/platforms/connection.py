"""A store's 1688 client, from its connection (the secrets decrypted only to sign)."""

from __future__ import annotations

from django.conf import settings

from shopops import secrets

from ..models import Platform, Store, StoreConnection
from .alibaba1688 import Alibaba1688Client
from .common import Transport


class NotConnected(Exception):
    """The store has no 1688 connection, or its secrets cannot be read (``SHOPOPS_SECRETS_KEY``
    changed)."""


def is_connected_to_1688(store: Store) -> bool:
    return StoreConnection.objects.filter(store=store, platform=Platform.ALIBABA_1688).exists()


def alibaba_client(store: Store, transport: Transport | None = None) -> Alibaba1688Client:
    """``store``'s 1688 buying account; ``NotConnected`` when there is none or it cannot be read."""
    try:
        connection = StoreConnection.objects.get(store=store, platform=Platform.ALIBABA_1688)
        secret, token = secrets.decrypt(connection.app_secret), secrets.decrypt(connection.access_token)
    except StoreConnection.DoesNotExist:
        raise NotConnected("the store is not connected to 1688") from None
    except secrets.SecretUnreadable as error:
        raise NotConnected(str(error)) from None
    return Alibaba1688Client(
        prefix=settings.SHOPOPS_1688_GATEWAY,
        app_key=connection.app_key,
        app_secret=secret,
        access_token=token,
        transport=transport or Transport(),
    )
