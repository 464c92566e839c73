"""Recommended actions: what the close analytics call for, each with the rule that fired it.

The rules are plain data so that the page, the CSV export and the tests read the same
thresholds. Each recommendation appears when, and only when, its rule holds for the view.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django_celery_beat.models import PeriodicTask

from .. import policy
from ..models import CloseReason, Store
from ..models.store import option_value
from . import overdue_supplier_refunds_by_supplier
from .analytics import CloseAnalytics, share_percent
from .costs import CostOfCloses

# payment_timeout above this share of all closes → payment reminders.
PAYMENT_TIMEOUT_SHARE = Decimal("20")
# A SKU with at least this many product_info_error closes → fix its listing.
PRODUCT_INFO_ERROR_CLOSES = 3
# A SKU with at least this many out_of_stock closes → restock / sync inventory.
OUT_OF_STOCK_CLOSES = 3
# A supplier whose quality_issue closes reach this share of its closes (and at least
# SUPPLIER_QUALITY_MIN closes of that kind) → review the supplier.
SUPPLIER_QUALITY_SHARE = Decimal("30")
SUPPLIER_QUALITY_MIN = 3
# shipping_issue above this share of all closes → review the carrier.
SHIPPING_ISSUE_SHARE = Decimal("15")
# Closes at the paid stage above this share → the listing promises stock or times we cannot keep.
PAID_STAGE_SHARE = Decimal("30")
# Below this many closes a share says little; share-based rules stay quiet.
MIN_CLOSES_FOR_SHARES = 10
# The periodic task that sends the payment reminders (SPEC §10): the reminders are on while its
# schedule is enabled, each store's delay its own (``Store.payment_reminder_hours``).
REMINDER_TASK = "orders.send_payment_reminders"


def _above(count: int, total: int, limit: Decimal) -> bool:
    """Whether ``count`` is more than ``limit`` percent of ``total``, exactly.

    The shares shown are rounded to one place (20.04% shows as 20.0%); a rule compares the
    true fraction, so it fires when, and only when, it holds.
    """
    return total > 0 and Decimal(count) * 100 > limit * total


@dataclass(frozen=True)
class Recommendation:
    """One action, the rule (code) that triggered it and the figures behind it."""

    rule: str
    action: str
    why: str
    subject: str = ""  # the SKU or supplier concerned, if any


@dataclass(frozen=True)
class Reminders:
    """How payment reminders are set for a view: sent or not, and each store's delay."""

    on: bool  # the schedule of ``REMINDER_TASK`` exists and is enabled
    schedule: str  # its name in the admin's periodic tasks ("" when there is none)
    delays: list[tuple[str, float]]  # (store code, hours after the order is placed), by code


def payment_reminders(user: Any, store: Store | None) -> Reminders:
    """How payment reminders are set for a view of ``user``'s stores (or of one ``store``): on
    while the periodic task that sends them (``orders.send_payment_reminders``) is enabled, after
    each store's delay. Two small reads."""
    schedules = list(PeriodicTask.objects.filter(task=REMINDER_TASK).values_list("name", "enabled"))
    stores = [store] if store is not None else policy.stores(user).order_by("code")
    return Reminders(
        on=any(enabled for _name, enabled in schedules),
        schedule=schedules[0][0] if schedules else "",
        delays=[(s.code, float(s.option("payment_reminder_hours"))) for s in stores],
    )


def _reminders_action(reminders: Reminders) -> str:
    """What to do about unpaid orders timing out, given how reminders are set now."""
    if not reminders.on:
        if reminders.schedule:
            return _(
                "Turn on payment reminders (the periodic task “%(schedule)s” is disabled) and check "
                "the checkout for friction."
            ) % {"schedule": reminders.schedule}
        return _("Turn on payment reminders and check the checkout for friction.")
    delays = sorted({hours for _code, hours in reminders.delays}) or [
        float(option_value("payment_reminder_hours", None))
    ]
    if len(delays) == 1:
        after = _("%(hours)s hours after the order") % {"hours": f"{delays[0]:g}"}
    else:
        after = ", ".join(
            _("%(store)s: %(hours)s hours") % {"store": code, "hours": f"{hours:g}"}
            for code, hours in reminders.delays
        )
    return _(
        "Payment reminders are on (%(after)s): remind buyers sooner, and check the checkout for friction."
    ) % {"after": after}


