"""In Chromium: a Supervisor imports a GBK file through preview and confirm; an Operator cannot."""

from pathlib import Path

import pytest

from orders.models import Order, OrderEvent, Status
from tests.axe_support import assert_accessible
from tests.factories import staff

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SAMPLE = Path(__file__).parent / "data" / "orders_sample_gbk.csv"
PASSWORD = "correct-horse-9"


@pytest.fixture(autouse=True)
def _private_var(settings, tmp_path):
    settings.VAR_DIR = tmp_path


@pytest.fixture(autouse=True)
def _groups(transactional_db):
    # A transactional test's flush empties the groups that a data migration created.
    from django.apps import apps

    from orders.groups import sync_groups

    sync_groups(apps)


def test_supervisor_previews_then_confirms_an_import(page, live_server, admin_login):
    # given
    staff("Supervisor")
    admin_login(page, "supervisor", PASSWORD)
    # when: upload
    page.goto(f"{live_server.url}/admin/orders/order/import/")
    page.set_input_files("#id_file", str(SAMPLE))
    page.click("#import-preview")
    # then: the preview counts, nothing written yet
    assert "20 new" in page.inner_text("#import-summary")
    assert page.inner_text("#import-counts .count-new") == "20"
    assert_accessible(page)
    assert Order.objects.count() == 0
    # when: confirm
    page.click("#import-confirm")
    # then
    assert "Imported orders_sample_gbk.csv: 20 new" in page.inner_text("#import-summary")
    assert Order.objects.count() == 20
    assert Order.objects.get(platform_order_id="8100000000001001").status == Status.SHIPPED
    assert OrderEvent.objects.filter(transition="imported", actor__username="supervisor").count() == 20
    # and a re-import says it changes nothing, without a confirm button
    page.goto(f"{live_server.url}/admin/orders/order/import/")
    page.set_input_files("#id_file", str(SAMPLE))
    page.click("#import-preview")
    assert "changes nothing" in page.inner_text("#import-summary")
    assert page.locator("#import-confirm").count() == 0


def test_supervisor_sees_every_bad_row_in_the_preview(page, live_server, admin_login, tmp_path):
    staff("Supervisor")
    lines = SAMPLE.read_bytes().decode("gbk").splitlines()
    lines[3] = lines[3].replace(",3,", ",two,", 1)
    bad = tmp_path / "bad.csv"
    bad.write_bytes("\r\n".join(lines).encode("gbk"))
    admin_login(page, "supervisor", PASSWORD)
    page.goto(f"{live_server.url}/admin/orders/order/import/")
    page.set_input_files("#id_file", str(bad))
    page.click("#import-preview")
    assert "Nothing was imported" in page.inner_text("#import-summary")
    assert "quantity “two” is not a whole number" in page.inner_text("#import-errors")
    assert_accessible(page)  # the preview with its errors: WCAG 2.1 A/AA (axe-core)
    assert page.locator("#import-confirm").count() == 0
    assert Order.objects.count() == 0


def test_operator_cannot_reach_the_import_page(page, live_server, admin_login):
    staff("Operator")
    admin_login(page, "operator", PASSWORD)
    response = page.goto(f"{live_server.url}/admin/orders/order/import/")
    assert response.status == 403
    assert page.locator("#id_file").count() == 0
