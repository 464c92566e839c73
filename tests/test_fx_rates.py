"""Exchange rates: the ECB files loaded by the command and the daily fetch, Finance's corrections."""

import contextlib
import functools
import http.server
import inspect
import io
import json
import threading
from collections.abc import Iterator
from datetime import date
from decimal import Decimal

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse

from orders.models import ExchangeRate, ExchangeRateChange
from orders.workflow import rates
from shopops.celery import hand_off
from shopops.errors import NotPermitted, Refused
from tests.concurrency_support import wait_until
from tests.factories import staff

pytestmark = pytest.mark.django_db

HISTORY = """Date,USD,JPY,CNY,BRL,RUB,
2026-03-09,1.2000,160.10,8.4000,6.0000,N/A,
2026-03-06,1.1000,159.00,7.7000,5.5000,N/A,
"""
DAILY = """<?xml version="1.0" encoding="UTF-8"?>
<gesmes:Envelope xmlns:gesmes="http://www.gesmes.org/xml/2002-08-01"
    xmlns="http://www.ecb.int/vocabulary/2002-08-01/eurofxref">
  <gesmes:subject>Reference rates</gesmes:subject>
  <gesmes:Sender><gesmes:name>European Central Bank</gesmes:name></gesmes:Sender>
  <Cube>
    <Cube time="2026-03-10">
      <Cube currency="USD" rate="1.2100"/>
      <Cube currency="CNY" rate="8.4500"/>
    </Cube>
  </Cube>
</gesmes:Envelope>
"""


def load(tmp_path, text: str, name: str = "eurofxref-hist.csv", *options: str) -> str:
    path = tmp_path / name
    path.write_text(text)
    out = io.StringIO()
    call_command("load_fx_rates", str(path), *options, stdout=out)
    return out.getvalue()


def stored() -> dict:
    return {(r.date.isoformat(), r.currency): r.rate for r in ExchangeRate.objects.all()}


def test_history_csv_loads_every_published_rate(tmp_path):
    out = load(tmp_path, HISTORY)
    assert "8 rates added, 0 unchanged, 0 corrected" in out
    assert stored()[("2026-03-06", "CNY")] == Decimal("7.7")
    assert not any(currency == "RUB" for _day, currency in stored())  # N/A: no rate, not 0


def test_reloading_the_same_file_changes_nothing(tmp_path):
    load(tmp_path, HISTORY)
    before = list(ExchangeRate.objects.values_list("pk", "rate", "updated_at"))
    out = load(tmp_path, HISTORY)
    assert "0 rates added, 8 unchanged, 0 corrected" in out
    assert list(ExchangeRate.objects.values_list("pk", "rate", "updated_at")) == before
    assert not ExchangeRateChange.objects.exists()


def test_a_different_value_is_recorded_as_a_correction_by_who_loaded_it(tmp_path):
    staff("Finance")
    load(tmp_path, HISTORY)
    revised = HISTORY.replace("2026-03-06,1.1000", "2026-03-06,1.1050")
    out = load(tmp_path, revised, "eurofxref-hist-2.csv", "--by", "finance")
    assert "0 rates added, 7 unchanged, 1 corrected by finance" in out
    change = ExchangeRateChange.objects.get()
    assert (change.old_rate, change.new_rate, change.source, change.actor.username) == (
        Decimal("1.1"),
        Decimal("1.105"),
        "eurofxref-hist-2.csv",
        "finance",
    )
    rate = ExchangeRate.objects.get(date=date(2026, 3, 6), currency="USD")
    assert rate.rate == Decimal("1.105") and rate.corrected


def test_a_command_line_load_that_changes_a_stored_rate_names_someone_who_may_correct_rates(tmp_path):
    staff("Operator")
    load(tmp_path, HISTORY)
    attack = HISTORY.replace("2026-03-06,1.1000,159.00,7.7000", "2026-03-06,1.1000,159.00,0.0100")
    # nobody named: refused whole, saying which rate it would change and how to name who loads it
    refused = r"first: CNY on 2026-03-06, 7\.700000 to 0\.010000.*--by USERNAME"
    with pytest.raises(CommandError, match=refused):
        load(tmp_path, attack, "cny.csv")
    # someone who may not correct rates, or nobody known: refused as well
    with pytest.raises(CommandError, match="not allowed to correct exchange rates"):
        load(tmp_path, attack, "cny.csv", "--by", "operator")
    with pytest.raises(CommandError, match="No active user “mallory”"):
        load(tmp_path, attack, "cny.csv", "--by", "mallory")
    assert stored()[("2026-03-06", "CNY")] == Decimal("7.7")
    assert not ExchangeRateChange.objects.exists()
    # a file that only adds rates needs nobody named (a fresh installation loads the history)
    assert "1 rates added" in load(tmp_path, "Date,CNY\n2026-03-10,8.1\n", "new.csv")


