"""Who handles each order (issue 23, part 1): claim, assign, the claim a step makes, the take-over
question, "Mine", the supervisor's team page and the follow-ups' assignees — each scoped to the
stores people work for (``orders.policy``)."""

from __future__ import annotations

import re

import pytest
from django.test import Client

from orders import workflow
from orders.models import Feedback, OrderEvent, Status
from orders.workflow.assignment import HandledByOther
from orders.workflow.feedback import assign_followup, record_feedback
from shopops.errors import NotPermitted, Refused
from tests.factories import OrderFactory, RefundFactory, StoreFactory, default_store, staff
from tests.workflow_support import say

pytestmark = pytest.mark.django_db

MISSING = 2**62


@pytest.fixture
def team():
    """Store main: operators Ana and Bob, supervisor Sue, Finance, an Analyst; store B: operator
    Otto and supervisor Bea; Max works for both."""
    main = default_store()
    b = StoreFactory(code="B", name="Store B")
    people = {
        "ana": staff("Operator", "ana"),
        "bob": staff("Operator", "bob"),
        "sue": staff("Supervisor", "sue"),
        "fin": staff("Finance", "fin"),
        "ann": staff("Analyst", "ann"),
        "otto": staff("Operator", "otto", stores=[b]),
        "bea": staff("Supervisor", "bea", stores=[b]),
        "max": staff("Operator", "max", stores=[main, b]),
    }
    people["ana"].first_name = "Ana"
    people["ana"].save()
    return {**people, "main": main, "b": b}


def events(order, name):
    return list(OrderEvent.objects.filter(order=order, transition=name))


