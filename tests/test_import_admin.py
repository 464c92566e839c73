"""The admin import (upload → preview → confirm) and export screens, through Django's test client."""

import csv
import io
from pathlib import Path

import pytest
from django.contrib.auth.models import Permission, User
from django.test import Client
from django.urls import reverse

from orders.admin.imports import SESSION_KEY, import_dir
from orders.imports.service import import_orders
from orders.models import Order, OrderEvent, OrderImport
from tests.factories import OrderFactory, staff

pytestmark = pytest.mark.django_db

SAMPLE = Path(__file__).parent / "data" / "orders_sample_gbk.csv"
IMPORT_URL = "/admin/orders/order/import/"
EXPORT_URL = "/admin/orders/order/export/"


def _upload(client, data: bytes, name: str = "orders.csv"):
    return client.post(IMPORT_URL, {"file": _file(data, name)})


def _file(data: bytes, name: str):
    upload = io.BytesIO(data)
    upload.name = name
    return upload


@pytest.fixture(autouse=True)
def _private_var(settings, tmp_path):
    # Uploads waiting for their confirm go under VAR_DIR/imports: keep the test's out of var/.
    settings.VAR_DIR = tmp_path


@pytest.fixture
def supervisor_client(client):
    client.force_login(staff("Supervisor"))
    return client


def test_urls_are_the_spec_ones():
    assert reverse("admin:orders_order_import") == IMPORT_URL
    assert reverse("admin:orders_order_export") == EXPORT_URL


@pytest.mark.parametrize("group", ["Operator", "Finance", "Analyst"])
def test_only_supervisors_reach_the_import_page(client, group):
    client.force_login(staff(group))
    assert client.get(IMPORT_URL).status_code == 403
    assert client.post(IMPORT_URL, {"file": _file(SAMPLE.read_bytes(), "x.csv")}).status_code == 403
    assert Order.objects.count() == 0


def test_anonymous_is_sent_to_the_login_page(client):
    response = client.get(IMPORT_URL)
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]


def test_preview_writes_nothing_then_confirm_imports(supervisor_client):
    # when: preview
    response = _upload(supervisor_client, SAMPLE.read_bytes(), "订单.csv")
    # then
    assert response.status_code == 200
    assert "20 new" in response.content.decode()
    assert Order.objects.count() == 0
    token = response.context["token"]
    stored = import_dir() / f"{token}.csv"
    assert stored.is_file()
    assert list(supervisor_client.session[SESSION_KEY]) == [token]
    # when: confirm
    response = supervisor_client.post(IMPORT_URL, {"token": token})
    # then
    assert response.status_code == 200
    assert "Imported 订单.csv: 20 new" in response.content.decode()
    assert Order.objects.count() == 20
    assert OrderEvent.objects.filter(transition="imported", actor__username="supervisor").count() == 20
    assert not stored.exists()
    # a second confirm of the same preview imports nothing more
    again = supervisor_client.post(IMPORT_URL, {"token": token})
    assert again.status_code == 400
    assert "no longer available" in again.content.decode()


def test_a_token_from_another_session_is_refused(supervisor_client):
    token = _upload(supervisor_client, SAMPLE.read_bytes()).context["token"]
    other = Client()
    other.force_login(staff("Supervisor", username="other-supervisor"))
    response = other.post(IMPORT_URL, {"token": token})
    assert response.status_code == 400
    assert Order.objects.count() == 0


def test_invalid_file_preview_lists_every_bad_row_and_offers_no_confirm(supervisor_client):
    text = SAMPLE.read_bytes().decode("gbk").splitlines()
    rows = list(csv.reader(text))
    rows[2][12] = "two"  # 数量, spreadsheet row 3
    rows[5][13] = "12,5元"  # 单价, row 6
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    response = _upload(supervisor_client, buffer.getvalue().encode("gbk"))
    body = response.content.decode()
    assert "Nothing was imported" in body
    assert "quantity “two” is not a whole number" in body
    assert "12,5元" in body
    assert response.context["token"] == ""
    assert 'id="import-confirm"' not in body
    assert [(i.row, i.column) for i in response.context["result"].errors] == [
        (3, "quantity"),
        (6, "unit_price"),
    ]
    assert Order.objects.count() == 0


