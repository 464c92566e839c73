"""URL configuration. The back-office lives under /admin/; /healthz is for load balancers."""

from django.contrib import admin
from django.urls import include, path

from . import views

admin.autodiscover()  # the admin app does not at start-up (shopops/admin_config.py)

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
