"""The foundation works for real: admin login in a browser, a Celery worker, /healthz, PostgreSQL."""

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from celery import shared_task
from django.contrib.auth import get_user_model
from django.db import connection
from playwright.sync_api import expect

from shopops.tasks import ping

PASSWORD = "correct-horse-battery-staple"
WRONG_CREDENTIALS = "Please enter the correct username and password"


@shared_task(name="tests.user_exists")
def user_exists(username: str) -> bool:
    return get_user_model().objects.filter(username=username).exists()


# --- admin login in Chromium ----------------------------------------------------------------


@pytest.mark.browser
def test_staff_user_logs_in_to_admin_index(page, admin_login, live_server):
    # given
    get_user_model().objects.create_user("ops-lead", password=PASSWORD, is_staff=True, is_superuser=True)

    # when
    admin_login(page, "ops-lead", PASSWORD)

    # then
    assert page.url == f"{live_server.url}/admin/"
    expect(page.locator("#user-tools")).to_contain_text("ops-lead")
    expect(page.locator("#content-main")).to_be_visible()
    expect(page.get_by_text(WRONG_CREDENTIALS)).to_have_count(0)


@pytest.mark.browser
def test_wrong_password_is_refused_with_django_message(page, admin_login, live_server):
    # given
    get_user_model().objects.create_user("ops-lead", password=PASSWORD, is_staff=True)

    # when
    admin_login(page, "ops-lead", "not-the-password")

    # then
    assert page.url.startswith(f"{live_server.url}/admin/login/")
    expect(page.locator(".errornote")).to_contain_text(WRONG_CREDENTIALS)
    expect(page.locator("#user-tools")).to_have_count(0)


@pytest.mark.browser
def test_non_staff_user_cannot_enter_admin(page, admin_login, live_server):
    # given
    get_user_model().objects.create_user("buyer", password=PASSWORD, is_staff=False)

    # when
    admin_login(page, "buyer", PASSWORD)

    # then
    assert page.url.startswith(f"{live_server.url}/admin/login/")
    expect(page.locator(".errornote")).to_contain_text(WRONG_CREDENTIALS)
    page.goto(f"{live_server.url}/admin/")
    assert page.url.startswith(f"{live_server.url}/admin/login/")


@pytest.mark.browser
def test_chinese_browser_gets_chinese_login_page(new_page, live_server):
    # given
    page = new_page(locale="zh-CN")

    # when
    page.goto(f"{live_server.url}/admin/login/")

    # then
    expect(page.locator("label[for=id_username]")).to_contain_text("用户名")


# --- Celery ---------------------------------------------------------------------------------


@pytest.mark.redis
def test_task_sent_to_broker_runs_on_real_worker(celery_worker):
    # when
    result = ping.delay()

    # then
    assert result.get(timeout=30) == "pong"
    assert result.successful()


@pytest.mark.redis
def test_worker_sees_rows_committed_by_the_test(celery_worker):
    # given
    get_user_model().objects.create_user("committed", password=PASSWORD)

    # when
    result = user_exists.delay("committed")

    # then
    assert result.get(timeout=30) is True


# --- /healthz -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_healthz_reports_database_and_broker_ok(client):
    response = client.get("/healthz")

    assert response.status_code == 200
    assert response.json() == {"database": "ok", "broker": "ok"}
    assert "no-cache" in response["Cache-Control"]


@pytest.mark.django_db
def test_healthz_answers_503_when_broker_is_unreachable(client, settings):
    # given: nothing listens on port 1 (Celery reads CELERY_* settings live)
    settings.CELERY_BROKER_URL = "redis://127.0.0.1:1/0"

    # when
    response = client.get("/healthz")

    # then
    assert response.status_code == 503
    body = response.json()
    assert body["database"] == "ok"
    assert body["broker"].startswith("error: ")


def test_healthz_is_get_only(client):
    assert client.post("/healthz").status_code == 405


# --- the bare address -----------------------------------------------------------------------


@pytest.mark.django_db
def test_the_bare_address_leads_to_the_back_office(client):
    # someone types the server's address alone: the login, then the admin index, not a 404
    response = client.get("/", follow=True)
    assert response.redirect_chain[0] == ("/admin/", 302)
    assert response.status_code == 200
    assert b'id="login-form"' in response.content

    client.force_login(get_user_model().objects.create_user("lead", password=PASSWORD, is_staff=True))
    response = client.get("/", follow=True)
    assert response.status_code == 200
    assert response.redirect_chain == [("/admin/", 302)]
    assert re.search(rb'<body class="[^"]*\bdashboard\b', response.content)  # the admin index


# --- PostgreSQL -----------------------------------------------------------------------------


@pytest.mark.postgres
@pytest.mark.django_db
def test_database_is_postgresql():
    with connection.cursor() as cursor:
        cursor.execute("SELECT version()")
        (version,) = cursor.fetchone()

    assert version.startswith("PostgreSQL")


def test_admin_modules_load_with_the_urlconf_and_the_admin_check_not_at_start_up():
    # A management command (the import, the worker) starts without importing admin.py modules,
    # yet `manage.py check` still checks every ModelAdmin.
    code = (
        "import django; django.setup()\n"
        "from django.contrib import admin\n"
        "from django.core import checks\n"
        "from orders.models import Order\n"
        "assert not admin.site.is_registered(Order), 'admin.py modules imported at start-up'\n"
        "checks.run_checks(tags=[checks.Tags.admin])\n"
        "assert admin.site.is_registered(Order), 'the admin check did not load the admin modules'\n"
    )
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "shopops.settings", "DEBUG": "1"}
    root = Path(__file__).parent.parent
    done = subprocess.run([sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
