"""URL configuration. The back-office lives under /admin/ (``/`` leads there); /healthz is for
load balancers."""

from django.contrib import admin
from django.urls import include, path
from django.views.generic import RedirectView

from . import views

admin.autodiscover()  # the admin app does not at start-up (shopops/admin_config.py)

urlpatterns = [
    # Someone typing the bare address means the back-office; not permanent: a browser must not
    # remember it if a page of our own ever lives at /.
    path("", RedirectView.as_view(pattern_name="admin:index", permanent=False), name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]