def client_of(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


# --- claim ---------------------------------------------------------------------------------------


def test_an_operator_claims_an_order_with_one_event(team):
    order = OrderFactory(status=Status.PAID)
    claimed = workflow.claim_order(order, by=team["ana"])
    assert claimed.assignee == team["ana"]
    (event,) = events(order, "claim_order")
    assert event.actor == team["ana"] and event.data == {"assignee": "ana"}
    workflow.claim_order(order, by=team["ana"])  # already hers: nothing more
    assert len(events(order, "claim_order")) == 1


def test_a_colleagues_order_is_taken_over_only_when_asked(team):
    order = OrderFactory(status=Status.PAID, assignee=team["ana"])
    with pytest.raises(HandledByOther, match="Ana is handling order"):
        workflow.claim_order(order, by=team["bob"])
    order.refresh_from_db()
    assert order.assignee == team["ana"] and not events(order, "claim_order")
    workflow.claim_order(order, by=team["bob"], take_over=True)
    order.refresh_from_db()
    assert order.assignee == team["bob"]
    assert events(order, "claim_order")[0].data == {"assignee": "bob", "previous_assignee": "ana"}


def test_a_supervisor_claims_without_being_asked_and_a_closed_order_is_nobodys(team):
    order = OrderFactory(status=Status.PAID, assignee=team["ana"])
    assert workflow.claim_order(order, by=team["sue"]).assignee == team["sue"]
    closed = OrderFactory(status=Status.COMPLETED)
    with pytest.raises(Refused, match="nobody needs to handle it"):
        workflow.claim_order(closed, by=team["ana"])


def test_finance_cannot_claim_and_another_stores_order_does_not_exist(team):
    with pytest.raises(NotPermitted):
        workflow.claim_order(OrderFactory(status=Status.PAID), by=team["fin"])
    b_order = OrderFactory(status=Status.PAID, store=team["b"])
    with pytest.raises(Refused) as of_b:
        workflow.claim_order(b_order.pk, by=team["ana"])
    with pytest.raises(Refused) as missing:
        workflow.claim_order(MISSING, by=team["ana"])
    assert not isinstance(of_b.value, NotPermitted)
    assert str(of_b.value) == str(missing.value).replace(str(MISSING), str(b_order.pk))


# --- assign --------------------------------------------------------------------------------------


def test_a_supervisor_assigns_to_someone_who_may_handle_the_order(team):
    order = OrderFactory(status=Status.PAID, assignee=team["ana"])
    assert workflow.assign_order(order, by=team["sue"], to=team["bob"]).assignee == team["bob"]
    (event,) = events(order, "assign_order")
    assert event.actor == team["sue"]
    assert event.data == {"assignee": "bob", "previous_assignee": "ana"}
    # By id too, and to nobody.
    workflow.assign_order(order.pk, by=team["sue"], to=team["max"].pk)
    assert workflow.assign_order(order, by=team["sue"], to=None).assignee is None
    assert len(events(order, "assign_order")) == 3


@pytest.mark.parametrize(
    ("who", "why"),
    [
        ("fin", "holds no role that acts on orders"),
        ("ann", "holds no role that acts on orders"),
        ("otto", "does not work for store main"),
    ],
)
def test_an_assignee_who_may_not_handle_the_order_is_refused(team, who, why):
    order = OrderFactory(status=Status.PAID)
    with pytest.raises(Refused, match=why) as refused:
        workflow.assign_order(order, by=team["sue"], to=team[who])
    assert refused.value.field == "to"
    order.refresh_from_db()
    assert order.assignee is None and not events(order, "assign_order")


def test_only_a_supervisor_assigns_and_only_in_their_stores(team):
    order = OrderFactory(status=Status.PAID)
    with pytest.raises(NotPermitted):
        workflow.assign_order(order, by=team["ana"], to=team["bob"])
    b_order = OrderFactory(status=Status.PAID, store=team["b"])
    with pytest.raises(Refused, match=f"Order {b_order.pk} does not exist"):
        workflow.assign_order(b_order.pk, by=team["sue"], to=team["max"])
    # Bea, B's supervisor, may give it to Max (of both stores) but not to Ana (of main only).
    assert workflow.assign_order(b_order, by=team["bea"], to=team["max"]).assignee == team["max"]
    with pytest.raises(Refused, match="does not work for store B"):
        workflow.assign_order(b_order, by=team["bea"], to=team["ana"])


# --- the claim every step makes ------------------------------------------------------------------


def test_a_step_on_an_unassigned_order_claims_it(team):
    order = OrderFactory(status=Status.PAID)
    workflow.mark_shipped(order, by=team["ana"], tracking_number="LP1")
    order.refresh_from_db()
    assert order.assignee == team["ana"]
    (event,) = events(order, "mark_shipped")
    assert event.data["assignee"] == "ana"


def test_a_step_on_a_colleagues_order_asks_first_and_writes_nothing(team):
    order = OrderFactory(status=Status.PAID, assignee=team["ana"])
    with pytest.raises(HandledByOther) as asked:
        workflow.mark_shipped(order, by=team["bob"], tracking_number="LP1")
    assert asked.value.assignee == team["ana"]
    order.refresh_from_db()
    assert order.status == Status.PAID and order.assignee == team["ana"]
    assert not events(order, "mark_shipped")
    workflow.mark_shipped(order, by=team["bob"], tracking_number="LP1", take_over=True)
    order.refresh_from_db()
    assert (order.status, order.assignee) == (Status.SHIPPED, team["bob"])
    assert events(order, "mark_shipped")[0].data["took_over_from"] == "ana"


def test_a_supervisors_step_leaves_the_order_with_its_assignee(team):
    order = OrderFactory(status=Status.PAID, assignee=team["ana"])
    workflow.mark_shipped(order, by=team["sue"], tracking_number="LP1")
    order.refresh_from_db()
    assert order.status == Status.SHIPPED and order.assignee == team["ana"]


def test_the_system_and_a_departed_colleague_hold_nothing(team):
    order = OrderFactory(status=Status.PAID, assignee=team["ana"])
    workflow.mark_shipped(order, by=None, tracking_number="LP1")
    order.refresh_from_db()
    assert order.assignee == team["ana"]
    team["ana"].is_active = False
    team["ana"].save()
    workflow.mark_completed(order, by=team["bob"])  # Ana left: no question, Bob takes it
    order.refresh_from_db()
    assert order.assignee == team["bob"]


# --- the screens ---------------------------------------------------------------------------------


def test_the_transition_form_asks_before_a_step_on_a_colleagues_order(team):
    order = OrderFactory(status=Status.PAID, assignee=team["ana"])
    bob = client_of(team["bob"])
    url = f"/admin/orders/order/{order.pk}/transition/mark_shipped/"
    asked = bob.get(url)
    assert asked.status_code == 409
    assert "Ana is handling this order; take it over?" in asked.content.decode()
    form = bob.get(url, {"take_over": "1"})
    assert form.status_code == 200
    assert re.search(r'name="take_over" value="1"', form.content.decode())
    # A POST without the answer asks again and changes nothing.
    assert bob.post(url, {"seen_status": "paid", "tracking_number": "LP9"}).status_code == 409
    done = bob.post(url, {"seen_status": "paid", "tracking_number": "LP9", "take_over": "1"})
    assert done.status_code == 302
    order.refresh_from_db()
    assert (order.status, order.assignee) == (Status.SHIPPED, team["bob"])


def test_the_order_page_says_who_handles_it_and_offers_to_take_it_on(team):
    order = OrderFactory(status=Status.PAID)
    ana = client_of(team["ana"])
    page = ana.get(f"/admin/orders/order/{order.pk}/change/").content.decode()
    assert 'id="handled-by"' in page and "nobody yet" in page and 'id="claim-form"' in page
    assert 'id="assign"' not in page  # an operator does not assign
    assert ana.post(f"/admin/orders/order/{order.pk}/claim/").status_code == 302
    order.refresh_from_db()
    assert order.assignee == team["ana"]
    bob_page = client_of(team["bob"]).get(f"/admin/orders/order/{order.pk}/claim/")
    assert (
        bob_page.status_code == 409
        and "Ana is handling this order; take it over?" in bob_page.content.decode()
    )


def test_the_assign_page_offers_only_people_who_may_handle_the_order(team):
    order = OrderFactory(status=Status.PAID)
    sue = client_of(team["sue"])
    page = sue.get(f"/admin/orders/order/{order.pk}/assign/")
    options = set(re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', page.content.decode()))
    assert {"Ana", "bob", "sue", "max"} <= options
    assert not options & {"fin", "ann", "otto", "bea"}
    assert sue.post(f"/admin/orders/order/{order.pk}/assign/", {"to": team["bob"].pk}).status_code == 302
    order.refresh_from_db()
    assert order.assignee == team["bob"]
    # Finance's id typed in: refused by the form (not among the choices), nothing changed.
    assert sue.post(f"/admin/orders/order/{order.pk}/assign/", {"to": team["fin"].pk}).status_code == 400
    assert client_of(team["ana"]).get(f"/admin/orders/order/{order.pk}/assign/").status_code == 403
    b_order = OrderFactory(status=Status.PAID, store=team["b"])
    assert sue.get(f"/admin/orders/order/{b_order.pk}/assign/").status_code == 404


def test_the_list_assigns_selected_orders_in_bulk(team):
    orders = [OrderFactory(status=Status.PAID) for _ in range(3)]
    closed = OrderFactory(status=Status.COMPLETED, buyer_name="Dana Li")
    sue = client_of(team["sue"])
    selected = [o.pk for o in [*orders, closed]]
    asked = sue.post("/admin/orders/order/", {"action": "assign_selected", "_selected_action": selected})
    assert asked.status_code == 200 and "Assign orders" in asked.content.decode()
    done = sue.post(
        "/admin/orders/order/",
        {"action": "assign_selected", "_selected_action": selected, "apply": "1", "to": team["bob"].pk},
        follow=True,
    )
    text = done.content.decode()
    assert "Assigned 3 orders to bob" in text
    assert f"Order {closed} (Dana Li) was refused" in text
    assert {o.assignee_id for o in type(closed).objects.filter(pk__in=[o.pk for o in orders])} == {
        team["bob"].pk
    }


# --- Mine ----------------------------------------------------------------------------------------


def test_mine_is_what_i_handle_and_what_waits_on_me(team):
    mine = OrderFactory(status=Status.SHIPPED, assignee=team["ana"], platform_order_id="8100000000000001")
    pool = OrderFactory(status=Status.PAID, platform_order_id="8100000000000002")
    bobs = OrderFactory(status=Status.PAID, assignee=team["bob"], platform_order_id="8100000000000003")
    unpaid = OrderFactory(status=Status.AWAITING_PAYMENT, platform_order_id="8100000000000004")
    shipped = OrderFactory(status=Status.SHIPPED, platform_order_id="8100000000000008")  # the carrier's
    done = OrderFactory(status=Status.COMPLETED, assignee=team["ana"], platform_order_id="8100000000000005")
    to_confirm = OrderFactory(
        status=Status.REFUND_PENDING, assignee=team["ana"], platform_order_id="8100000000000006"
    )
    RefundFactory(order=to_confirm)
    other_store = OrderFactory(status=Status.PAID, store=team["b"], platform_order_id="8100000000000007")

    ana = client_of(team["ana"])
    listed = ana.get("/admin/orders/order/", {"mine": "yes"}).content.decode()
    shown = {
        o.platform_order_id
        for o in (mine, pool, bobs, unpaid, shipped, done, to_confirm, other_store)
        if o.platform_order_id in listed
    }
    assert shown == {mine.platform_order_id, pool.platform_order_id, to_confirm.platform_order_id}
    index = ana.get("/admin/").content.decode()
    row = re.search(r'<tr[^>]*data-key="mine">.*?</tr>', index, re.S).group(0)
    assert 'worklist-count">3<' in row and "?mine=yes" in row

    # A supervisor's Mine: the order waiting on a supervisor's step, though Ana handles it.
    sue = client_of(team["sue"]).get("/admin/orders/order/", {"mine": "yes"}).content.decode()
    assert to_confirm.platform_order_id in sue and mine.platform_order_id not in sue
    assert pool.platform_order_id not in sue


# --- the team page -------------------------------------------------------------------------------


def _row(page: str, person: str) -> str:
    found = re.search(rf'<tr data-person="{person}".*?</tr>', page, re.S)
    return found.group(0) if found else ""


def _cell(row: str, name: str) -> str:
    return re.search(rf'class="num {name}">(?:<a [^>]*>)?([^<]*)', row).group(1)


def test_the_team_page_shows_each_persons_work_in_the_supervisors_stores(team):
    for _ in range(2):
        OrderFactory(status=Status.PAID, assignee=team["ana"])
    OrderFactory(status=Status.COMPLETED, assignee=team["ana"])  # finished: not open
    OrderFactory(status=Status.PAID, assignee=team["max"], store=team["b"])  # Max's, in B
    OrderFactory(status=Status.PAID)  # nobody's
    OrderFactory(status=Status.SHIPPED)  # waits on the carrier: not counted
    OrderFactory(status=Status.AWAITING_PAYMENT)  # unpaid: waits on the buyer
    shipped = OrderFactory(status=Status.PAID)
    workflow.mark_shipped(shipped, by=team["bob"], tracking_number="LP1")  # a step this week

    page = client_of(team["sue"]).get("/admin/orders/team/")
    assert page.status_code == 200
    text = page.content.decode()
    people = set(re.findall(r'<tr data-person="(\w+)"', text))
    assert people == {"ana", "bob", "sue", "max"}  # not Finance, not the Analyst, not B's own
    assert _cell(_row(text, "ana"), "open-orders") == "2"
    assert _cell(_row(text, "max"), "open-orders") == "0"  # his order is of store B
    assert _cell(_row(text, "bob"), "open-orders") == "1"  # the step made it his
    assert _cell(_row(text, "bob"), "steps-this-week") == "1"
    assert _cell(_row(text, ""), "open-orders") == "1"
    assert f'href="/admin/orders/order/?assignee={team["ana"].pk}&amp;open=yes"' in text


def test_the_team_page_is_a_supervisors_and_refuses_another_stores_filter(team):
    assert client_of(team["ana"]).get("/admin/orders/team/").status_code == 403
    assert client_of(team["fin"]).get("/admin/orders/team/").status_code == 403
    sue = client_of(team["sue"])
    refused = sue.get("/admin/orders/team/", {"store": team["b"].pk})
    assert refused.status_code == 400 and "Choose one of your stores." in refused.content.decode()
    bea = client_of(team["bea"]).get("/admin/orders/team/").content.decode()
    assert set(re.findall(r'<tr data-person="(\w+)"', bea)) == {"otto", "bea", "max"}


def test_the_team_page_reassigns_a_persons_open_orders_in_bulk_within_its_stores(team):
    maxs_main = [OrderFactory(status=Status.PAID, assignee=team["max"]) for _ in range(2)]
    maxs_b = OrderFactory(status=Status.PAID, assignee=team["max"], store=team["b"])
    finished = OrderFactory(status=Status.COMPLETED, assignee=team["max"])
    sue = client_of(team["sue"])
    moved = sue.post("/admin/orders/team/", {"source": team["max"].pk, "target": team["ana"].pk}, follow=True)
    assert "Moved 2 orders from max to Ana." in moved.content.decode()
    for order in maxs_main:
        order.refresh_from_db()
        assert order.assignee == team["ana"]
    for order in (maxs_b, finished):
        order.refresh_from_db()
        assert order.assignee == team["max"]
    assert OrderEvent.objects.filter(transition="assign_order", actor=team["sue"]).count() == 2
    # Nobody of another store, and no one who may not handle orders, is a target.
    assert (
        sue.post("/admin/orders/team/", {"source": team["ana"].pk, "target": team["fin"].pk}).status_code
        == 400
    )


# --- follow-ups ----------------------------------------------------------------------------------


def test_follow_ups_are_offered_only_to_people_who_may_work_them(team):
    """Before issue 23 the assignee list held every active staff member, Finance and Analysts too."""
    order = OrderFactory(status=Status.COMPLETED)
    say(order)
    feedback = record_feedback(order, by=None, rating=1)
    page = client_of(team["sue"]).get(f"/admin/orders/feedback/{feedback.pk}/change/").content.decode()
    select = re.search(r'<select name="assignee".*?</select>', page, re.S).group(0)
    offered = set(re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', select))
    assert {"Ana", "bob", "sue", "max"} <= offered
    assert not offered & {"fin", "ann", "otto", "bea"}
    with pytest.raises(Refused, match="cannot work follow-ups of store main"):
        assign_followup(feedback, by=team["sue"], assignee=team["fin"])
    with pytest.raises(Refused, match="cannot work follow-ups of store main"):
        assign_followup(feedback, by=team["sue"], assignee=team["otto"])
    assert assign_followup(feedback, by=team["sue"], assignee=team["ana"]).assignee == team["ana"]
    assert Feedback.objects.get(pk=feedback.pk).assignee == team["ana"]
