"""Stock: closes and returns move it, staff adjust it through movements, nobody edits the figure."""

import pytest

from evidence import services as evidence
from orders import workflow
from orders.models import MovementReason, Sku, Status, StockMovement
from orders.workflow.stock import save_sku
from shopops.errors import NotPermitted, Refused
from tests.factories import OrderFactory, SkuFactory, staff

pytestmark = pytest.mark.django_db


@pytest.fixture
def sku() -> Sku:
    sku = SkuFactory(code="CASE-RED")
    workflow.adjust_stock(sku, by=None, delta=5, reason=MovementReason.RESTOCK, note="1688 order 3001")
    return sku


def buyer_says(order, by, kind="message"):
    evidence.record_communication(
        order,
        by=by,
        counterparty="buyer",
        channel="aliexpress_message",
        direction="inbound",
        kind=kind,
        summary="ok",
    )


def test_out_of_stock_close_marks_the_sku_and_writes_a_movement(sku):
    operator = staff("Operator")
    order = OrderFactory(status=Status.AWAITING_PAYMENT, sku=sku)
    # when
    workflow.close_unpaid(order, by=operator, reason="out_of_stock")
    # then
    sku.refresh_from_db()
    assert (sku.stock_on_hand, sku.out_of_stock) == (0, True)
    movement = sku.movements.first()
    assert (movement.delta, movement.reason, movement.order, movement.actor, movement.stock_after) == (
        -5,
        MovementReason.OUT_OF_STOCK,
        order,
        operator,
        0,
    )


def test_out_of_stock_asks_for_the_real_count_and_sets_it(client, sku):
    # given: the SKU says 5; an unpaid order of it cannot be served, but 2 units are on the shelf
    operator = staff("Operator")
    order = OrderFactory(status=Status.AWAITING_PAYMENT, sku=sku)
    client.force_login(operator)
    step = f"/admin/orders/order/{order.pk}/transition/close_unpaid/"

    # when: the close form is opened, it asks for the count, 0 by default
    form = client.get(step).content.decode()
    assert 'name="stock_count"' in form and 'value="0"' in form and "Units really in stock" in form

    # when: a count that is not a whole number of 0 or more is sent
    for wrong in ("-1", "two", "1.5"):
        refused = client.post(
            step, {"reason": "out_of_stock", "stock_count": wrong, "seen_status": order.status}
        )
        # then: a clear error, and nothing changed
        assert "Give the units really in stock as a whole number, 0 or more." in refused.content.decode(), (
            wrong
        )
    order.refresh_from_db()
    assert order.status == Status.AWAITING_PAYMENT and sku.movements.count() == 1

    # when: the real count is given
    client.post(step, {"reason": "out_of_stock", "stock_count": "2", "seen_status": order.status})

    # then: the SKU holds that count (not 0), through one movement, and stays sellable
    sku.refresh_from_db()
    assert (sku.stock_on_hand, sku.out_of_stock) == (2, False)
    movement = sku.movements.first()
    assert (movement.delta, movement.reason, movement.stock_after) == (-3, MovementReason.OUT_OF_STOCK, 2)
    assert order.events.get(transition="close_unpaid").data["stock_count"] == 2
    # and the workflow refuses a bad count by name
    other = OrderFactory(status=Status.AWAITING_PAYMENT, sku=sku)
    with pytest.raises(Refused, match="must be at least 0"):
        workflow.close_unpaid(other, by=operator, reason="out_of_stock", stock_count=-4)


def test_resellable_return_goes_back_into_stock(sku):
    operator = staff("Operator")
    order = OrderFactory(status=Status.SHIPPED, sku=sku, quantity=2)
    buyer_says(order, operator)
    workflow.propose_return(order, by=operator)
    buyer_says(order, operator, kind="consent")
    workflow.record_return_agreement(order, by=operator, reason="quality_issue")
    # when
    workflow.receive_return(order, by=operator, quantity=2, condition="resellable")
    # then
    sku.refresh_from_db()
    assert sku.stock_on_hand == 7
    movement = sku.movements.first()
    assert (movement.delta, movement.reason, movement.order_id, movement.stock_after) == (
        2,
        MovementReason.RETURN_RESELLABLE,
        order.pk,
        7,
    )


