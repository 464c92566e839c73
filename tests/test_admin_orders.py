"""The order screens through Django's test client: lists, the order page, transition forms,
evidence, bulk actions, permissions per group and the no-delete rule."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from evidence import services
from evidence.models import Attachment, Communication
from orders import workflow
from orders.admin import OrderAdmin
from orders.models import CloseReason, Order, OrderEvent, Refund, RefundStatus, Status
from tests.factories import OrderFactory, RefundFactory, SupplierOrderFactory, UserFactory, staff

pytestmark = pytest.mark.django_db

PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
LIST = "/admin/orders/order/"


def page_of(order: Order) -> str:
    return f"/admin/orders/order/{order.pk}/change/"


def transition_of(order: Order, name: str) -> str:
    return f"/admin/orders/order/{order.pk}/transition/{name}/"


def messages_of(response) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def operator(client):
    user = staff("Operator")
    return user


@pytest.fixture
def supervisor():
    return staff("Supervisor")


def consent_recorded(order: Order, user) -> None:
    services.record_communication(
        order,
        by=user,
        counterparty="buyer",
        channel="aliexpress_message",
        direction="inbound",
        kind="consent",
        summary="Buyer agrees to cancel",
    )


def varied_orders(n: int) -> None:
    """Orders in every status that has a deadline, with supplier orders and refunds."""
    sup = staff("Supervisor", "seed-supervisor")
    for i in range(n):
        status = [Status.AWAITING_PAYMENT, Status.CANCEL_REQUESTED, Status.RETURN_RECEIVED, Status.CLOSED][
            i % 4
        ]
        extra = (
            {"close_reason": CloseReason.OUT_OF_STOCK, "closed_at": timezone.now()}
            if status == Status.CLOSED
            else {}
        )
        order = OrderFactory(status=status, **extra)
        SupplierOrderFactory(order=order)
        if status == Status.RETURN_RECEIVED:
            workflow.request_supplier_refund(
                order, by=sup, amount="50.00", reason="Defective", reference="R1"
            )


# --- the list ---------------------------------------------------------------------------------


def test_list_query_count_does_not_grow_with_the_page_size(client, supervisor, monkeypatch):
    # given: 40 orders in statuses with deadlines, supplier orders and pending supplier refunds
    varied_orders(40)
    client.force_login(supervisor)
    counts = {}
    # when: the list is shown 5 and 40 to a page
    for per_page in (5, 40):
        monkeypatch.setattr(OrderAdmin, "list_per_page", per_page)
        with CaptureQueriesContext(connection) as queries:
            response = client.get(LIST)
        assert response.status_code == 200
        counts[per_page] = len(queries)
    # then: the same number of queries, and every row is there
    assert counts[5] == counts[40], counts
    assert response.content.decode().count('class="status-badge') >= 40


def test_list_shows_badge_amount_and_next_deadline(client, supervisor):
    order = OrderFactory(status=Status.AWAITING_PAYMENT, total_amount=Decimal("12.50"), currency="EUR")
    client.force_login(supervisor)
    html = client.get(LIST).content.decode()
    assert f'class="status-badge status-awaiting_payment">{Status.AWAITING_PAYMENT.label}</span>' in html
    assert "12.50 EUR" in html
    assert "payment timeout" in html
    assert order.platform_order_id in html


def test_search_by_order_id_1688_id_and_tracking(client, supervisor):
    wanted = OrderFactory(status=Status.SHIPPED)
    other = OrderFactory(status=Status.SHIPPED)
    supplier_order = SupplierOrderFactory(order=wanted)
    SupplierOrderFactory(order=wanted)  # two supplier orders: still one row
    client.force_login(supervisor)
    for term in (wanted.platform_order_id, supplier_order.supplier_order_id, wanted.tracking_number):
        html = client.get(LIST, {"q": term}).content.decode()
        assert html.count(f"/admin/orders/order/{wanted.pk}/change/") == 1, term
        assert other.platform_order_id not in html, term


def test_filters_supplier_and_date_range(client, supervisor):
    old = OrderFactory(placed_at=timezone.now() - timedelta(days=40))
    new = OrderFactory()
    SupplierOrderFactory(order=new, supplier_name="Guangzhou Bright Cases")
    client.force_login(supervisor)
    html = client.get(LIST, {"supplier": "bright"}).content.decode()
    assert new.platform_order_id in html and old.platform_order_id not in html
    since = (timezone.localdate() - timedelta(days=10)).isoformat()
    html = client.get(LIST, {"placed_from": since}).content.decode()
    assert new.platform_order_id in html and old.platform_order_id not in html
    response = client.get(LIST, {"placed_from": "31/12/2025"})
    assert any("is not a date" in m for m in messages_of(response))


# --- the order page ---------------------------------------------------------------------------


def test_order_page_query_count_is_fixed_whatever_the_timeline(client, supervisor):
    short = OrderFactory(status=Status.PAID)
    long = OrderFactory(status=Status.PAID)
    for i in range(15):
        services.record_communication(
            long,
            by=supervisor,
            counterparty="buyer",
            channel="email",
            direction="inbound",
            summary=f"m{i}",
            body="<script>alert(1)</script>\nsecond line",
        )
        services.attach_file(long, by=supervisor, file=SimpleUploadedFile(f"s{i}.png", PNG))
    client.force_login(supervisor)
    client.get(page_of(short))  # warm the permission cache paths
    counts = []
    for order in (short, long):
        with CaptureQueriesContext(connection) as queries:
            response = client.get(page_of(order))
        assert response.status_code == 200
        counts.append(len(queries))
    assert counts[0] == counts[1], counts
    html = response.content.decode()
    assert html.count('class="timeline-entry') == 30
    # what a buyer wrote is shown as text, never as markup
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html and "<script>alert(1)" not in html


def test_order_page_buttons_are_this_users_transitions_now(client, operator, supervisor):
    order = OrderFactory(status=Status.REFUND_PENDING)
    client.force_login(operator)
    html = client.get(page_of(order)).content.decode()
    assert 'data-transition="confirm_refund"' not in html
    assert 'data-transition="escalate_to_support"' not in html
    client.force_login(supervisor)
    html = client.get(page_of(order)).content.decode()
    assert 'data-transition="confirm_refund"' in html
    assert 'data-transition="escalate_to_support"' in html
    assert 'data-transition="mark_paid"' not in html  # not possible from this status


def test_status_is_read_only_even_for_a_supervisor(client, supervisor):
    order = OrderFactory(status=Status.PAID)
    client.force_login(supervisor)
    response = client.get(page_of(order))
    assert b'name="status"' not in response.content
    response = client.post(
        page_of(order), {"status": "closed", "notes": "hand edit", "buyer_email": "a@b.example"}
    )
    order.refresh_from_db()
    assert order.status == Status.PAID


# --- transition forms -------------------------------------------------------------------------


def test_crafted_post_to_a_supervisor_transition_is_403_and_changes_nothing(client, operator):
    order = OrderFactory(status=Status.REFUND_PENDING)
    client.force_login(operator)
    response = client.post(transition_of(order, "confirm_refund"), {"reference": "RF-1"})
    assert response.status_code == 403
    order.refresh_from_db()
    assert order.status == Status.REFUND_PENDING
    assert not OrderEvent.objects.filter(order=order).exists()


def test_unknown_transition_is_404(client, supervisor):
    order = OrderFactory()
    client.force_login(supervisor)
    assert client.get(transition_of(order, "teleport")).status_code == 404


def test_a_transition_no_longer_possible_gets_the_clear_message(client, operator):
    order = OrderFactory(status=Status.AWAITING_PAYMENT)
    client.force_login(operator)
    assert client.get(transition_of(order, "close_unpaid")).status_code == 200
    workflow.mark_paid(order, by=None)  # someone else moves it meanwhile
    response = client.post(
        transition_of(order, "close_unpaid"), {"reason": "buyer_cancelled", "seen_status": "awaiting_payment"}
    )
    assert response.status_code == 302 and response["Location"] == page_of(order)
    assert any("has changed" in m and "Paid, not shipped" in m for m in messages_of(response))
    order.refresh_from_db()
    assert order.status == Status.PAID


def test_opening_a_step_the_order_is_not_ready_for_says_why_instead_of_showing_its_form(client, operator):
    # given: a shipped order, and a stale link to "Mark paid"
    order = OrderFactory(status=Status.SHIPPED)
    client.force_login(operator)
    # when
    response = client.get(transition_of(order, "mark_paid"))
    # then: back on the order page with the workflow's own reason, nothing written
    assert response.status_code == 302 and response["Location"] == page_of(order)
    assert messages_of(response) == [
        f"“Mark paid” is not possible: order {order} is “Shipped”; it must be “Awaiting payment”."
    ]
    assert not OrderEvent.objects.filter(order=order).exists()


def test_the_supplier_approval_form_offers_the_amount_last_asked_of_the_supplier(client, supervisor):
    # given: an order awaiting the supplier, asked twice (the later request is the one pending)
    order = OrderFactory(status=Status.SUPPLIER_REFUND_PENDING)
    SupplierOrderFactory(order=order, amount=Decimal("300.00"))
    now = timezone.now()
    RefundFactory(order=order, supplier=True, amount=Decimal("120.00"), requested_at=now - timedelta(days=2))
    RefundFactory(order=order, supplier=True, amount=Decimal("80.50"), requested_at=now)
    client.force_login(supervisor)
    # when
    form = client.get(transition_of(order, "record_supplier_approval")).context["form"]
    # then
    assert form["amount"].value() == Decimal("80.50")


def test_form_defaults_refund_amount_and_supplier_deadline(client, operator, supervisor):
    order = OrderFactory(status=Status.CANCEL_REQUESTED, total_amount=Decimal("80.00"))
    client.force_login(operator)
    html = client.get(transition_of(order, "record_buyer_consent")).content.decode()
    assert 'name="amount" value="80.00"' in html
    for reason in CloseReason.values:
        assert f'value="{reason}"' in html
    returned = OrderFactory(status=Status.RETURN_RECEIVED)
    SupplierOrderFactory(order=returned, amount=Decimal("300.00"))
    client.force_login(supervisor)
    response = client.get(transition_of(returned, "request_supplier_refund"))
    form = response.context["form"]
    assert form["amount"].value() == Decimal("300.00")
    due = timezone.make_aware(form["respond_by"].value())  # shown in the operator's time zone
    assert abs(due - (timezone.now() + timedelta(days=3))) < timedelta(minutes=1)
    # no return recorded (an imported order): nothing in our stock, so money only for both units
    assert (form["kind"].value(), form["units"].value()) == ("refund", 2)
    assert set(form.fields) == {"amount", "reason", "reference", "respond_by", "kind", "units", "note"}


def test_refused_transition_shows_the_workflows_message_on_the_form(client, operator):
    order = OrderFactory(status=Status.CANCEL_REQUESTED)
    client.force_login(operator)
    response = client.post(transition_of(order, "record_buyer_consent"), {"reason": "buyer_cancelled"})
    assert response.status_code == 200
    assert "Record the buyer&#x27;s consent before closing a paid order." in response.content.decode()
    unpaid = OrderFactory()
    response = client.post(transition_of(unpaid, "close_unpaid"), {"reason": "other", "note": ""})
    assert response.context["form"].errors["note"] == [
        "Explain in the note why the order closes for “Other”."
    ]
    for o in (order, unpaid):
        o.refresh_from_db()
    assert (order.status, unpaid.status) == (Status.CANCEL_REQUESTED, Status.AWAITING_PAYMENT)


def test_successful_transition_redirects_with_a_message(client, operator):
    order = OrderFactory(status=Status.CANCEL_REQUESTED)
    consent_recorded(order, operator)
    client.force_login(operator)
    response = client.post(
        transition_of(order, "record_buyer_consent"), {"reason": "out_of_stock", "amount": "60.00"}
    )
    assert response.status_code == 302 and response["Location"] == page_of(order)
    assert any("Buyer agrees to cancel" in m and "Refund in progress" in m for m in messages_of(response))
    refund = Refund.objects.get(order=order)
    assert (refund.amount, refund.status) == (Decimal("60.00"), RefundStatus.REQUESTED)


def test_timeline_names_the_inputs_and_shows_times_in_the_readers_zone(client, operator, settings):
    # given: an order marked paid at a known instant (stored as UTC in the event's inputs)
    settings.TIME_ZONE = "Asia/Shanghai"
    order = OrderFactory(status=Status.AWAITING_PAYMENT)
    paid = timezone.now().replace(hour=1, minute=30, second=0, microsecond=0) - timedelta(days=1)
    workflow.mark_paid(order, by=operator, paid_at=paid)
    client.force_login(operator)

    # when
    html = client.get(page_of(order)).content.decode()

    # then: the input has its label and the time is local (UTC+8: 09:30), not an ISO string
    assert "Paid at" in html
    assert f"{timezone.localtime(paid):%Y-%m-%d} 09:30" in html
    assert paid.isoformat()[:16] not in html


# --- evidence ---------------------------------------------------------------------------------


def test_evidence_with_files_then_on_to_the_transition(client, operator):
    order = OrderFactory(status=Status.CANCEL_REQUESTED)
    client.force_login(operator)
    url = f"/admin/orders/order/{order.pk}/evidence/?next_transition=record_buyer_consent"
    form = client.get(url).context["form"]
    assert form["kind"].value() == "consent" and form["counterparty"].value() == "buyer"
    response = client.post(
        url,
        {
            "counterparty": "buyer",
            "channel": "aliexpress_message",
            "direction": "inbound",
            "kind": "consent",
            "summary": "Buyer agrees",
            "body": "OK, cancel it",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "files": [SimpleUploadedFile("a.png", PNG), SimpleUploadedFile("b.txt", b"chat log")],
        },
    )
    assert response.status_code == 302
    assert response["Location"] == transition_of(order, "record_buyer_consent")
    communication = Communication.objects.get(order=order)
    assert communication.kind == "consent"
    assert sorted(a.original_name for a in Attachment.objects.filter(communication=communication)) == [
        "a.png",
        "b.txt",
    ]


def test_a_communication_without_files_is_confirmed_without_an_attachment_count(client, operator):
    # given
    order = OrderFactory(status=Status.PAID)
    client.force_login(operator)
    # when: a message is recorded with no file
    response = client.post(
        f"/admin/orders/order/{order.pk}/evidence/",
        {
            "counterparty": "buyer",
            "channel": "aliexpress_message",
            "direction": "outbound",
            "kind": "message",
            "summary": "Asked the buyer to cancel",
            "body": "Could you cancel the order?",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        },
    )
    # then: the confirmation does not speak of "0 attachments"
    assert response.status_code == 302
    assert messages_of(response) == ["Recorded “Asked the buyer to cancel”."]


def test_a_refused_file_records_nothing(client, operator):
    order = OrderFactory(status=Status.PAID)
    client.force_login(operator)
    response = client.post(
        f"/admin/orders/order/{order.pk}/evidence/",
        {
            "counterparty": "buyer",
            "channel": "email",
            "direction": "inbound",
            "kind": "message",
            "summary": "Screens",
            "occurred_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "files": [
                SimpleUploadedFile("ok.png", PNG),
                SimpleUploadedFile("evil.png", b"MZ\x90\x00program"),
            ],
        },
    )
    assert response.status_code == 200
    assert "“evil.png” was refused: it is a program." in response.context["form"].errors["files"][0]
    assert not Communication.objects.filter(order=order).exists()
    assert not Attachment.objects.filter(order=order).exists()


def test_attachment_download_only_for_staff_who_may_view(client, operator):
    order = OrderFactory()
    attachment = services.attach_file(order, by=operator, file=SimpleUploadedFile("proof.png", PNG))
    url = f"/admin/evidence/attachment/{attachment.pk}/download/"
    assert client.get(url).status_code == 302  # to the login page
    client.force_login(UserFactory(username="nobody-staff"))
    assert client.get(url).status_code == 403
    client.force_login(operator)
    response = client.get(url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Disposition"].startswith('attachment; filename="proof.png"')
    assert not attachment.file.url.startswith("/admin/")  # never served: no public media URL route
    assert client.get("/" + attachment.file.name).status_code == 404


# --- bulk actions -----------------------------------------------------------------------------


def test_bulk_close_asks_for_a_reason_then_reports_each_order(client, supervisor):
    unpaid = OrderFactory.create_batch(3)
    paid = OrderFactory(status=Status.PAID)
    ids = [str(o.pk) for o in [*unpaid, paid]]
    client.force_login(supervisor)
    response = client.post(LIST, {"action": "close_unpaid", "_selected_action": ids})
    assert response.status_code == 200 and b'name="reason"' in response.content
    response = client.post(
        LIST, {"action": "close_unpaid", "_selected_action": ids, "apply": "1", "reason": "out_of_stock"}
    )
    assert response.status_code == 302
    reported = messages_of(response)
    assert any(m.startswith("Closed 3 orders") for m in reported), reported
    assert any(paid.platform_order_id in m and "was refused" in m for m in reported), reported
    assert Order.objects.filter(status=Status.CLOSED).count() == 3
    paid.refresh_from_db()
    assert paid.status == Status.PAID


def test_payment_reminder_action_reports_per_order(client, operator):
    fresh = OrderFactory()
    no_contact = OrderFactory(buyer_email="", buyer_phone="")
    client.force_login(operator)
    response = client.post(
        LIST, {"action": "send_payment_reminder", "_selected_action": [fresh.pk, no_contact.pk]}
    )
    reported = messages_of(response)
    assert any("Payment reminder sent for 1 order" in m for m in reported), reported
    assert any(no_contact.platform_order_id in m and "no buyer email or phone" in m for m in reported)
    fresh.refresh_from_db()
    assert fresh.payment_reminded_at is not None


def test_export_action_downloads_csv(client, operator):
    order = OrderFactory()
    client.force_login(operator)
    response = client.post(LIST, {"action": "export", "_selected_action": [order.pk]})
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    assert order.platform_order_id.encode() in body


# --- refunds, groups, no delete ---------------------------------------------------------------


def test_finance_marks_a_refund_received(client):
    finance = staff("Finance")
    refund = RefundFactory(succeeded=True)
    order = refund.order
    client.force_login(finance)
    # the refund succeeded just now: not yet "not arrived"; by direction and state it is listed
    html = client.get("/admin/orders/refund/", {"not_arrived": "yes"}).content.decode()
    assert f"/admin/orders/refund/{refund.pk}/change/" not in html
    html = client.get(
        "/admin/orders/refund/", {"direction": "to_buyer", "status": "succeeded"}
    ).content.decode()
    assert f"/admin/orders/refund/{refund.pk}/change/" in html
    assert 'value="mark_received"' in html
    response = client.post(
        "/admin/orders/refund/", {"action": "mark_received", "_selected_action": [refund.pk]}
    )
    assert response.status_code == 302
    refund.refresh_from_db()
    assert refund.status == RefundStatus.RECEIVED
    # Finance sees orders but gets no buttons and cannot record evidence
    html = client.get(page_of(order)).content.decode()
    assert "transition-button" not in html and "evidence-button" not in html
    assert client.get(transition_of(order, "confirm_refund")).status_code == 403
    assert client.get(f"/admin/orders/order/{order.pk}/evidence/").status_code == 403


def test_operator_has_no_mark_received_action(client, operator):
    client.force_login(operator)
    response = client.get("/admin/orders/refund/")
    assert response.status_code == 200
    assert response.context["action_form"] is None  # no action at all for an Operator on refunds
    assert b"mark_received" not in response.content


def test_analyst_reads_but_changes_nothing(client):
    analyst = staff("Analyst")
    order = OrderFactory()
    client.force_login(analyst)
    assert client.get(page_of(order)).status_code == 200
    assert "transition-button" not in client.get(page_of(order)).content.decode()
    assert (
        client.post(transition_of(order, "close_unpaid"), {"reason": "other", "note": "x"}).status_code == 403
    )
    actions = dict(client.get(LIST).context["action_form"].fields["action"].choices)
    assert set(actions) - {""} == {"export"}


@pytest.mark.parametrize(
    "url",
    [
        "/admin/orders/order/",
        "/admin/orders/refund/",
        "/admin/orders/orderevent/",
        "/admin/evidence/communication/",
        "/admin/evidence/attachment/",
    ],
)
def test_nobody_deletes_orders_refunds_history_or_evidence(client, url):
    root = UserFactory(username="root", is_superuser=True)
    client.force_login(root)
    response = client.get(url)
    assert response.status_code == 200
    actions = (
        dict(response.context["action_form"].fields["action"].choices)
        if response.context.get("action_form")
        else {}
    )
    assert "delete_selected" not in actions


def test_delete_pages_are_refused_even_to_a_superuser(client):
    order = OrderFactory(status=Status.PAID)
    services.record_communication(
        order, by=None, counterparty="buyer", channel="email", direction="inbound", summary="hello"
    )
    client.force_login(UserFactory(username="root", is_superuser=True))
    communication = Communication.objects.get(order=order)
    assert client.post(f"/admin/orders/order/{order.pk}/delete/", {"post": "yes"}).status_code == 403
    assert (
        client.post(f"/admin/evidence/communication/{communication.pk}/delete/", {"post": "yes"}).status_code
        == 403
    )
    assert (
        Order.objects.filter(pk=order.pk).exists()
        and Communication.objects.filter(pk=communication.pk).exists()
    )


@pytest.mark.postgres
def test_large_lists_are_counted_from_the_planners_estimate(monkeypatch):
    from orders.admin import paginator as order_admin

    OrderFactory.create_batch(30, status=Status.PAID)
    OrderFactory.create_batch(5, status=Status.SHIPPED)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE orders_order")
    monkeypatch.setattr(order_admin, "ESTIMATE_COUNT_ABOVE", 10)
    for queryset, expected in ((Order.objects.all(), 35), (Order.objects.filter(status=Status.PAID), 30)):
        with CaptureQueriesContext(connection) as queries:
            count = order_admin.EstimatedCountPaginator(queryset, 10).count
        assert not any("COUNT(" in q["sql"] for q in queries.captured_queries)
        assert abs(count - expected) <= 3, (count, expected)
    # a small result is counted exactly
    with CaptureQueriesContext(connection) as queries:
        count = order_admin.EstimatedCountPaginator(Order.objects.filter(status=Status.SHIPPED), 10).count
    assert count == 5 and any("COUNT(" in q["sql"] for q in queries.captured_queries)


@pytest.mark.postgres
def test_a_list_filter_that_can_match_nothing_counts_zero_instead_of_failing():
    from orders.admin import paginator as order_admin

    # given: a filter Django knows matches nothing, so it never becomes SQL
    OrderFactory(status=Status.PAID)
    # when / then: no EmptyResultSet from the estimate, and an honest 0
    assert order_admin.estimated_rows(Order.objects.filter(status__in=[])) == 0
    assert order_admin.EstimatedCountPaginator(Order.objects.filter(status__in=[]), 10).count == 0
