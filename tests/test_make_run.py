"""`make run` on a development machine: the demo sends nothing when the worker starts, the model
checks show nothing, and the README documents the address it serves."""

from io import StringIO
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core import checks
from django.db import connection

from orders.demo import DEMO_PREFIX, seed_demo
from orders.models import Notification, NotificationStatus
from shopops import celery as shopops_celery
from tests.workflow_support import private_media  # noqa: F401

pytestmark = pytest.mark.django_db

README = Path(settings.BASE_DIR) / "README.md"


# --- make run -------------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.usefixtures("private_media")
@pytest.mark.django_db(transaction=True)
def test_the_demo_sends_no_notification_when_the_worker_starts():
    # transaction=True: seed_demo commits for real, as `manage.py seed_demo` does, and the
    # workflow's after-commit hand-offs run
    with mock.patch.object(shopops_celery.app, "send_task") as send_task:
        seed_demo(StringIO())
    demo = Notification.objects.filter(order__platform_order_id__startswith=DEMO_PREFIX)
    assert demo.count() > 50
    # recorded as the demo's past: sent, with the words they would have had
    assert set(demo.values_list("status", flat=True)) == {NotificationStatus.SENT}
    assert not demo.filter(body="").exists() and not demo.filter(sent_at=None).exists()
    delivered = [c for c in send_task.call_args_list if c.args[0] == "orders.deliver_notification"]
    assert delivered == []


def test_the_model_checks_show_nothing_on_sqlite_but_the_covering_indexes_they_silence():
    # when: the model and database checks run against the test database, as `migrate` runs them
    found = checks.run_checks(tags=[checks.Tags.models, checks.Tags.database], databases=["default"])
    # then: nothing is shown; on SQLite the one message is the covering indexes' (INCLUDE columns
    # SQLite leaves out), which the settings silence on purpose
    assert [m for m in found if not m.is_silenced()] == []
    if connection.vendor == "sqlite":
        assert {m.id for m in found} == {"models.W040"}
        assert all(m.is_silenced() for m in found)
    else:
        assert found == []


def test_the_readme_documents_the_address_make_run_serves():
    text = README.read_text(encoding="utf-8")
    assert "| `SHOPOPS_ADDRESS` |" in text
    assert "SHOPOPS_ADDRESS" in (Path(settings.BASE_DIR) / "scripts" / "devserver.py").read_text()