def _costliest_refusals(costs: CostOfCloses) -> list[Recommendation]:
    """The supplier whose refusals cost the most (several when they cost the same, said so); none
    when no refusal cost anything."""
    refusals = costs.supplier_refusals
    if not refusals:
        return []
    top = max(cost for _n, cost in refusals.values())
    if top <= 0:
        return []
    names = sorted(name for name, (_n, cost) in refusals.items() if cost == top)
    figures = {"cost": top, "currency": costs.currency}
    if len(names) == 1:
        (name,) = names
        return [
            Recommendation(
                rule="supplier_refusal_cost",
                action=_("Renegotiate with %(supplier)s or move its SKUs: its refusals cost the most.")
                % {"supplier": name},
                why=_("%(n)d close(s) where it refused a refund cost %(cost)s %(currency)s.")
                % {**figures, "n": refusals[name][0]},
                subject=name,
            )
        ]
    return [
        Recommendation(
            rule="supplier_refusal_cost",
            action=_(
                "Renegotiate with %(suppliers)s or move their SKUs: their refusals cost the most, "
                "as much each."
            )
            % {"suppliers": get_text_list(names, _("and"))},
            why=_("The closes where each refused a refund cost %(cost)s %(currency)s: %(closes)s.")
            % {
                **figures,
                "closes": "; ".join(
                    _("%(supplier)s, %(n)d close(s)") % {"supplier": name, "n": refusals[name][0]}
                    for name in names
                ),
            },
            subject=", ".join(names),
        )
    ]


