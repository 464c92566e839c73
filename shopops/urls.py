"""URL configuration. The back-office lives under /admin/; /healthz is for load balancers."""

from django.contrib import admin
from django.urls import include, path

from orders.views_analytics import analytics_view

from . import views

admin.autodiscover()  # the admin app does not at start-up (shopops/admin_config.py)

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    # Before admin.site.urls, which would otherwise read "analytics" as a model name.
    path("admin/orders/analytics/", admin.site.admin_view(analytics_view), name="orders_analytics"),
    path("admin/", admin.site.urls),
]
