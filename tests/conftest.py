"""Test infrastructure shared by the whole suite.

- Service markers: ``postgres``, ``redis`` and ``browser`` tests are skipped, with the reason,
  when the service is missing, and fail instead when ``SHOPOPS_REQUIRE_SERVICES=1`` (CI).
- ``celery_worker``: a real Celery worker thread consuming the configured broker.
- ``browser``, ``new_page``, ``page``, ``admin_login``: Debian's Chromium driven by Playwright
  against pytest-django's ``live_server``; a failing browser test leaves a full-page screenshot
  in ``test-artifacts/``.
- django-axes lockouts are reset, and the migration-made staff groups restored, before every
  test that touches the database.
- ``write_audit``: every test runs under the write rule's runtime audit (``tests/write_audit.py``):
  a write of a table by a module that does not own it fails the test.

Feature-specific fixtures belong next to the tests that use them, not here.
"""

import os
import re
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import cache
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit, urlunsplit

import pytest
from django.db.models.signals import post_migrate
from django.utils import translation
from playwright.sync_api import Browser, Page

from tests.workflow_support import private_media  # noqa: F401 -- a fixture for every test module

# Playwright's sync API runs an asyncio loop in the test thread, and Django then refuses
# database access from that thread as if it were a coroutine. Tests are not async code.
os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"

BASE_DIR = Path(__file__).resolve().parent.parent
ARTIFACTS_DIR = BASE_DIR / "test-artifacts"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
BROWSER_TIMEOUT_MS = 15_000
DB_FIXTURES = {
    "db",
    "transactional_db",
    "django_db_reset_sequences",
    "django_db_serialized_rollback",
    "live_server",
}


def _require_services() -> bool:
    return os.environ.get("SHOPOPS_REQUIRE_SERVICES") == "1"


# --- pytest-xdist: each worker its own Redis database -------------------------------------------
#
# `make test` runs the suite in worker processes (pytest-xdist, `-n auto` in pyproject.toml).
# pytest-django gives each worker its own test database (test_<name>_gw0, test_<name>_gw1, …; on
# SQLite each worker's is in its own memory), the live server listens on a free port per worker,
# Chromium is launched once per worker, and the embedded broker's folders are under each
# worker's own temporary directory. Redis is shared: each worker takes the database of REDIS_URL
# plus its number (redis://…/0 → /0, /1, …), so a worker's purge or flush never touches another's
# messages or cache.


def _xdist_worker_number() -> int:
    """0 in a run without xdist (and in xdist's controller); N in worker gwN."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "")
    return int(worker[2:]) if worker.startswith("gw") else 0


def _redis_url_of_worker(url: str, number: int) -> str:
    parts = urlsplit(url)
    database = int(parts.path.strip("/") or 0) + number
    return urlunsplit(parts._replace(path=f"/{database}"))


def pytest_configure(config: pytest.Config) -> None:
    # Django's settings are loaded before this file (pytest-django sets Django up first), but
    # nothing has connected to Redis yet: the cache and Celery read these settings on first use.
    from django.conf import settings
    from django.test.signals import setting_changed

    number = _xdist_worker_number()
    if not settings.REDIS_URL or not number:
        return
    url = _redis_url_of_worker(settings.REDIS_URL, number)
    os.environ["REDIS_URL"] = url  # processes the tests start (a real `celery worker`) too
    settings.REDIS_URL = url
    settings.CELERY_BROKER_URL = settings.CELERY_RESULT_BACKEND = url
    settings.CACHES = {"default": {**settings.CACHES["default"], "LOCATION": url}}
    setting_changed.send(sender=type(settings), setting="CACHES", value=settings.CACHES, enter=True)


def _django_kind(item: pytest.Item) -> int:
    """pytest-django's order: 0 database in a transaction, 1 transactional (flushed), 2 none."""
    from pytest_django.plugin import validate_django_db

    marker = item.get_closest_marker("django_db")
    transactional = bool(marker) and any(validate_django_db(marker)[:2])
    fixtures = set(getattr(item, "fixturenames", ()))
    if transactional or fixtures & {"transactional_db", "live_server"}:
        return 1
    return 0 if marker or "db" in fixtures else 2


