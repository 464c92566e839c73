"""Who may view, add, change and delete what in the admin: every registered model, every group.

The table below is the whole answer, for every ``ModelAdmin`` on the site, third-party ones
included. A model registered but missing from it fails the test by name, so a new admin screen
(ours or a new dependency's) cannot arrive open: it is looked at and written down here first.
The screens of other apps than ours are superusers' only, whatever a group holds
(``shopops.admin_base.SuperuserOnly``, issue 20).
"""

from __future__ import annotations

import json

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.test import Client, RequestFactory
from django.urls import reverse

from shopops.admin_base import OWN_APPS, ShopopsAdminSite
from tests.factories import UserFactory, staff

pytestmark = pytest.mark.django_db

GROUPS = ["Operator", "Supervisor", "Finance", "Analyst"]
ROLES = [*GROUPS, "superuser"]
ACTIONS = ("view", "add", "change", "delete")

OPS, SUP, FIN, ANA, SU = "Operator", "Supervisor", "Finance", "Analyst", "superuser"
EVERYONE = frozenset(ROLES)
ROOT = frozenset({SU})
NOBODY: frozenset[str] = frozenset()


def only(*roles: str) -> frozenset[str]:
    return frozenset(roles)


# model: who may (view, add, change, delete) it, through its ModelAdmin.
TABLE: dict[str, tuple[frozenset[str], frozenset[str], frozenset[str], frozenset[str]]] = {
    # --- other apps: superusers only ---------------------------------------------------------
    "auth.User": (ROOT, ROOT, ROOT, ROOT),
    "auth.Group": (ROOT, ROOT, ROOT, ROOT),
    "django_celery_beat.PeriodicTask": (ROOT, ROOT, ROOT, ROOT),
    "django_celery_beat.ClockedSchedule": (ROOT, ROOT, ROOT, ROOT),
    "django_celery_beat.CrontabSchedule": (ROOT, ROOT, ROOT, ROOT),
    "django_celery_beat.IntervalSchedule": (ROOT, ROOT, ROOT, ROOT),
    "django_celery_beat.SolarSchedule": (ROOT, ROOT, ROOT, ROOT),
    # axes' records are written by logins, never added by hand (its own admin says so).
    "axes.AccessAttempt": (ROOT, NOBODY, ROOT, ROOT),
    "axes.AccessLog": (ROOT, NOBODY, ROOT, ROOT),
    "axes.AccessFailureLog": (ROOT, NOBODY, ROOT, ROOT),
    # --- orders ------------------------------------------------------------------------------
    # Read-only pages: orders change by transitions, history and messages are appended.
    "orders.Order": (EVERYONE, NOBODY, NOBODY, NOBODY),
    "orders.OrderEvent": (EVERYONE, NOBODY, NOBODY, NOBODY),
    "orders.Refund": (EVERYONE, NOBODY, NOBODY, NOBODY),
    "orders.Notification": (EVERYONE, NOBODY, NOBODY, NOBODY),
    # Finance alone corrects a rate (and a superuser); nobody adds or deletes one here.
    "orders.ExchangeRate": (EVERYONE, NOBODY, only(FIN, SU), NOBODY),
    "orders.Sku": (only(OPS, SUP, ANA, SU), only(SUP, SU), only(SUP, SU), NOBODY),
    "orders.StockMovement": (only(OPS, SUP, ANA, SU), NOBODY, NOBODY, NOBODY),
    "orders.Feedback": (only(OPS, SUP, ANA, SU), only(OPS, SUP, SU), only(OPS, SUP, SU), NOBODY),
    "orders.OrderImport": (only(SUP, SU), NOBODY, NOBODY, NOBODY),
    # Everyone sees the stores they work for; superusers alone add and change one; none is deleted.
    "orders.Store": (EVERYONE, ROOT, ROOT, NOBODY),
    "orders.BuyerMessageTemplate": (only(SUP, SU), only(SUP, SU), only(SUP, SU), only(SUP, SU)),
    # --- evidence: recorded on the order's page, never edited ----------------------------------
    "evidence.Communication": (EVERYONE, NOBODY, NOBODY, NOBODY),
    "evidence.Attachment": (EVERYONE, NOBODY, NOBODY, NOBODY),
}


