"""The back office's admin for orders: one module per group of screens.

``orders``        the order list, the order page (read-only) and the history of events
``order_views``   the order page's screens: transition forms, evidence, contact correction
``order_actions`` the order list's bulk actions (close unpaid, payment reminder, export)
``imports``       the order CSV import / export screens and the import history
``refunds`` ``stock`` ``notifications`` ``feedback`` ``buyer_messages``   their models' admins and screens
``stores``        the stores: superusers add and change them, staff see their own
``analytics``     the close analytics page, a screen of the admin site (it has no model)
``team``          the supervisor's team page and everyone's "My notifications" (screens of the site)
``assignment``    who handles an order: take it on, take it over, assign one or many
``schedules``     django-celery-beat's periodic tasks, each shipped job named in the reader's language
``filters`` ``paginator`` ``actions`` ``display`` ``timeline``   what those share

One pattern for a custom screen: a function ``view(model_admin, request, **url_kwargs)`` beside
its admin, wired by that admin's ``get_urls`` with ``shopops.admin_base.screen``; the view
calls the workflow (or a selector) and shows its ``Refused`` message. See ``docs/`` for where
each kind of change goes.

``admin.autodiscover()`` imports this package (from the URLconf, not at start-up); importing it
registers every ``ModelAdmin`` below.
"""

from . import (  # noqa: F401
    analytics,
    buyer_messages,
    feedback,
    imports,
    notifications,
    orders,
    rates,
    refunds,
    schedules,
    stock,
    stores,
    team,
)
from .orders import OrderAdmin

__all__ = ["OrderAdmin"]