@pytest.hookimpl(trylast=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """``slow`` tests first among the tests of their kind.

    pytest-django runs the tests in a transaction first, then the transactional ones (whose flush
    empties the rows that migrations made), then those without a database; each xdist worker
    receives the tests in that order. The transactional block holds the longest tests (the
    browser walk: a minute): started last, the run would end with one worker walking alone.
    """
    items.sort(key=lambda item: (_django_kind(item), item.get_closest_marker("slow") is None))


# --- service markers ------------------------------------------------------------------------


def _postgres_missing() -> str | None:
    from django.db import connections

    vendor = connections["default"].vendor
    return None if vendor == "postgresql" else f"needs PostgreSQL, the database is {vendor} (DATABASE_URL)"


@cache
def _redis_missing() -> str | None:
    from django.conf import settings

    if not settings.REDIS_URL:
        return "needs Redis: REDIS_URL is not set"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2, socket_timeout=2).ping()
    except redis.RedisError as exc:
        return f"needs Redis: {settings.REDIS_URL} does not answer ({exc})"
    return None


def _browser_missing() -> str | None:
    return None if CHROMIUM.exists() else f"needs Chromium at {CHROMIUM} (apt-get install chromium)"


def _dejavu_missing() -> str | None:
    from shopops.fonts import DEJAVU_SANS

    if DEJAVU_SANS.is_file():
        return None
    return f"needs DejaVu Sans at {DEJAVU_SANS} for Arabic and Hebrew (apt-get install fonts-dejavu-core)"


SERVICE_PROBES: dict[str, Callable[[], str | None]] = {
    "postgres": _postgres_missing,
    "redis": _redis_missing,
    "browser": _browser_missing,
    "dejavu": _dejavu_missing,
}


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> None:
    # Runs before any fixture: a skipped browser test never launches a browser.
    for marker, probe in SERVICE_PROBES.items():
        if item.get_closest_marker(marker) is None:
            continue
        reason = probe()
        if reason is None:
            continue
        if _require_services():
            pytest.fail(f"{reason} [SHOPOPS_REQUIRE_SERVICES=1]", pytrace=False)
        pytest.skip(reason)


# --- test reports for fixtures --------------------------------------------------------------


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator:
    # Fixtures read item.rep_setup / rep_call / rep_teardown to act on failure (screenshots).
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report


def _failed(item: pytest.Item) -> bool:
    return any(getattr(getattr(item, f"rep_{when}", None), "failed", False) for when in ("setup", "call"))


# --- per-test database state: axes lockouts, staff groups ------------------------------


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    # Just before the test body, when its database access (if any) is set up: a lockout left by
    # one test's wrong passwords must not refuse another test's login.
    if item.get_closest_marker("django_db") or DB_FIXTURES & set(getattr(item, "fixturenames", ())):
        from axes.utils import reset

        reset()


def _restore_groups(sender, **kwargs) -> None:
    """Give back the staff groups that a transactional test's flush took away.

    The groups come from a data migration. Flushing the tables after a ``transactional_db`` or
    ``live_server`` test empties them and then sends ``post_migrate`` (which recreates the
    permissions); without this the next test would find no Operator group.
    """
    from django.apps import apps
    from django.contrib.auth.models import Group

    from orders.groups import sync_groups

    if sender.label == "evidence" and not Group.objects.using(kwargs["using"]).exists():
        sync_groups(apps)


# The last installed app: by its post_migrate every app's permissions exist again.
post_migrate.connect(_restore_groups, dispatch_uid="shopops-tests-restore-groups")


# --- the write rule, at run time ----------------------------------------------------------------


@pytest.fixture(autouse=True)
def write_audit(request: pytest.FixtureRequest) -> Iterator[object]:
    """Which module wrote which table in this test (``tests/write_audit.py``); a write of a table
    by a module that does not own it (``tests/write_rule.py``) fails the test. A test that makes
    one on purpose takes it with ``write_audit.take_violations()``."""
    from tests.write_audit import WriteAudit

    audit = WriteAudit()
    with audit.installed():
        yield audit
    if audit.violations:
        found = "\n".join(f"  {v}" for v in audit.violations)
        pytest.fail(f"Writes outside their owners (tests/write_rule.py OWNERS):\n{found}", pytrace=False)


