"""The one error type that business operations raise when they refuse to act.

Its message is written for an operator ("Record the buyer's consent before ..."), and a
refused operation has written nothing.
"""


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


class Stale(Refused):
    """The form was read before someone else changed what it shows; nothing was written.

    The screens answer 409 Conflict and show the form again with the current values: ``version``
    is the version of the values now, ``changes`` what changed since the form was read
    (``{field: {"old": …, "new": …}}``, empty when the history does not say).
    """

    def __init__(self, message: str, *, version: str, changes: dict | None = None, field: str | None = None):
        super().__init__(message, field=field)
        self.version = version
        self.changes = changes or {}
