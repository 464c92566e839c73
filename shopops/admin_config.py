"""The admin app, with its ``admin.py`` modules loaded with the URLconf instead of at start-up.

Django's default ``AdminConfig`` imports every app's ``admin.py`` in ``django.setup()``: a third
of a second of every management command, the CSV import and the Celery worker included, for
screens they never serve. ``shopops/urls.py`` calls ``admin.autodiscover()`` instead (the pattern
Django documents for ``SimpleAdminConfig``), and the admin's system check discovers them first,
so ``manage.py check`` still checks every ``ModelAdmin``.
"""

from django.contrib import admin
from django.contrib.admin.apps import SimpleAdminConfig
from django.contrib.admin.checks import check_admin_app, check_dependencies
from django.core import checks


def check_discovered_admin(app_configs, **kwargs):
    admin.autodiscover()
    return check_admin_app(app_configs, **kwargs)


class ShopopsAdminConfig(SimpleAdminConfig):
    # The back office's site: its names, and the pages of no model (shopops/admin_base.py).
    default_site = "shopops.admin_base.ShopopsAdminSite"

    def ready(self):
        # SimpleAdminConfig.ready() registers check_admin_app, which would check only the
        # ModelAdmins registered so far: register the discovering one instead.
        checks.register(check_dependencies, checks.Tags.admin)
        checks.register(check_discovered_admin, checks.Tags.admin)