# --- speed ---------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _fast_password_hasher() -> Iterator[None]:
    """Tests make hundreds of users: hash their passwords with MD5 instead of PBKDF2.

    PBKDF2's 1,000,000 iterations are the point in production and more than half the suite's
    time in tests. Applied through override_settings so Django's hasher cache is reset.
    """
    from django.test import override_settings

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield


@pytest.fixture(scope="session", autouse=True)
def _quick_flush_on_postgresql() -> Iterator[None]:
    """After a transactional test, PostgreSQL's tables are emptied by DELETE instead of TRUNCATE.

    Django empties every table after a test that commits (``transactional_db``, ``live_server``)
    with one ``TRUNCATE`` of all of them: PostgreSQL makes each table and index a new file, about
    0.7–1.5 s each time here, for tables that hold a few rows. A ``DELETE`` of each, with the row
    triggers off (the foreign keys' and the append-only records', as ``pg_restore
    --disable-triggers`` does: a superuser's right, which CI's role has), takes 10 ms. A flush that
    also resets the sequences, or a role that may not turn triggers off, keeps Django's.
    """
    from django.db import connection

    if connection.vendor != "postgresql":
        yield
        return
    operations = type(connection.ops)
    sql_flush = operations.sql_flush

    def quick_sql_flush(self, style, tables, *, reset_sequences=False, allow_cascade=False):
        if reset_sequences or not tables or not _superuser(self.connection.alias):
            return sql_flush(
                self, style, tables, reset_sequences=reset_sequences, allow_cascade=allow_cascade
            )
        from tests.demo_snapshot import emptying

        return emptying(tables, self.quote_name, triggers_off=True)

    with mock.patch.object(operations, "sql_flush", quick_sql_flush):
        yield


@cache
def _superuser(alias: str) -> bool:
    from django.db import connections

    with connections[alias].cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        return bool(cursor.fetchone()[0])


# --- Celery ---------------------------------------------------------------------------------


@pytest.fixture(scope="session", autouse=True)
def _private_filesystem_broker(tmp_path_factory: pytest.TempPathFactory) -> None:
    """Without Redis, keep the test run's messages out of var/broker/.

    A `make run` worker on the same checkout would otherwise consume test tasks, and the purge
    before each test worker would throw away the developer's queue.
    """
    from django.conf import settings

    from shopops import broker

    # Celery reads its configuration live from the CELERY_* Django settings.
    if not settings.CELERY_BROKER_URL.startswith(f"{broker.SCHEME}://"):
        return
    root = tmp_path_factory.mktemp("broker")
    for sub in ("queue", "control", "results"):
        (root / sub).mkdir()
    settings.CELERY_BROKER_TRANSPORT_OPTIONS = {
        **settings.CELERY_BROKER_TRANSPORT_OPTIONS,
        "data_folder_in": str(root / "queue"),
        "data_folder_out": str(root / "queue"),
        "control_folder": str(root / "control"),
        # A test's worker picks a message up within 0.1 s (kombu looks every second by default).
        "polling_interval": 0.1,
    }
    settings.CELERY_RESULT_BACKEND = f"file://{root / 'results'}"


@pytest.fixture(autouse=True)
def _default_language() -> Iterator[None]:
    """Each test starts in the default language.

    A request through the test client runs in the test's thread, and the LocaleMiddleware
    leaves the request's language active there: a test that asks for Chinese would otherwise
    turn every later test's messages Chinese.
    """
    yield
    translation.deactivate()


@pytest.fixture
def messages(settings) -> Iterator[None]:
    """Email and SMS captured in memory (``mail.outbox``, ``sms.outbox``); a worker thread shares
    this process, so it sees them too."""
    from django.core import mail

    from orders import sms

    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_URL = "locmem:"
    mail.outbox = []
    sms.outbox.clear()
    yield
    sms.outbox.clear()


@pytest.fixture
def celery_worker(transactional_db: None) -> Iterator[object]:
    """A real Celery worker (solo pool, in a thread) on the configured broker.

    The worker has its own database connection, so it only sees committed rows: hence
    transactional_db. Messages left by earlier tests are purged before it starts.
    """
    from celery.contrib.testing.worker import start_worker

    from shopops.celery import app

    app.control.purge()
    with (
        _prompt_filesystem_broker(),
        start_worker(
            app,
            pool="solo",
            concurrency=1,
            perform_ping_check=False,
            loglevel="WARNING",
            shutdown_timeout=30,
        ) as worker,
    ):
        yield worker


