"""Rates files at their bounds (issue 24): a 204 KB ZIP of 200 MB of CSV took ``load_fx_rates`` to
1.33 GB. Every ECB file is read within ``SHOPOPS_FX_MAX_UNPACKED_MB``, ``SHOPOPS_FX_MAX_RATIO`` and
``SHOPOPS_FX_MAX_RATES``; the daily fetch within ``SHOPOPS_FX_FETCH_MAX_MB``, unpacked too; dates
within the euro's days; quotes closed, cells short, rates in digits. Each is a message, never a
traceback, and nothing is written.
"""

from __future__ import annotations

import contextlib
import io
import tracemalloc
import urllib.request
import zipfile

import pytest
from django.core.management import CommandError, call_command

from orders.models import ExchangeRate
from orders.workflow import rates
from shopops.errors import Refused

pytestmark = pytest.mark.django_db

HEADER = "Date,USD,JPY\n"


def zipped(text_chunks, name: str = "eurofxref-hist.csv") -> bytes:
    """A ZIP of the chunks, written as a stream (a large member never in memory whole)."""
    out = io.BytesIO()
    with (
        zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive,
        archive.open(name, "w", force_zip64=True) as member,
    ):
        for chunk in text_chunks:
            member.write(chunk)
    return out.getvalue()


def bomb(megabytes: int) -> bytes:
    """A rates history of ``megabytes`` MB of one repeated line: it packs about 1000 to 1."""
    line = b"2026-03-09,1.2000,160.10\n"
    block = line * (1024 * 1024 // len(line))
    return zipped([HEADER.encode(), *([block] * megabytes)])


def peak_megabytes(call) -> tuple[object, float]:
    """What ``call()`` returned or raised, and the most memory Python held meanwhile, in MB."""
    tracemalloc.start()
    try:
        try:
            outcome = call()
        except Refused as refused:
            outcome = refused
        _now, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return outcome, peak / (1024 * 1024)


def test_a_zip_bomb_is_refused_within_its_bound_not_unpacked():
    archive = bomb(64)
    assert len(archive) < 200 * 1024
    outcome, peak = peak_megabytes(lambda: rates.parse_ecb_file(archive))
    assert isinstance(outcome, Refused)
    assert "more than 16 MB (SHOPOPS_FX_MAX_UNPACKED_MB)" in outcome.message
    assert peak < 40  # the bound and a chunk, not 64 MB


def test_a_zip_that_packs_far_better_than_rates_do_is_refused_by_its_ratio(settings):
    settings.SHOPOPS_FX_MAX_UNPACKED_MB = 64
    with pytest.raises(Refused, match="more than 50 times its size"):
        rates.parse_ecb_file(bomb(8))
    settings.SHOPOPS_FX_MAX_RATIO = 5000
    assert len(rates.parse_ecb_file(bomb(2))) > 100_000  # allowed when the settings allow it


def test_the_shipped_history_is_within_every_bound():
    content = rates.shipped_history_path().read_bytes()
    outcome, peak = peak_megabytes(lambda: rates.parse_ecb_file(content))
    assert len(outcome) > 100_000
    assert peak < 150


@pytest.mark.parametrize(
    "damaged",
    [
        b"PK\x03\x04" + b"\x00" * 100,
        bomb(1)[:5000],  # cut short
        bomb(1).replace(b"eurofxref-hist.csv", b"eurofxref-hist.txt"),
    ],
    ids=["no directory", "cut short", "no csv"],
)
def test_a_damaged_or_empty_zip_is_a_message(damaged):
    with pytest.raises(Refused, match="ZIP file"):
        rates.parse_ecb_file(damaged)


def test_an_unpacked_file_over_the_bound_is_refused_by_the_command_without_reading_it_all(tmp_path, settings):
    settings.SHOPOPS_FX_MAX_UNPACKED_MB = 1
    path = tmp_path / "big.csv"
    with path.open("w") as handle:
        handle.write(HEADER)
        handle.write("2026-03-09,1.2000,160.10\n" * 100_000)  # 2.4 MB
    with pytest.raises(CommandError, match="more than 1 MB"):
        call_command("load_fx_rates", str(path))
    path.write_bytes(bomb(4))
    with pytest.raises(CommandError, match="more than 1 MB"):
        call_command("load_fx_rates", str(path))
    assert not ExchangeRate.objects.exists()


@contextlib.contextmanager
def _served(body: bytes):
    def urlopen(url, timeout=None):
        return contextlib.closing(io.BytesIO(body))

    original = urllib.request.urlopen
    urllib.request.urlopen = urlopen
    try:
        yield
    finally:
        urllib.request.urlopen = original


def test_the_fetch_cap_applies_to_the_unpacked_bytes(settings):
    settings.SHOPOPS_FX_URL = "https://ecb.example/eurofxref-daily.xml"
    settings.SHOPOPS_FX_FETCH_MAX_MB = 5
    settings.SHOPOPS_FX_MAX_RATIO = 5000
    body = bomb(8)  # 8 KB on the wire, 8 MB unpacked
    with _served(body), pytest.raises(Refused, match="more than 5 MB"):
        rates.fetch_daily_rates()
    assert not ExchangeRate.objects.exists()


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("0001-01-01,1.2,160", "0001-01-01 is not a day of ECB rates"),
        ("9999-12-31,1.2,160", "9999-12-31 is not a day of ECB rates"),
        ("1998-12-31,1.2,160", "1998-12-31 is not a day of ECB rates"),
        ("20260309,1.2,160", "is not a date"),
        ("2026-W10-1,1.2,160", "is not a date"),
        ("2026-03-09,1_000,160", "“1_000” is not a rate"),
        ("2026-03-09,1e3,160", "“1e3” is not a rate"),
        ("2026-03-09,Infinity,160", "“Infinity” is not a rate"),
        ("2026-03-09,١٫٢,160", "is not a rate"),
        ("2026-03-09, 1.2 ,0x10", "“0x10” is not a rate"),
        ('2026-03-09,"1.2,160\n2026-03-10,1.3,161', "Line 3: a quote is opened and never closed"),
        pytest.param("2026-03-09,1.2," + "9" * 140_000, "Line 3: a cell is longer than 128 KB", id="long"),
    ],
)
def test_a_bad_cell_names_its_line_and_nothing_is_loaded(tmp_path, line, words):
    path = tmp_path / "eurofxref-hist.csv"
    path.write_text(HEADER + "2026-03-06,1.1,159\n" + line + "\n")
    with pytest.raises(CommandError) as refused:
        call_command("load_fx_rates", str(path))
    assert words in str(refused.value)
    assert "Traceback" not in str(refused.value) and "_csv" not in str(refused.value)
    assert not ExchangeRate.objects.exists()