def test_damaged_return_leaves_stock_alone(sku):
    operator = staff("Operator")
    order = OrderFactory(status=Status.SHIPPED, sku=sku, quantity=1)
    buyer_says(order, operator)
    workflow.propose_return(order, by=operator)
    buyer_says(order, operator, kind="consent")
    workflow.record_return_agreement(order, by=operator, reason="quality_issue")
    workflow.receive_return(order, by=operator, quantity=1, condition="damaged")
    sku.refresh_from_db()
    assert sku.stock_on_hand == 5 and sku.movements.count() == 1


def test_adjustments_follow_the_rules(sku):
    supervisor = staff("Supervisor")
    with pytest.raises(NotPermitted):
        workflow.adjust_stock(sku, by=staff("Operator"), delta=1, reason="adjustment", note="count")
    with pytest.raises(Refused, match="less than nothing"):
        workflow.adjust_stock(sku, by=supervisor, delta=-6, reason="adjustment", note="count")
    with pytest.raises(Refused, match="positive"):
        workflow.adjust_stock(sku, by=supervisor, delta=-1, reason="restock", note="x")
    with pytest.raises(Refused, match="note"):
        workflow.adjust_stock(sku, by=supervisor, delta=1, reason="adjustment", note=" ")
    with pytest.raises(Refused, match="0 changes nothing"):
        workflow.adjust_stock(sku, by=supervisor, delta=0, reason="adjustment", note="x")
    with pytest.raises(Refused, match="Choose why"):
        workflow.adjust_stock(sku, by=supervisor, delta=1, reason="out_of_stock", note="x")
    sku.refresh_from_db()
    assert sku.stock_on_hand == 5 and sku.movements.count() == 1


def test_restock_clears_the_out_of_stock_flag(sku):
    workflow.close_unpaid(OrderFactory(sku=sku), by=None, reason="out_of_stock")
    workflow.adjust_stock(sku, by=staff("Supervisor"), delta=10, reason="restock", note="1688 order 3002")
    sku.refresh_from_db()
    assert (sku.stock_on_hand, sku.out_of_stock) == (10, False)


# --- admin ------------------------------------------------------------------------------------


def test_the_stock_figure_cannot_be_edited_in_the_admin(client, sku):
    client.force_login(staff("Supervisor"))
    url = f"/admin/orders/sku/{sku.pk}/change/"
    page = client.get(url)
    assert "stock_on_hand" not in page.context["adminform"].form.fields
    assert 'name="stock_on_hand"' not in page.content.decode()
    # when: a hand-made POST carries the figure anyway
    response = client.post(
        url,
        {
            "code": sku.code,
            "title": "Renamed",
            "stock_on_hand": "999",
            "out_of_stock": "on",
            "movements-TOTAL_FORMS": "0",
            "movements-INITIAL_FORMS": "0",
        },
    )
    # then: the title changed, the stock did not
    assert response.status_code == 302, response.content.decode()[:3000]
    sku.refresh_from_db()
    assert (sku.title, sku.stock_on_hand, sku.out_of_stock) == ("Renamed", 5, False)
    assert sku.movements.count() == 1


def test_adjust_stock_through_the_admin(client, sku):
    client.force_login(staff("Supervisor"))
    url = f"/admin/orders/sku/{sku.pk}/adjust/"
    response = client.post(url, {"delta": "-9", "reason": "adjustment", "note": "count"})
    assert response.status_code == 400
    assert "removing 9 would leave less than nothing" in response.content.decode()
    response = client.post(
        url, {"delta": "-2", "reason": "adjustment", "note": "Two found broken"}, follow=True
    )
    assert "Stock of CASE-RED is now 3." in response.content.decode()
    sku.refresh_from_db()
    assert sku.stock_on_hand == 3
    # the movement shows on the SKU page, read-only
    page = client.get(f"/admin/orders/sku/{sku.pk}/change/").content.decode()
    assert "Two found broken" in page
    assert 'name="movements-0-delta"' not in page


