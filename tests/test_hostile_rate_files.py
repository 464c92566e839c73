"""The exchange-rate files, generated: CSV histories, ZIP archives and the ECB's daily XML (issue 24).

Hostile dates, rates, currencies, encodings, archives cut short or with bytes flipped, entities
and DTDs: every file is sane rates or ``Refused``, and a refused load writes nothing.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from orders.models import ExchangeRate
from orders.workflow import rates
from shopops.errors import Refused
from tests.hostile_support import BOUNDED

pytestmark = [pytest.mark.django_db]

# --- the exchange-rate files: generated CSV, ZIP and XML (issue 24) -----------------------------

RATE_CELLS = [
    "1.1172",
    "0.000001",
    "999999999999.999999",
    "1000000000000",
    "0",
    "-1",
    "1_000",
    "1e3",
    "Infinity",
    "NaN",
    "١٫٢",
    "N/A",
    "",
    " 1.5 ",
    '"1.2"',
    '"1.2',
    "x" * 140_000,
]
DATE_CELLS = [
    "2026-03-09",
    "1999-01-04",
    "1998-12-31",
    "0001-01-01",
    "9999-12-31",
    "2026-02-30",
    "20260309",
    "2026-W10-1",
    "",
    '"2026-03-09',
]
CURRENCY_CELLS = ["USD", "JPY", "usd", "EUR", "US", "USDX", "€", "", '"CNY"', "U\x00D"]
csv_cells = st.one_of(st.sampled_from(RATE_CELLS), st.text(max_size=12))


@st.composite
def rate_csvs(draw) -> bytes:
    """An ECB-like history: a header of currencies, then rows of a date and rates, any of them hostile."""
    header = draw(
        st.lists(st.one_of(st.sampled_from(CURRENCY_CELLS), st.text(max_size=4)), min_size=1, max_size=5)
    )
    first = draw(st.sampled_from(["Date", "date", "", "\ufeffDate"]))
    lines = [",".join([first, *header])]
    for _row in range(draw(st.integers(0, 5))):
        date_cell = draw(st.one_of(st.sampled_from(DATE_CELLS), st.text(max_size=10)))
        cells = draw(st.lists(csv_cells, min_size=0, max_size=len(header) + 1))
        lines.append(",".join([date_cell, *cells]))
    separator = draw(st.sampled_from(["\n", "\r\n", "\r"]))
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "utf-16", "latin-1"]))
    return separator.join(lines).encode(encoding, errors="replace")


@st.composite
def rate_zips(draw) -> bytes:
    """A ZIP of a generated CSV (or none): stored or deflated, maybe cut short or with bytes flipped."""
    import io
    import zipfile

    out = io.BytesIO()
    method = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    with zipfile.ZipFile(out, "w", method) as archive:
        for _member in range(draw(st.integers(0, 2))):
            name = draw(st.sampled_from(["eurofxref-hist.csv", "x.CSV", "readme.txt", "dir/", "../up.csv"]))
            if name in archive.namelist():
                continue
            content = draw(st.one_of(rate_csvs(), st.binary(max_size=64)))
            if name.endswith("/"):
                archive.writestr(name, b"")
            else:
                archive.writestr(name, content)
    data = out.getvalue()
    damage = draw(st.sampled_from(["none", "cut", "flip"]))
    if damage == "cut" and len(data) > 4:
        data = data[: draw(st.integers(4, len(data) - 1))]
    elif damage == "flip" and len(data) > 4:
        at = draw(st.integers(4, len(data) - 1))
        data = data[:at] + bytes([data[at] ^ 0xFF]) + data[at + 1 :]
    return data


@st.composite
def rate_xmls(draw) -> bytes:
    """An ECB-like daily XML whose days, currencies and rates (and its structure) may be hostile."""
    cubes = []
    for _day in range(draw(st.integers(0, 3))):
        day = draw(st.one_of(st.sampled_from(DATE_CELLS), st.text(max_size=10)))
        rows = ""
        for _row in range(draw(st.integers(0, 3))):
            currency, rate = draw(st.sampled_from(CURRENCY_CELLS)), draw(st.sampled_from(RATE_CELLS[:13]))
            rows += f'<Cube currency="{currency}" rate="{rate}"/>'

        cubes.append(f'<Cube time="{day}">{rows}</Cube>')
    body = "".join(cubes)
    wrapper = draw(
        st.sampled_from(
            [
                "<Envelope><Cube>{}</Cube></Envelope>",
                '<?xml version="1.0"?><gesmes:Envelope xmlns:gesmes="g"><Cube>{}</Cube></gesmes:Envelope>',
                '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><x>&b;{}</x>',
                '<!DOCTYPE x SYSTEM "file:///etc/passwd"><x>{}</x>',
                "<x>{}",
                "{}",
            ]
        )
    )
    text = wrapper.replace("{}", body)
    if draw(st.booleans()):
        text = text.replace("&", draw(st.sampled_from(["&", "&amp;", "&#0;", "\x00"])))
    return text.encode("utf-8", errors="surrogatepass")


def _rates_or_refused(content: bytes):
    """``parse_ecb_file(content)``: rates that are each a sane (day, currency, rate), or ``Refused``
    with a message. Anything else raised (a ``_csv.Error``, ``zlib.error``, ``ParseError``,
    ``UnicodeError``, ``MemoryError``) fails the test."""
    try:
        found = rates.parse_ecb_file(content)
    except Refused as refused:
        assert refused.message and "Traceback" not in refused.message
        return refused
    latest = datetime.now(UTC).date() + timedelta(days=2)
    for day, currency, rate in found:
        assert rates.EURO_START <= day <= latest
        assert len(currency) == 3 and currency.isascii() and currency.isalpha() and currency.isupper()
        assert rates.MIN_RATE <= rate <= rates.MAX_RATE and rate.is_finite()
    return found


@BOUNDED
@given(content=rate_csvs())
def test_an_ecb_history_is_sane_rates_or_refused(content):
    _rates_or_refused(content)


@BOUNDED
@given(content=rate_zips())
def test_an_ecb_zip_is_sane_rates_or_refused(content):
    _rates_or_refused(content)


@BOUNDED
@given(content=rate_xmls())
def test_an_ecb_daily_xml_is_sane_rates_or_refused(content):
    _rates_or_refused(content)


@BOUNDED
@given(content=st.one_of(rate_csvs(), rate_zips(), rate_xmls(), st.binary(max_size=200)))
def test_a_rates_file_loads_or_is_refused_writing_nothing(content):
    before = list(ExchangeRate.objects.values_list("date", "currency", "rate"))
    try:
        rates.load_rates_file(content, source="hypothesis.csv", by=None)
    except Refused:
        assert list(ExchangeRate.objects.values_list("date", "currency", "rate")) == before
