"""django-celery-beat's periodic tasks, with each shipped job named in the reader's language.

Beat's own admin lists the rows' stored names, which the migrations wrote in English; this one
shows them through ``orders.schedules.job_name``. Everything else is beat's admin as it is (and
superusers' only, as every screen of an app not ours: ``shopops.admin_base``).
"""

from __future__ import annotations

from django.contrib import admin
from django.utils.translation import gettext_lazy as _
from django_celery_beat.admin import PeriodicTaskAdmin as BeatPeriodicTaskAdmin
from django_celery_beat.models import PeriodicTask

from ..schedules import job_name


class PeriodicTaskAdmin(BeatPeriodicTaskAdmin):
    list_display = ("job", *(column for column in BeatPeriodicTaskAdmin.list_display if column != "name"))

    @admin.display(description=_("name"), ordering="name")
    def job(self, obj: PeriodicTask) -> str:
        return job_name(obj.name, obj.task)


if admin.site.is_registered(PeriodicTask):
    admin.site.unregister(PeriodicTask)
admin.site.register(PeriodicTask, PeriodicTaskAdmin)
