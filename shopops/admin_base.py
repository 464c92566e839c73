"""The admin's shared pieces: the site, the one way to wire a custom screen, and a read-only base.

A custom screen is a plain function ``view(owner, request, **url_kwargs)`` that lives beside the
admin it belongs to, and that admin's ``get_urls`` wires it with :func:`screen`::

    def adjust_view(model_admin: SkuAdmin, request: HttpRequest, pk: int) -> HttpResponse: ...

    class SkuAdmin(admin.ModelAdmin):
        def get_urls(self):
            return [screen(self, "<int:pk>/adjust/", adjust_view, "orders_sku_adjust"), *super().get_urls()]

``owner`` is the ``ModelAdmin`` (URLs under ``/admin/<app>/<model>/``). A page of no model (the
close analytics) belongs to the site itself: its module declares it with
``admin.site.register_screen(route, view, name)`` and the site's ``get_urls`` wires it the same
way, with the site as ``owner``.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, update_wrapper

from django.contrib import admin
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

Owner = admin.ModelAdmin | admin.AdminSite
View = Callable[..., HttpResponse]


def screen(owner: Owner, route: str, view: View, name: str) -> URLPattern:
    """The URL of one custom screen: ``view(owner, request, **url_kwargs)`` behind the admin login
    (staff only, CSRF-protected, never cached), like the admin's own pages."""
    site = owner if isinstance(owner, admin.AdminSite) else owner.admin_site
    bound = update_wrapper(partial(view, owner), view)
    return path(route, site.admin_view(bound), name=name)


class ShopopsAdminSite(admin.AdminSite):
    """Django's admin site with the back office's names, and the screens of no model."""

    site_header = "Shopops"
    site_title = "Shopops"
    index_title = _("Back office")
    # Shopops is only the back office: there is no public site for "View site" to lead to.
    site_url = None

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name)
        self._screens: list[tuple[str, View, str]] = []

    def register_screen(self, route: str, view: View, name: str) -> None:
        """Add a page of no model at ``/admin/<route>``, named ``admin:<name>``."""
        self._screens.append((route, view, name))

    def get_urls(self) -> list:
        # Before the model URLs, which would otherwise read "orders/analytics/" as a model's.
        own = [screen(self, route, view, name) for route, view, name in self._screens]
        return own + super().get_urls()


class ReadOnlyAdmin(admin.ModelAdmin):
    """Viewable by those with the view permission; never added, changed or deleted here."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def get_actions(self, request: HttpRequest):
        actions = super().get_actions(request)
        actions.pop("delete_selected", None)
        return actions


class ReadOnlyInline(admin.TabularInline):
    """Rows shown on their parent's page (with every field read-only); never added, changed or
    deleted there."""

    extra = 0
    max_num = 0
    can_delete = False

    def get_readonly_fields(self, request: HttpRequest, obj=None):
        return self.get_fields(request, obj)

    def has_add_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return False
