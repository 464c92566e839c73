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

The screens of the apps that are not ours (``django.contrib.auth``'s users and groups,
django-celery-beat's periodic tasks, axes' login records, and whatever a new dependency
registers) are for superusers only: :meth:`ShopopsAdminSite.register` puts
:class:`SuperuserOnly` over each of them, whatever permissions a group holds. A periodic task's
arguments are what a worker runs; a user's groups are what everyone may do.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import partial, update_wrapper

from django.contrib import admin
from django.db.models.base import ModelBase
from django.http import HttpRequest, HttpResponse
from django.urls import URLPattern, path
from django.utils.translation import gettext_lazy as _

Owner = admin.ModelAdmin | admin.AdminSite
View = Callable[..., HttpResponse]

# The apps whose screens follow the groups' permissions; every other app's are superusers' only.
OWN_APPS = frozenset({"orders", "evidence"})


def screen(
    owner: Owner, route: str, view: View, name: str, *, list_query: tuple[str, ...] | None = None
) -> URLPattern:
    """The URL of one custom screen: ``view(owner, request, **url_kwargs)`` behind the admin login
    (staff only, CSRF-protected, never cached), like the admin's own pages.

    ``list_query``: the screen reads its owner's list query (its filters, search and ordering, as
    the order export does), plus these parameters of its own; ``shopops.query_guard`` then accepts
    on it exactly what it accepts on the list, and these.
    """
    site = owner if isinstance(owner, admin.AdminSite) else owner.admin_site
    bound = update_wrapper(partial(view, owner), view)
    wrapped = site.admin_view(bound)
    if list_query is not None:
        wrapped.shopops_list_query = (owner, tuple(list_query))
    return path(route, wrapped, name=name)


class SuperuserOnly:
    """Over a third-party ``ModelAdmin``: nothing to anyone but a superuser (and to a superuser,
    what the admin itself allows). A permission given to a group by mistake opens nothing."""

    def has_module_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_module_permission(request)

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser and super().has_view_permission(request, obj)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return request.user.is_superuser and super().has_add_permission(request)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return request.user.is_superuser and super().has_delete_permission(request, obj)


def superuser_only(admin_class: type[admin.ModelAdmin]) -> type[admin.ModelAdmin]:
    """``admin_class`` under :class:`SuperuserOnly`, with its own name and module (which the
    admin's checks and messages show)."""
    return type(
        admin_class.__name__,
        (SuperuserOnly, admin_class),
        {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__},
    )


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

    def register(self, model_or_iterable, admin_class=None, **options) -> None:
        """Django's ``register``, with every model of an app not in :data:`OWN_APPS` behind
        :class:`SuperuserOnly`: a new dependency's admin cannot arrive open to the staff."""
        models = [model_or_iterable] if isinstance(model_or_iterable, ModelBase) else model_or_iterable
        for model in models:
            model_admin = admin_class or admin.ModelAdmin
            if options:  # as Django does: a subclass with the options, then the layer over it
                attrs = {"__module__": __name__, **options}
                model_admin = type(f"{model.__name__}Admin", (model_admin,), attrs)
            if model._meta.app_label not in OWN_APPS:
                model_admin = superuser_only(model_admin)
            super().register(model, model_admin)

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
