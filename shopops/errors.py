"""The one error type that business operations raise when they refuse to act.

Its message is written for an operator ("Record the buyer's consent before ..."), and a
refused operation has written nothing.
"""

from django.utils.translation import gettext as _


class Refused(Exception):
    """An operation was refused; ``str(error)`` tells the operator why."""

    def __init__(self, message: str, *, field: str | None = None):
        super().__init__(message)
        self.message = message
        self.field = field  # the input at fault, when one is; forms show the message there


class NotPermitted(Refused):
    """The acting user lacks the permission for this operation."""


class OrderChanged(Refused):
    """Someone else moved the order first; the requested move is no longer possible."""


def require_permission(by, perm: str, doing: str) -> None:
    """Refuse unless ``by`` (a staff user; ``None`` is the system, always allowed) holds ``perm``.

    ``doing`` completes "You are not allowed to …" (already translated by the caller).
    """
    if by is not None and not (by.is_active and by.has_perm(perm)):
        raise NotPermitted(_("You are not allowed to %(doing)s.") % {"doing": doing})