def recommend(
    data: CloseAnalytics, *, user: Any, now: datetime, costs: CostOfCloses | None = None
) -> list[Recommendation]:
    """The actions the numbers in ``data`` call for. Reads one more query (the overdue refunds of
    ``user``'s stores, or of the view's store: ``data.store``; ``user`` is ``None`` for the system),
    and two when unpaid orders time out too often (how payment reminders are set).

    With ``costs`` (the view's cost of closes) the supplier rules weigh by cost: a supplier whose
    closes cost most comes first, and ``supplier_refusal_cost`` names the supplier whose refusals
    cost the most (the suppliers, when several cost as much).

    Rules:
    - ``payment_timeout_share``: ``payment_timeout`` closes > 20% of closes (≥ 10 closes); the
      action reads how reminders are set now (:func:`payment_reminders`): turn them on, or remind
      sooner;
    - ``product_info_error_sku``: a SKU with ≥ 3 ``product_info_error`` closes;
    - ``out_of_stock_sku``: a SKU with ≥ 3 ``out_of_stock`` closes;
    - ``supplier_refusal_cost``: the supplier whose refused refunds cost the most (ties together);
    - ``supplier_refund_overdue``: a supplier with refunds past their respond-by deadline;
    - ``supplier_quality``: a supplier with ≥ 3 ``quality_issue`` closes making ≥ 30% of its closes;
    - ``shipping_issue_share``: ``shipping_issue`` closes > 15% of closes (≥ 10 closes);
    - ``paid_stage_share``: closes begun after payment > 30% of closes (≥ 10 closes).
    """
    found: list[Recommendation] = []
    total = data.total
    shares_meaningful = total >= MIN_CLOSES_FOR_SHARES

    timeout = data.reason_count(CloseReason.PAYMENT_TIMEOUT)
    timeout_share = share_percent(timeout, total)
    if shares_meaningful and _above(timeout, total, PAYMENT_TIMEOUT_SHARE):
        found.append(
            Recommendation(
                rule="payment_timeout_share",
                action=_reminders_action(payment_reminders(user, data.store)),
                why=_(
                    "%(share)s%% of closes (%(n)d of %(total)d) were unpaid orders timing out; "
                    "the rule is above %(limit)s%%."
                )
                % {"share": timeout_share, "n": timeout, "total": total, "limit": PAYMENT_TIMEOUT_SHARE},
            )
        )

    # The per-SKU rules fire for hundreds of SKUs in a busy quarter: each text translated once.
    action = _("Fix the listing of %(sku)s: its description, photos or options mislead buyers.")
    why = _("%(n)d closes for wrong product information; the rule is %(limit)d or more.")
    for code, n in data.repeated(CloseReason.PRODUCT_INFO_ERROR, PRODUCT_INFO_ERROR_CLOSES):
        found.append(
            Recommendation(
                rule="product_info_error_sku",
                action=action % {"sku": code},
                why=why % {"n": n, "limit": PRODUCT_INFO_ERROR_CLOSES},
                subject=code,
            )
        )

    action = _("Restock %(sku)s or sync its inventory with the supplier before selling it again.")
    why = _("%(n)d closes for out of stock; the rule is %(limit)d or more.")
    for code, n in data.repeated(CloseReason.OUT_OF_STOCK, OUT_OF_STOCK_CLOSES):
        found.append(
            Recommendation(
                rule="out_of_stock_sku",
                action=action % {"sku": code},
                why=why % {"n": n, "limit": OUT_OF_STOCK_CLOSES},
                subject=code,
            )
        )

    supplier_cost = costs.supplier_costs if costs else {}

    def costliest_first(item: tuple) -> tuple:
        return (-supplier_cost.get(item[0], Decimal("0")), item[0])

    if costs:
        found.extend(_costliest_refusals(costs))

    for name, n in sorted(
        overdue_supplier_refunds_by_supplier(now, user, supplier=data.supplier, store=data.store).items(),
        key=costliest_first,
    ):
        found.append(
            Recommendation(
                rule="supplier_refund_overdue",
                action=_("Escalate to 1688: ask the platform to intervene with %(supplier)s.")
                % {"supplier": name or _("(no supplier name)")},
                why=_("%(n)d supplier refund(s) past the respond-by deadline.") % {"n": n},
                subject=name,
            )
        )

    for name, (n, bad) in sorted(data.supplier_quality.items(), key=costliest_first):
        share = share_percent(bad, n)
        if bad >= SUPPLIER_QUALITY_MIN and Decimal(bad) * 100 >= SUPPLIER_QUALITY_SHARE * n:
            found.append(
                Recommendation(
                    rule="supplier_quality",
                    action=_(
                        "Review %(supplier)s: inspect its goods before shipping or find another supplier."
                    )
                    % {"supplier": name or _("(no supplier name)")},
                    why=_(
                        "%(bad)d of its %(n)d closes (%(share)s%%) were for quality; "
                        "the rule is %(min)d or more and at least %(limit)s%%."
                    )
                    % {
                        "bad": bad,
                        "n": n,
                        "share": share,
                        "min": SUPPLIER_QUALITY_MIN,
                        "limit": SUPPLIER_QUALITY_SHARE,
                    },
                    subject=name,
                )
            )

    shipping = data.reason_count(CloseReason.SHIPPING_ISSUE)
    shipping_share = share_percent(shipping, total)
    if shares_meaningful and _above(shipping, total, SHIPPING_ISSUE_SHARE):
        found.append(
            Recommendation(
                rule="shipping_issue_share",
                action=_("Review the carriers and shipping options offered for the affected routes."),
                why=_(
                    "%(share)s%% of closes (%(n)d of %(total)d) were shipping problems; "
                    "the rule is above %(limit)s%%."
                )
                % {"share": shipping_share, "n": shipping, "total": total, "limit": SHIPPING_ISSUE_SHARE},
            )
        )

    paid = next((row for row in data.by_stage if row.key == "paid"), None)
    if shares_meaningful and paid is not None and _above(paid.count, total, PAID_STAGE_SHARE):
        found.append(
            Recommendation(
                rule="paid_stage_share",
                action=_(
                    "Check stock and handling times before orders are paid: "
                    "too many paid orders are cancelled."
                ),
                why=_(
                    "%(share)s%% of closes (%(n)d of %(total)d) began after payment; "
                    "the rule is above %(limit)s%%."
                )
                % {"share": paid.share, "n": paid.count, "total": total, "limit": PAID_STAGE_SHARE},
            )
        )
    return found
