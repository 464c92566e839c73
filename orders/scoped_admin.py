"""The admin of a store's objects: every list, page and action asks the access policy.

``StoreScopedAdmin`` goes first in the bases of every ``ModelAdmin`` whose model is in
``orders.policy.STORE_PATHS``:

- its queryset holds only the user's stores (``policy.scope``), so the list, the counts, the
  search, the actions (which run on the list's queryset), the change page and every custom
  screen that loads its object through ``get_object`` see nothing else;
- an id of another store answers 404, exactly as an id that does not exist (the admin's own
  redirect to the index with "doesn't exist" would say which ids are real);
- ``has_*_permission(request, obj)`` is the role (Django's, as before) and the object's store;
- a "Store" filter is on the list of anyone who works for more than one store.

``tests/test_store_scope.py`` crawls every admin URL as a one-store user with the other store's
ids, and ``tests/test_admin_permissions.py`` keeps every registered admin in a table.
"""

from __future__ import annotations

from django.contrib import admin
from django.http import Http404, HttpRequest
from django.utils.translation import gettext_lazy as _

from . import policy


class StoreFilter(admin.SimpleListFilter):
    """The list's rows of one of the user's stores (``?store=<id>``)."""

    title = _("store")
    parameter_name = "store"

    def lookups(self, request, model_admin):
        return [(str(s.pk), f"{s.code} · {s.name}") for s in policy.stores(request.user)]

    def queryset(self, request, queryset):
        value = self.value()
        if not value:
            return queryset
        offered = {str(pk): pk for pk in policy.stores(request.user).values_list("pk", flat=True)}
        if value not in offered:
            # Not one of the choices offered: nothing rather than a guess (or another store).
            return queryset.none()
        path = policy.STORE_PATHS[queryset.model._meta.label_lower]
        return queryset.filter(**{f"{path}_id" if path else "pk": offered[value]})


class StoreScopedAdmin(admin.ModelAdmin):
    """A ``ModelAdmin`` of a store's objects (see the module docstring)."""

    def get_queryset(self, request: HttpRequest):
        return policy.scope(request.user, super().get_queryset(request))

    def get_list_filter(self, request: HttpRequest):
        filters = list(super().get_list_filter(request))
        ids = policy.store_ids(request.user)
        if ids is None or len(ids) > 1:
            filters.insert(0, StoreFilter)
        return filters

    def _get_obj_does_not_exist_redirect(self, request, opts, object_id):
        raise Http404(
            _("There is no %(name)s with id %(id)s.") % {"name": opts.verbose_name, "id": object_id}
        )

    def has_view_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_view_permission(request, obj) and self._of_user_stores(request, obj)

    def has_change_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_change_permission(request, obj) and self._of_user_stores(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj=None) -> bool:
        return super().has_delete_permission(request, obj) and self._of_user_stores(request, obj)

    @staticmethod
    def _of_user_stores(request: HttpRequest, obj) -> bool:
        return obj is None or policy.visible(request.user, obj)


class StoreScopedInline(admin.options.InlineModelAdmin):
    """An inline of a store's objects on the page of a shared one (a SKU's stock movements):
    only the rows of the user's stores."""

    def get_queryset(self, request: HttpRequest):
        return policy.scope(request.user, super().get_queryset(request))