# The bulk actions each role is offered on each list of ours (a list or a role not named: none).
# Closing unpaid orders in bulk is the Operators' too (issue 23), in their stores, with the same
# limits as the Supervisors'; Django's "delete selected" only where the role may delete (TABLE).
_ORDER_ACTIONS = frozenset({"close_unpaid", "send_payment_reminder", "export", "evidence_pack"})
LIST_ACTIONS: dict[str, dict[str, frozenset[str]]] = {
    "orders.Order": {
        OPS: _ORDER_ACTIONS,
        SUP: _ORDER_ACTIONS | {"assign_selected"},
        FIN: frozenset({"export"}),
        ANA: frozenset({"export"}),
        SU: _ORDER_ACTIONS | {"assign_selected"},
    },
    # Finance marks the money due to us received, Supervisors the buyers' refunds (issue 23)
    "orders.Refund": {
        FIN: frozenset({"mark_received"}),
        SUP: frozenset({"mark_received"}),
        SU: frozenset({"mark_received"}),
    },
    "orders.Notification": {SUP: frozenset({"retry_notifications"}), SU: frozenset({"retry_notifications"})},
    "orders.BuyerMessageTemplate": {SUP: frozenset({"delete_selected"}), SU: frozenset({"delete_selected"})},
}


def _registry() -> dict:
    admin.autodiscover()
    return {model._meta.label: model_admin for model, model_admin in admin.site._registry.items()}


@pytest.fixture
def users() -> dict:
    found = {group: staff(group) for group in GROUPS}
    found[SU] = get_user_model().objects.create_superuser("root", "root@example.com", "x")
    return found


def _request(user):
    request = RequestFactory().get("/admin/")
    request.user = user
    return request


def _may(model_admin, action: str, request) -> bool:
    check = getattr(model_admin, f"has_{action}_permission")
    return check(request) if action == "add" else check(request, None)


def test_every_registered_admin_is_in_the_table():
    registered = set(_registry())
    missing = sorted(registered - set(TABLE))
    assert not missing, (
        f"Admin screens registered but not in tests/test_admin_permissions.py TABLE: {missing}. "
        "Say who may view, add, change and delete each (other apps than ours: superusers only)."
    )
    assert not sorted(set(TABLE) - registered), "TABLE names a model that is no longer registered"


def test_the_site_is_the_back_office_s():
    assert isinstance(admin.site, ShopopsAdminSite)


@pytest.mark.parametrize("role", ROLES)
def test_each_role_may_do_exactly_what_the_table_says(users, role):
    request = _request(users[role])
    wrong = []
    for label, model_admin in sorted(_registry().items()):
        expected = TABLE.get(label)
        if expected is None:
            continue  # reported by name by test_every_registered_admin_is_in_the_table
        for action, allowed in zip(ACTIONS, expected, strict=True):
            if _may(model_admin, action, request) != (role in allowed):
                wrong.append(f"{label} {action}: {'allowed' if role not in allowed else 'refused'}")
        foreign = model_admin.opts.app_label not in OWN_APPS
        if foreign and model_admin.has_module_permission(request) != (role == SU):
            wrong.append(f"{label}: its app is listed on the index")
    assert not wrong, f"{role} {wrong}"


@pytest.mark.parametrize("role", ROLES)
def test_each_role_is_offered_exactly_the_bulk_actions_the_table_says(users, role):
    request = _request(users[role])
    wrong = []
    for label, model_admin in sorted(_registry().items()):
        if model_admin.opts.app_label not in OWN_APPS:
            continue
        offered = set(model_admin.get_actions(request))
        expected = LIST_ACTIONS.get(label, {}).get(role, frozenset())
        if offered != expected:
            wrong.append(f"{label}: offered {sorted(offered)}, the table says {sorted(expected)}")
    assert not wrong, f"{role} {wrong}"


@pytest.mark.parametrize("role", ROLES)
def test_each_list_answers_403_to_those_who_may_not_view_it(users, role):
    client = Client(raise_request_exception=False)
    client.force_login(users[role])
    wrong = []
    for label, model_admin in sorted(_registry().items()):
        view, _add, change, _delete = TABLE.get(label, (NOBODY,) * 4)
        opts = model_admin.opts
        status = client.get(reverse(f"admin:{opts.app_label}_{opts.model_name}_changelist")).status_code
        if status != (200 if role in view | change else 403):
            wrong.append(f"{label}: {status}")
    assert not wrong, f"{role} {wrong}"
    index = client.get(reverse("admin:index")).content.decode()
    for app_label in ("auth", "django_celery_beat", "axes"):
        assert (f'href="/admin/{app_label}/"' in index) is (role == SU), app_label


# --- the attack of issue 20: a Supervisor editing the periodic tasks ---------------------------


