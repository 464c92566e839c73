"""The Celery app. Configuration lives in Django settings under the CELERY_ namespace."""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shopops.settings")

app = Celery("shopops")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
# shopops is the project package, not an installed app, so autodiscovery does not see its tasks.
app.conf.include = ["shopops.tasks"]
