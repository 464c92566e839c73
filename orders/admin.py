"""Admin registrations. The order screens live here; other parts of the admin live in their own
modules, imported at the bottom so that ``admin.autodiscover`` registers them too."""

from . import admin_feedback, admin_notifications, admin_stock  # noqa: F401