def test_operators_cannot_adjust_stock(client, sku):
    client.force_login(staff("Operator"))
    response = client.post(
        f"/admin/orders/sku/{sku.pk}/adjust/", {"delta": "3", "reason": "restock", "note": "x"}
    )
    assert response.status_code == 403
    sku.refresh_from_db()
    assert sku.stock_on_hand == 5


def test_movements_are_read_only_in_the_admin(client, sku):
    client.force_login(staff("Supervisor"))
    movement = StockMovement.objects.get()
    assert client.get("/admin/orders/stockmovement/").status_code == 200
    assert client.get("/admin/orders/stockmovement/add/").status_code == 403
    assert (
        client.post(f"/admin/orders/stockmovement/{movement.pk}/delete/", {"post": "yes"}).status_code == 403
    )
    response = client.post(f"/admin/orders/stockmovement/{movement.pk}/change/", {"delta": "100"})
    assert response.status_code == 403
    assert StockMovement.objects.get().delta == 5


def test_report_of_skus_with_repeated_out_of_stock_closes(client):
    twice, once = SkuFactory(code="TWICE"), SkuFactory(code="ONCE")
    for target in (twice, twice, once):
        workflow.close_unpaid(OrderFactory(sku=target), by=None, reason="out_of_stock")
    client.force_login(staff("Analyst"))
    response = client.get("/admin/orders/sku/", {"repeated_oos": "yes"})
    listed = [(s.code, s.oos_closes) for s in response.context["cl"].result_list]
    assert listed == [("TWICE", 2)]


# --- the SKU's code and title -------------------------------------------------------------------


def test_save_sku_writes_code_and_title_never_the_stock(sku):
    supervisor = staff("Supervisor")
    added = save_sku(None, by=supervisor, code=" CASE-BLUE ", title="Blue case")
    assert (added.code, added.title, added.stock_on_hand, added.out_of_stock) == (
        "CASE-BLUE",
        "Blue case",
        0,
        False,
    )
    sku.stock_on_hand = 999  # a stale or tampered instance: its figure is not written
    changed = save_sku(sku, by=supervisor, code="CASE-RED-2", title="Red case")
    sku.refresh_from_db()
    assert (changed.pk, sku.code, sku.title, sku.stock_on_hand) == (sku.pk, "CASE-RED-2", "Red case", 5)


def test_save_sku_follows_the_rules(sku):
    supervisor = staff("Supervisor")
    title = sku.title
    with pytest.raises(NotPermitted):
        save_sku(None, by=staff("Operator"), code="NEW", title="")
    with pytest.raises(NotPermitted):
        save_sku(sku, by=staff("Analyst"), code="CASE-RED", title="x")
    with pytest.raises(Refused, match="Another SKU has the code CASE-RED"):
        save_sku(None, by=supervisor, code="CASE-RED", title="")
    with pytest.raises(Refused, match="required"):
        save_sku(sku, by=supervisor, code="  ", title="")
    with pytest.raises(Refused, match="one line"):
        save_sku(sku, by=supervisor, code="A\nB", title="")
    with pytest.raises(Refused, match="does not exist"):
        save_sku(10**9, by=supervisor, code="X", title="")
    sku.refresh_from_db()
    assert (Sku.objects.count(), sku.code, sku.title) == (1, "CASE-RED", title)


def test_a_sku_added_in_the_admin_goes_through_the_workflow(client, monkeypatch):
    client.force_login(staff("Supervisor"))
    calls = []
    monkeypatch.setattr(
        "orders.admin.stock.stock.save_sku", lambda *a, **kw: calls.append(kw) or save_sku(*a, **kw)
    )
    response = client.post(
        "/admin/orders/sku/add/",
        {
            "code": "CASE-GREEN",
            "title": "Green",
            "movements-TOTAL_FORMS": "0",
            "movements-INITIAL_FORMS": "0",
        },
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    added = Sku.objects.get(code="CASE-GREEN")
    assert (added.title, added.stock_on_hand, calls[0]["code"]) == ("Green", 0, "CASE-GREEN")
    assert response.url == "/admin/orders/sku/"
