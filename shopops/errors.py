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