@contextmanager
def _prompt_filesystem_broker() -> Iterator[None]:
    """The embedded broker's worker stops within a fraction of a second instead of 2 to 4 s.

    Celery's loop for a transport that cannot wait on a socket (kombu's filesystem transport)
    waits 2 s for a message and, once told to stop, waits once more: every test with a worker
    spent up to 4 s stopping it. Here each wait ends after 0.05 s without a message, and the
    loop goes round again; messages are delivered as before.
    """
    from kombu.transport import filesystem

    drain_events = filesystem.Transport.drain_events

    def prompt_drain_events(self, connection, timeout=None):
        return drain_events(self, connection, timeout=min(timeout, 0.05) if timeout else timeout)

    with mock.patch.object(filesystem.Transport, "drain_events", prompt_drain_events):
        yield


# --- browser --------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    """Debian's Chromium, headless, launched once per run. Never downloads a browser."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


def _artifact_name(nodeid: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", nodeid).strip("_")


@pytest.fixture
def new_page(request: pytest.FixtureRequest, browser: Browser, live_server) -> Iterator[Callable[..., Page]]:
    """Factory: ``new_page(locale="zh-CN")`` opens a page in a fresh browser context.

    Pages start at nothing; use ``live_server.url``. On failure each page open at the end of the
    test is saved as ``test-artifacts/<test id>[-n].png``.
    """
    contexts = []

    def _new_page(locale: str = "en-US", **context_args: object) -> Page:
        context = browser.new_context(locale=locale, **context_args)
        context.set_default_timeout(BROWSER_TIMEOUT_MS)
        contexts.append(context)
        return context.new_page()

    yield _new_page

    if _failed(request.node):
        ARTIFACTS_DIR.mkdir(exist_ok=True)
        base = _artifact_name(request.node.nodeid)
        pages = [page for context in contexts for page in context.pages]
        for index, page in enumerate(pages, start=1):
            suffix = "" if index == 1 else f"-{index}"
            try:
                page.screenshot(path=str(ARTIFACTS_DIR / f"{base}{suffix}.png"), full_page=True)
            except Exception as exc:  # a crashed page must not hide the test's own failure
                print(f"screenshot of {request.node.nodeid} failed: {exc}")
    for context in contexts:
        context.close()


@pytest.fixture
def page(new_page: Callable[..., Page]) -> Page:
    """A page in an English browser context."""
    return new_page()


@pytest.fixture
def admin_login(live_server) -> Callable[[Page, str, str], None]:
    """``admin_login(page, username, password)`` submits the real /admin/login/ form."""

    def _login(page: Page, username: str, password: str) -> None:
        page.goto(f"{live_server.url}/admin/login/")
        page.fill("#id_username", username)
        page.fill("#id_password", password)
        page.click("input[type=submit]")
        page.wait_for_load_state()

    return _login


# --- the demo, seeded once per process (tests/demo_snapshot.py) ---------------------------------


@pytest.fixture(scope="session")
def demo_snapshot(django_db_setup, django_db_blocker, tmp_path_factory):
    """What ``seed_demo`` writes, seeded once in this test run and rolled back."""
    from tests import demo_snapshot

    run_folder = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        run_folder = run_folder.parent  # the workers' folders are beside each other in the run's
    with django_db_blocker.unblock():
        return demo_snapshot.shared(run_folder)


@pytest.fixture
def demo_data(demo_snapshot, private_media) -> None:  # noqa: F811 -- the fixture imported above
    """``manage.py seed_demo``'s data (the demo stores, users, live orders, close history and
    their files), as if seeded just now, in a test that has the database (``db`` or
    ``transactional_db``)."""
    from tests import demo_snapshot as snapshots

    snapshots.restore(demo_snapshot)


# --- the close analytics' known data set (tests/analytics_support.py) -------------------------


@pytest.fixture
def known_closes():
    from tests import analytics_support

    return analytics_support.known_closes()


@pytest.fixture
def march_rates():
    from tests import analytics_support

    return analytics_support.march_rates()