def test_daily_xml_loads(tmp_path):
    out = load(tmp_path, DAILY, "eurofxref-daily.xml")
    assert "2 rates added" in out
    assert stored() == {("2026-03-10", "USD"): Decimal("1.21"), ("2026-03-10", "CNY"): Decimal("8.45")}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("Day,USD\n2026-03-06,1.1\n", "Date"),
        ("Date,USD\n2026-03-06,abc\n", "Line 2: “abc” is not a rate"),
        ("Date,USD\n2026-03-06,-1\n", "out of range"),
        ("Date,USD\n06/03/2026,1.1\n", "Line 2: “06/03/2026” is not a date"),
        ("Date,USD,USD\n2026-03-06,1.1,1.2\n", "two rates for USD"),
        ("<Envelope><Cube/></Envelope>", "no ECB rates"),
    ],
)
def test_a_bad_file_is_refused_whole(tmp_path, text, message):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    with pytest.raises(CommandError, match=message):
        call_command("load_fx_rates", str(path), stdout=io.StringIO())
    assert not ExchangeRate.objects.exists()


def test_without_a_file_the_shipped_history_is_loaded():
    rows = rates.parse_ecb_file(rates.shipped_history_path().read_bytes())
    days = {day for day, _c, _r in rows}
    assert min(days) == date(1999, 1, 4)
    assert {"USD", "CNY", "BRL"} <= {c for _d, c, _r in rows}


# The corrections inline's management form, as the page sends it.
INLINE = {"changes-TOTAL_FORMS": "0", "changes-INITIAL_FORMS": "0", "changes-MAX_NUM_FORMS": "0"}


def test_finance_corrects_a_rate_and_the_old_value_is_kept(client):
    rate = ExchangeRate.objects.create(date=date(2026, 3, 6), currency="CNY", rate=Decimal("7.7"))
    client.force_login(staff("Finance"))
    url = reverse("admin:orders_exchangerate_change", args=[rate.pk])
    # a correction without a reason is refused, nothing written
    response = client.post(url, {"rate": "7.75", "note": "", **INLINE})
    assert response.status_code == 200
    assert "Say why the rate is corrected" in response.content.decode()
    assert not ExchangeRateChange.objects.exists()
    # with a reason it is recorded
    response = client.post(url, {"rate": "7.75", "note": "ECB corrected its publication", **INLINE})
    assert response.status_code == 302
    rate.refresh_from_db()
    assert rate.rate == Decimal("7.75") and rate.corrected
    change = ExchangeRateChange.objects.get()
    assert (change.old_rate, change.new_rate, change.actor.username, change.note) == (
        Decimal("7.7"),
        Decimal("7.75"),
        "finance",
        "ECB corrected its publication",
    )
    page = client.get(url).content.decode()
    assert "7.700000" in page and "ECB corrected its publication" in page


def test_only_finance_may_correct(client):
    rate = ExchangeRate.objects.create(date=date(2026, 3, 6), currency="CNY", rate=Decimal("7.7"))
    operator = staff("Operator")
    client.force_login(operator)
    url = reverse("admin:orders_exchangerate_change", args=[rate.pk])
    assert client.get(url).status_code == 200  # may look
    client.post(url, {"rate": "9", "note": "x", **INLINE})
    rate.refresh_from_db()
    assert rate.rate == Decimal("7.7")
    with pytest.raises(NotPermitted):
        rates.correct_rate(rate, by=operator, new_rate="9", note="x")
    with pytest.raises(Refused, match="already"):
        rates.correct_rate(rate, by=None, new_rate="7.7", note="x")


class _ServeDaily(http.server.BaseHTTPRequestHandler):
    body = DAILY.encode()
    requests: list[str]

    def do_GET(self):
        self.requests.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "text/xml")
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, *args):
        pass