def _fx_row():
    from django_celery_beat.models import CrontabSchedule, PeriodicTask

    row = PeriodicTask.objects.filter(task="orders.fetch_fx_rates").first()
    return row or PeriodicTask.objects.create(
        name="Exchange rates fetch",
        task="orders.fetch_fx_rates",
        crontab=CrontabSchedule.objects.create(minute="30", hour="23", day_of_week="1-5"),
    )


def test_a_supervisor_cannot_see_or_change_the_periodic_tasks(client):
    row = _fx_row()
    client.force_login(staff("Supervisor"))
    change = reverse("admin:django_celery_beat_periodictask_change", args=[row.pk])
    for url in (reverse("admin:django_celery_beat_periodictask_changelist"), change):
        assert client.get(url).status_code == 403, url
    response = client.post(
        change,
        {
            "name": row.name,
            "regtask": "orders.fetch_fx_rates",
            "task": "orders.fetch_fx_rates",
            "crontab": row.crontab_id,
            "args": json.dumps(["http://127.0.0.1:9/rates.xml"]),
            "kwargs": "{}",
            "enabled": "on",
        },
    )
    assert response.status_code == 403
    row.refresh_from_db()
    assert row.args == "[]"


@pytest.mark.parametrize(
    "url",
    [
        "/admin/django_celery_beat/periodictask/",
        "/admin/django_celery_beat/periodictask/add/",
        "/admin/django_celery_beat/crontabschedule/",
        "/admin/auth/user/",
        "/admin/auth/user/add/",
        "/admin/auth/group/",
        "/admin/axes/accessattempt/",
        "/admin/axes/accesslog/",
        "/admin/axes/accessfailurelog/",
    ],
)
def test_a_supervisor_gets_403_on_every_third_party_screen(client, url):
    client.force_login(staff("Supervisor"))
    assert client.get(url).status_code == 403


def test_a_supervisor_cannot_open_a_user_or_group_page(client):
    user = staff("Operator")
    client.force_login(staff("Supervisor"))
    group = Group.objects.get(name="Supervisor")
    assert client.get(reverse("admin:auth_user_change", args=[user.pk])).status_code == 403
    assert client.get(reverse("admin:auth_user_password_change", args=[user.pk])).status_code == 403
    assert client.get(reverse("admin:auth_group_change", args=[group.pk])).status_code == 403


def test_a_third_party_permission_given_by_hand_opens_nothing(client):
    """The screens are closed at the site, not by the groups: a permission someone grants a
    user or a group later still opens no third-party screen to a non-superuser."""
    user = UserFactory(username="granted", groups=["Supervisor"])
    user.user_permissions.set(
        Permission.objects.filter(
            content_type__app_label__in=["django_celery_beat", "auth", "axes"],
        )
    )
    row = _fx_row()
    client.force_login(user)
    for url in (
        reverse("admin:django_celery_beat_periodictask_changelist"),
        reverse("admin:django_celery_beat_periodictask_change", args=[row.pk]),
        reverse("admin:auth_user_changelist"),
        reverse("admin:auth_group_changelist"),
        reverse("admin:axes_accessattempt_changelist"),
    ):
        assert client.get(url).status_code == 403, url


def test_an_admin_registered_later_for_another_app_is_superusers_only(users):
    """A new dependency's ModelAdmin (plain, with options, or its own class) arrives closed; one
    of our apps' follows the permissions as before."""
    from django.contrib.contenttypes.models import ContentType
    from django.contrib.sessions.models import Session

    from orders.models import SupplierOrder

    class ItsOwnAdmin(admin.ModelAdmin):
        def has_view_permission(self, request, obj=None):
            return True  # a careless third-party admin

    site = ShopopsAdminSite("later")
    site.register(ContentType)
    site.register(Session, ItsOwnAdmin, list_display=["session_key"])
    site.register(SupplierOrder)
    operator = users[OPS]
    operator.user_permissions.set(
        Permission.objects.filter(codename__in=["view_contenttype", "change_contenttype", "view_session"])
    )
    operator = get_user_model().objects.get(pk=operator.pk)  # no cached permissions
    for model in (ContentType, Session):
        model_admin = site._registry[model]
        assert not model_admin.has_module_permission(_request(operator))
        assert not any(_may(model_admin, action, _request(operator)) for action in ACTIONS)
        assert _may(model_admin, "view", _request(users[SU]))
    assert str(site._registry[Session]).endswith(".SessionAdmin")
    assert site._registry[Session].list_display == ["session_key"]
    assert operator.has_perm("orders.view_supplierorder")
    assert _may(site._registry[SupplierOrder], "view", _request(operator))
