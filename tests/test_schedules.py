"""The periodic jobs' names in the reader's language on django-celery-beat's admin list.

The migrations store each job's row with an English name; the list showed "Outbox relay" and
"Payment timeouts" to a Chinese reader. A shipped job is named from its task, in the reader's
language; a name an administrator typed is shown as typed.
"""

import re

import pytest
from django.contrib.auth import get_user_model
from django.utils import translation
from django_celery_beat.models import PeriodicTask

from orders.schedules import JOBS, job_name

pytestmark = pytest.mark.django_db

LIST = "/admin/django_celery_beat/periodictask/"


def names_listed(client, language: str) -> list[str]:
    html = client.get(LIST, headers={"Accept-Language": language}).content.decode()
    cells = re.findall(r'<th class="field-job">(.*?)</th>', html)
    return [re.sub(r"<[^>]+>", "", cell).strip() for cell in cells]


@pytest.fixture
def superuser_client(client):
    client.force_login(get_user_model().objects.create_superuser("beat", "beat@example.com", "beat-2026"))
    return client


def test_every_job_the_migrations_schedule_has_its_name_for_people():
    rows = PeriodicTask.objects.values_list("task", "name")
    assert len(rows) >= 10
    for task, name in rows:
        assert task in JOBS and JOBS[task][0] == name, f"{task} ({name}) has no name in orders/schedules.py"


def test_the_chinese_list_names_each_job_in_chinese(superuser_client):
    english = names_listed(superuser_client, "en")
    chinese = names_listed(superuser_client, "zh-hans")

    assert "Outbox relay" in english and "Payment timeouts" in english
    assert len(chinese) == PeriodicTask.objects.count()
    assert "发件箱重新投递" in chinese and "付款超时关闭" in chinese
    # not one name left in English (a letter of the Latin alphabet)
    assert [name for name in chinese if re.search(r"[A-Za-z]", name)] == []


def test_a_name_typed_by_an_administrator_is_shown_as_typed(superuser_client):
    PeriodicTask.objects.filter(task="orders.relay_notifications").update(name="Relay (night shift)")
    assert "Relay (night shift)" in names_listed(superuser_client, "zh-hans")
    with translation.override("zh-hans"):
        assert job_name("Relay (night shift)", "orders.relay_notifications") == "Relay (night shift)"
        assert job_name("celery.backend_cleanup", "celery.backend_cleanup") == "清理过期的任务结果"
