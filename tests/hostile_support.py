"""What the Hypothesis suites share: one bound on how hard they try (derandomized, so every run
and CI try the same examples), and the hostile values they draw from."""

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st

BOUNDED = settings(
    max_examples=40,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)

ZONES = [
    UTC,
    ZoneInfo("Asia/Shanghai"),
    timezone(timedelta(hours=14)),
    timezone(-timedelta(hours=23, minutes=59)),
]
EDGE_TEXT = [
    "",
    " ",
    "\x00",
    "ok\x00",
    "\ud800",
    "a\udfffb",
    "\u202e",
    "\r\n",
    "x" * 100_001,
    "0001-01-01",
    "0001-01-01 00:00",
    "9999-12-31 23:59:59",
    "9999-12-31T23:59:59+14:00",
    "0000-00-00",
    "2026-02-30 10:00",
    "1999-12-31 23:59",
    "2000-01-01",
    "2000/01/01 00:00",
    "NaN",
    "-Infinity",
    "1e999999999",
    "1E-999999999",
    "99999999999999999999",
    "-0",
    "0.001",
    "+34 600 111 222",
    "zh_Hans",
    "a@b",
]
texts = st.one_of(
    st.sampled_from(EDGE_TEXT),
    st.text(st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=40),
    st.text(max_size=20).map(lambda t: t + "\x00"),
)
numbers = st.one_of(
    st.integers(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=True, allow_infinity=True),
    st.decimals(allow_nan=True, allow_infinity=True),
    st.sampled_from([Decimal("1e999999"), Decimal("-1e-999999"), Decimal("sNaN"), 0, -0.0, 10**10]),
)
moments = st.one_of(
    st.datetimes(min_value=datetime.min, max_value=datetime.max),
    st.datetimes(min_value=datetime.min, max_value=datetime.max, timezones=st.sampled_from(ZONES)),
    st.sampled_from(
        [datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), datetime(1999, 12, 31, 23, 59)]
    ),
    st.dates(),
)
odd = st.one_of(
    st.none(),
    st.booleans(),
    st.binary(max_size=8),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=1),
    st.just(object()),
    st.just(Ellipsis),
)
anything = st.one_of(texts, numbers, moments, odd)
# Values a call accepts, mixed in so that the accepted path is checked as often as the refused one.
recent = st.builds(
    lambda ago, zone: (datetime.now(UTC) - ago).astimezone(zone),
    st.timedeltas(min_value=timedelta(minutes=1), max_value=timedelta(hours=1)),
    st.sampled_from(ZONES),
)
words = st.text(st.characters(categories=("L", "N")), min_size=1, max_size=20)


def some(good: st.SearchStrategy) -> st.SearchStrategy:
    return st.one_of(good, anything)