def test_rates_before_the_earliest_date_are_left_out_and_said(tmp_path, settings):
    settings.SHOPOPS_EARLIEST_DATE = "2026-03-07"
    path = tmp_path / "eurofxref-hist.csv"
    path.write_text(HEADER + "2026-03-09,1.2,160\n2026-03-06,1.1,159\n1999-01-04,1.17,133\n")
    out = io.StringIO()
    call_command("load_fx_rates", str(path), stdout=out)
    assert "2 rates added" in out.getvalue()
    assert "4 rates before 2026-03-07 left out" in out.getvalue()
    assert sorted(str(d) for d in ExchangeRate.objects.values_list("date", flat=True)) == [
        "2026-03-09",
        "2026-03-09",
    ]


def test_more_rates_than_a_file_may_hold_is_refused(settings):
    settings.SHOPOPS_FX_MAX_RATES = 10
    text = HEADER + "".join(f"2026-03-{day:02d},1.2,160\n" for day in range(1, 10))
    with pytest.raises(Refused, match="more than 10 rates"):
        rates.parse_ecb_file(text.encode())


def test_an_xml_of_many_elements_is_read_in_the_memory_of_its_depth():
    body = (
        b"<root>"
        + b"<x/>" * 400_000
        + b'<Cube time="2026-03-10"><Cube currency="USD" rate="1.21"/></Cube></root>'
    )
    outcome, peak = peak_megabytes(lambda: rates.parse_ecb_file(body))
    assert [(str(day), code, str(rate)) for day, code, rate in outcome] == [("2026-03-10", "USD", "1.210000")]
    assert peak < 16  # the 1.6 MB of bytes, not 400,000 elements (about 100 MB)


@pytest.mark.parametrize(
    ("xml", "words"),
    [
        ('<Cube time="0001-01-01"><Cube currency="USD" rate="1.2"/></Cube>', "not a day of ECB rates"),
        ('<Cube time="2026-03-10"><Cube currency="USD" rate="1_000"/></Cube>', "is not a rate"),
        ('<Cube time="2026-03-10"><Cube currency="USD" rate="1.2"/>', "cannot be read"),
        ('<!DOCTYPE x [<!ENTITY a "aaaa">]><Cube time="2026-03-10">&a;</Cube>', "cannot be read"),
    ],
)
def test_a_bad_daily_xml_is_a_message(xml, words):
    with pytest.raises(Refused, match=words):
        rates.parse_ecb_file(xml.encode())
