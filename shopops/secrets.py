"""Secrets kept at rest: the platforms' app secrets and access tokens of each store.

They are encrypted with Fernet (``cryptography``: AES-128-CBC and HMAC-SHA256, authenticated)
under a key derived with HKDF-SHA256 from ``SHOPOPS_SECRETS_KEY`` (any string of at least 32
characters, SPEC section 11). The database holds only the ciphertext; the clear value exists in
memory only while a platform client signs a request with it, and is never shown back, logged, put
in a history event or sent anywhere but the platform's gateway.

Changing ``SHOPOPS_SECRETS_KEY`` makes the stored secrets unreadable (:class:`SecretUnreadable`):
each store must then be connected again (``manage.py store connect``).
"""

from __future__ import annotations

import base64
from functools import cache

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

MIN_KEY_LENGTH = 32
_SALT = b"shopops-secrets-v1"
_INFO = b"store connections"


class SecretUnreadable(Exception):
    """A stored secret cannot be decrypted: ``SHOPOPS_SECRETS_KEY`` changed since it was stored."""


def check_key(key: str) -> str:
    """``key`` when it is a usable ``SHOPOPS_SECRETS_KEY``; ``ImproperlyConfigured`` saying why not."""
    if not isinstance(key, str) or len(key) < MIN_KEY_LENGTH:
        raise ImproperlyConfigured(
            f"SHOPOPS_SECRETS_KEY must be at least {MIN_KEY_LENGTH} characters long "
            "(a random string: python -c 'import secrets; print(secrets.token_urlsafe(48))')."
        )
    return key


@cache
def _fernet(key: str) -> Fernet:
    derived = HKDF(algorithm=hashes.SHA256(), length=32, salt=_SALT, info=_INFO).derive(key.encode())
    return Fernet(base64.urlsafe_b64encode(derived))


def _current() -> Fernet:
    return _fernet(check_key(getattr(settings, "SHOPOPS_SECRETS_KEY", "")))


def encrypt(value: str) -> str:
    """The ciphertext of ``value`` (text), as stored; ``""`` stays ``""`` (nothing set)."""
    if not value:
        return ""
    return _current().encrypt(value.encode()).decode("ascii")


def decrypt(stored: str) -> str:
    """The clear value of a stored ciphertext; ``""`` for nothing set."""
    if not stored:
        return ""
    try:
        return _current().decrypt(stored.encode("ascii")).decode()
    except (InvalidToken, ValueError):
        raise SecretUnreadable(
            "A stored secret cannot be decrypted: SHOPOPS_SECRETS_KEY has changed since it was stored. "
            "Connect the store again (manage.py store connect)."
        ) from None