@contextlib.contextmanager
def _serving(body: str, path: str) -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on the loopback serving ``body``: its URL, and the paths it was asked."""
    requests: list[str] = []
    handler = type("Handler", (_ServeDaily,), {"body": body.encode(), "requests": requests})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=functools.partial(server.serve_forever, poll_interval=0.02), daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}{path}", requests
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def ecb_on_loopback():
    with _serving(DAILY, "/stats/eurofxref/eurofxref-daily.xml") as (url, _requests):
        yield url


def test_the_daily_fetch_loads_the_file_served_at_the_configured_url(ecb_on_loopback, settings):
    settings.SHOPOPS_FX_URL = ecb_on_loopback
    result = rates.fetch_daily_rates()
    assert result.added == 2
    assert rates.fetch_daily_rates().unchanged == 2  # the job runs again: nothing changes
    assert ExchangeRate.objects.get(currency="USD").source == ecb_on_loopback


@pytest.mark.redis
def test_the_periodic_task_runs_on_a_real_worker(celery_worker, ecb_on_loopback, settings):
    import importlib

    from django.apps import apps
    from django_celery_beat.models import PeriodicTask

    # the schedule row the migration creates (a transactional test before this one may have
    # flushed the migration's rows: create it again, as the migration does, when missing)
    importlib.import_module("orders.migrations.0013_exchange_rates").create_fx_schedule(apps, None)
    assert PeriodicTask.objects.get(task="orders.fetch_fx_rates").crontab.day_of_week == "1-5"
    settings.SHOPOPS_FX_URL = ecb_on_loopback  # the worker is a thread of this process
    assert hand_off("orders.fetch_fx_rates")
    wait_until(
        lambda: ExchangeRate.objects.filter(date=date(2026, 3, 10)).count() == 2,
        what="the worker to load the rates",
    )
    assert stored()[("2026-03-10", "USD")] == Decimal("1.21")


# --- nobody redirects the daily fetch (issue 20) ---------------------------------------------

# What an attacker serves: the renminbi at a hundredth of a euro.
FORGED = DAILY.replace('rate="8.4500"', 'rate="0.0100"')


def test_the_fetch_task_follows_no_address_given_by_its_schedule_row(ecb_on_loopback, settings):
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    from orders.tasks import fetch_fx_rates

    settings.SHOPOPS_FX_URL = ecb_on_loopback
    with _serving(FORGED, "/rates.xml") as (attacker, asked):
        # The attack: the schedule row's arguments set to the attacker's address.
        row = PeriodicTask.objects.create(
            name="forged fetch",
            task="orders.fetch_fx_rates",
            crontab=CrontabSchedule.objects.create(minute="30", hour="23"),
            args=json.dumps([attacker]),
            kwargs=json.dumps({"url": attacker}),
        )
        # Run as the worker runs a row's message.
        given = ((json.loads(row.args), {}), ((), json.loads(row.kwargs)))
        results = [fetch_fx_rates.apply(args=args, kwargs=kwargs) for args, kwargs in given]
        assert asked == []  # the attacker's server was never asked
        # The task refuses the arguments, loudly, rather than ignoring them.
        assert all(result.failed() and isinstance(result.result, TypeError) for result in results)
        for args, kwargs in given:
            with pytest.raises(TypeError):
                fetch_fx_rates(*args, **kwargs)
        with pytest.raises(TypeError):
            rates.fetch_daily_rates(attacker)
        assert asked == []
    assert not ExchangeRate.objects.exists()
    # Without arguments it fetches the configured address, as the system.
    assert fetch_fx_rates.apply().get()["added"] == 2
    assert stored()[("2026-03-10", "CNY")] == Decimal("8.45")


def test_no_task_takes_a_url_a_path_or_a_query():
    """Tasks take ids (or a pack job's token, checked against its pattern); addresses, files and
    queries come from settings. A new task with another parameter is looked at here first."""
    from celery import Task

    from orders import tasks

    allowed = {"notification_id", "notification_ids", "token", "store_id", "filing_id"}
    found = {
        task.name: set(inspect.signature(task.run).parameters)
        for task in vars(tasks).values()
        if isinstance(task, Task)
    }
    assert "orders.fetch_fx_rates" in found and len(found) >= 10
    assert {name: params - allowed for name, params in found.items() if params - allowed} == {}
    assert found["orders.fetch_fx_rates"] == set()
