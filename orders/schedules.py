"""The periodic jobs' names as people read them, in the reader's language.

Each job's django-celery-beat row is made by a migration (``0004_beat_schedules`` and those after
it) with an English name: the name is the row's unique key, read by a running beat, and stored
once for every reader. What a job *is* is its task, a code; the admin shows the name of a job we
ship in the reader's language from here, by that code. A name an administrator typed instead
(a renamed or an added row) is shown as typed.
"""

from __future__ import annotations

from django.utils.translation import gettext, gettext_noop

# task → the name its migration gave the row (beat's own cleanup names its row by its task), and
# that name for people (gettext_noop: the English name is the message id).
JOBS: dict[str, tuple[str, str]] = {
    "orders.relay_notifications": ("Outbox relay", gettext_noop("Outbox relay")),
    "orders.send_payment_reminders": ("Payment reminders", gettext_noop("Payment reminders")),
    "orders.close_timed_out_orders": ("Payment timeouts", gettext_noop("Payment timeouts")),
    "orders.chase_supplier_refunds": ("Supplier refund chase", gettext_noop("Supplier refund chase")),
    "orders.report_overdue_supplier_refunds": (
        "Overdue supplier refunds digest",
        gettext_noop("Overdue supplier refunds digest"),
    ),
    "orders.check_refund_arrivals": ("Refund arrival check", gettext_noop("Refund arrival check")),
    "orders.fetch_fx_rates": ("Exchange rates fetch", gettext_noop("Exchange rates fetch")),
    "orders.sync_platforms": ("Platform sync", gettext_noop("Platform sync")),
    "orders.hand_off_supplier_answers": (
        "Supplier answers due: tell staff",
        gettext_noop("Supplier answers due: tell staff"),
    ),
    "orders.send_staff_digests": ("Daily digest of hand-offs", gettext_noop("Daily digest of hand-offs")),
    # Added by beat itself when task results expire (CELERY_RESULT_EXPIRES).
    "celery.backend_cleanup": ("celery.backend_cleanup", gettext_noop("Clean up expired task results")),
}


def job_name(name: str, task: str) -> str:
    """The name of a beat row for the reader: a shipped job's in the active language, any other
    name (typed by an administrator) as it is."""
    shipped = JOBS.get(task)
    if shipped is None or name != shipped[0]:
        return name
    return gettext(shipped[1])
