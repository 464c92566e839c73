"""How staff members are named to each other: one rule for messages, pages and refusals."""

from __future__ import annotations

from typing import Any

from django.utils.translation import gettext as _


def person(user: Any) -> str:
    """A staff member as their colleagues know them: their full name, else their username;
    "nobody" for no one."""
    if user is None:
        return _("nobody")
    full = user.get_full_name() if hasattr(user, "get_full_name") else ""
    return full.strip() or user.get_username()