def test_files_above_the_limit_are_refused_before_parsing(supervisor_client, settings):
    settings.SHOPOPS_IMPORT_MAX_MB = 0.001  # about 1 KB
    response = _upload(supervisor_client, b"order_id\n" + b"1\n" * 2000)
    assert response.status_code == 413
    assert "imports are limited to 0.001 MB" in response.content.decode()
    assert "result" not in response.context
    assert Order.objects.count() == 0


def test_wrong_encoding_is_refused_with_how_to_save_it(supervisor_client):
    response = _upload(supervisor_client, "订单号,订单状态\n1,待付款\n".encode("utf-16"))
    body = response.content.decode()
    assert "CSV UTF-8 (Comma delimited)" in body
    assert Order.objects.count() == 0


def test_changelist_shows_import_and_export_buttons_to_supervisors(supervisor_client):
    response = supervisor_client.get("/admin/orders/order/")
    assert response.context["can_import_orders"] is True
    assert response.context["can_export_orders"] is True


def test_export_follows_the_list_filters_and_needs_the_permission(client):
    OrderFactory(platform_order_id="8100000000000001", status="paid", notes="=1+1")
    OrderFactory(platform_order_id="8100000000000002", status="awaiting_payment")
    client.force_login(staff("Operator"))
    response = client.get(EXPORT_URL, {"status__exact": "paid"})
    assert response.status_code == 200
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    assert [r["order_id"] for r in rows] == ["8100000000000001"]
    assert rows[0]["notes"] == "'=1+1"
    xlsx = client.get(EXPORT_URL, {"_format": "xlsx"})
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    nobody = staff("Operator", username="no-export")
    nobody.user_permissions.clear()
    nobody.groups.clear()
    nobody.user_permissions.add(Permission.objects.get(codename="view_order"))
    client.force_login(nobody)
    assert client.get(EXPORT_URL).status_code == 403


HISTORY_URL = "/admin/orders/orderimport/"


def test_the_import_history_shows_supervisors_who_imported_what(supervisor_client):
    # given: a file imported through the screen
    token = _upload(supervisor_client, SAMPLE.read_bytes(), "订单.csv").context["token"]
    supervisor_client.post(IMPORT_URL, {"token": token})
    # its preview again says at once that it changes nothing, and offers nothing to confirm
    again = _upload(supervisor_client, SAMPLE.read_bytes(), "订单.csv")
    assert "It is the same file as imported on" in again.content.decode()
    assert not again.context.get("token")
    # and the command imports it once more
    import_orders(SAMPLE, by=User.objects.get(username="supervisor"), file_name="订单.csv")
    # when
    response = supervisor_client.get(HISTORY_URL)
    # then: both imports, newest first, with who and what they did
    assert response.status_code == 200
    rows = [
        (o.file_name, o.imported_by.username, o.new, o.unchanged) for o in response.context["cl"].result_list
    ]
    assert rows == [("订单.csv", "supervisor", 0, 20), ("订单.csv", "supervisor", 20, 0)]
    # read only: nothing to add, change or delete
    record = OrderImport.objects.order_by("id").first()
    assert supervisor_client.get(f"{HISTORY_URL}add/").status_code == 403
    assert supervisor_client.post(f"{HISTORY_URL}{record.pk}/delete/", {"post": "yes"}).status_code == 403
    page = supervisor_client.get(f"{HISTORY_URL}{record.pk}/change/")
    assert page.status_code == 200
    assert b'name="file_name"' not in page.content
    assert OrderImport.objects.count() == 2


@pytest.mark.parametrize("group", ["Operator", "Finance", "Analyst"])
def test_only_supervisors_see_the_import_history(client, group):
    client.force_login(staff(group))
    assert client.get(HISTORY_URL).status_code == 403


def test_the_import_history_speaks_chinese(supervisor_client):
    import_orders(SAMPLE, file_name="订单.csv")
    page = supervisor_client.get(HISTORY_URL, headers={"accept-language": "zh-hans"}).content.decode()
    assert "订单导入记录" in page
    assert "重复导入可即时识别" in page
    assert "导入人" in page
