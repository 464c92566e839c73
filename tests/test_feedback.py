"""Buyer feedback: low ratings open a follow-up that is worked through the admin; CSV import."""

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.test import override_settings
from django.utils import timezone

from evidence.models import Communication
from orders.imports.feedback import import_feedback
from orders.models import Feedback, FeedbackEvent, FollowupStatus, Status
from orders.workflow import feedback as services
from shopops.appendonly import AppendOnlyError
from shopops.errors import NotPermitted, Refused
from tests.factories import OrderFactory, staff

pytestmark = pytest.mark.django_db

SHANGHAI = ZoneInfo("Asia/Shanghai")
CHANGELIST = "/admin/orders/feedback/"


@pytest.fixture
def order():
    return OrderFactory(status=Status.COMPLETED, platform_order_id="8100000000000777")


def test_one_star_opens_a_follow_up(order):
    fb = services.record_feedback(order, by=staff("Operator"), rating=1, comment="Broken on arrival")
    fb.refresh_from_db()
    assert fb.followup_status == FollowupStatus.NEW
    assert fb.followup_opened_at is not None


def test_five_stars_open_nothing(order):
    fb = services.record_feedback(order, by=None, rating=5)
    fb.refresh_from_db()
    assert fb.followup_status == FollowupStatus.NONE
    assert fb.followup_opened_at is None


@pytest.mark.parametrize(("rating", "opens"), [(2, True), (3, False)])
def test_the_threshold_is_inclusive(order, rating, opens):
    fb = services.record_feedback(order, by=None, rating=rating)
    assert (fb.followup_status == FollowupStatus.NEW) is opens


@override_settings(SHOPOPS_FEEDBACK_THRESHOLD=3)
def test_the_threshold_is_configurable(order):
    assert services.record_feedback(order, by=None, rating=3).followup_status == FollowupStatus.NEW


@pytest.mark.parametrize("rating", [0, 6, "five", ""])
def test_bad_ratings_are_refused_and_write_nothing(order, rating):
    with pytest.raises(Refused) as error:
        services.record_feedback(order, by=None, rating=rating)
    assert "1" in error.value.message and "5" in error.value.message
    assert not Feedback.objects.exists()


def test_recording_feedback_needs_the_permission(order):
    with pytest.raises(NotPermitted):
        services.record_feedback(order, by=staff("Finance"), rating=1)
    assert not Feedback.objects.exists()


def test_follow_up_cannot_skip_contacting_the_buyer(order):
    fb = services.record_feedback(order, by=None, rating=1)
    with pytest.raises(Refused, match="follow-up is “New”"):
        services.resolve_followup(fb, by=staff("Operator"), note="done")
    fb.refresh_from_db()
    assert fb.followup_status == FollowupStatus.NEW


def test_the_follow_up_history_is_event_rows_nobody_changes(order):
    # given: a follow-up opened, assigned and contacted
    fb = services.record_feedback(order, by=None, rating=1)
    operator = staff("Operator")
    fb = services.assign_followup(fb, by=staff("Supervisor"), assignee=operator)
    fb = services.contact_buyer(fb, by=operator, channel="email", summary="Asked for photos", note="By mail")

    # then: each step returned the updated follow-up and wrote one event
    assert (fb.followup_status, fb.assignee) == (FollowupStatus.CONTACTED, operator)
    assert list(fb.events.values_list("name", flat=True)) == ["opened", "assigned", "contacted"]
    history = services.followup_history(fb)
    assert "Assigned to operator." in history and "Buyer contacted: Asked for photos\nBy mail" in history
    # and the history cannot be edited or deleted
    event = fb.events.first()
    with pytest.raises(AppendOnlyError):
        FeedbackEvent.objects.filter(pk=event.pk).update(name="resolved")
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_old_text_notes_stay_readable_before_the_events(order):
    fb = services.record_feedback(order, by=None, rating=1)
    Feedback.objects.filter(pk=fb.pk).update(followup_notes="[2025-01-02 10:00 ana] Called the buyer")
    fb.refresh_from_db()

    history = services.followup_history(fb).splitlines()

    assert history[0] == "[2025-01-02 10:00 ana] Called the buyer"
    assert history[1].endswith("system] Follow-up opened for a 1-star rating.")


@pytest.mark.postgres
def test_raw_sql_cannot_change_the_follow_up_history(order):
    fb = services.record_feedback(order, by=None, rating=1)
    event = fb.events.get()
    for sql in (
        "UPDATE orders_feedbackevent SET name = 'x' WHERE id = %s",
        "DELETE FROM orders_feedbackevent WHERE id = %s",
    ):
        with (
            pytest.raises(DatabaseError, match=r"^orders_feedbackevent is append-only"),
            transaction.atomic(),
            connection.cursor() as cursor,
        ):
            cursor.execute(sql, [event.pk])
    assert FeedbackEvent.objects.get(pk=event.pk).name == "opened"


# --- through the admin -----------------------------------------------------------------------


def test_follow_up_worked_through_the_admin(client, order):
    operator = staff("Operator")
    client.force_login(operator)
    # given: a 1-star rating entered by hand
    response = client.post(
        "/admin/orders/feedback/add/",
        {
            "order": order.pk,
            "rating": "1",
            "comment": "Wrong colour",
            "received_at_0": "2026-03-01",
            "received_at_1": "10:00:00",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    fb = Feedback.objects.get()
    assert fb.followup_status == FollowupStatus.NEW
    # the queue lists it, with its age
    queue = client.get(CHANGELIST, {"followup": "open"}).content.decode()
    assert "8100000000000777" in queue and "open " in queue
    # the change page offers the next step only
    page = client.get(f"{CHANGELIST}{fb.pk}/change/").content.decode()
    assert "/followup/contact/" in page and "/followup/resolve/" not in page

    # when: the operator records contacting the buyer
    response = client.post(
        f"{CHANGELIST}{fb.pk}/followup/contact/",
        {"channel": "aliexpress_message", "summary": "Offered a partial refund", "body": "Dear buyer…"},
    )
    assert response.status_code == 302
    fb.refresh_from_db()
    assert fb.followup_status == FollowupStatus.CONTACTED
    assert fb.assignee == operator
    message = Communication.objects.get(order=order)
    assert (message.counterparty, message.direction, message.summary) == (
        "buyer",
        "outbound",
        "Offered a partial refund",
    )
    assert message.recorded_by == operator

    # resolving needs a note
    response = client.post(f"{CHANGELIST}{fb.pk}/followup/resolve/", {"note": ""})
    assert response.status_code == 400
    fb.refresh_from_db()
    assert fb.followup_status == FollowupStatus.CONTACTED

    response = client.post(
        f"{CHANGELIST}{fb.pk}/followup/resolve/", {"note": "Buyer accepted, rating updated"}
    )
    assert response.status_code == 302
    fb.refresh_from_db()
    assert fb.followup_status == FollowupStatus.RESOLVED
    assert fb.followup_closed_at is not None
    history = services.followup_history(fb)
    assert "Buyer accepted, rating updated" in history
    assert "Offered a partial refund" in history
    # the history is event rows, shown on the feedback's page
    events = FeedbackEvent.objects.filter(feedback=fb).order_by("pk")
    assert [(e.name, e.actor) for e in events] == [
        ("opened", operator),
        ("contacted", operator),
        ("resolved", operator),
    ]
    page = client.get(f"{CHANGELIST}{fb.pk}/change/").content.decode()
    assert "Buyer accepted, rating updated" in page and "Offered a partial refund" in page
    # no longer in the queue
    assert list(client.get(CHANGELIST, {"followup": "open"}).context["cl"].result_list) == []
    # a finished follow-up cannot be moved again
    response = client.post(f"{CHANGELIST}{fb.pk}/followup/unresolved/", {"note": "oops"})
    assert response.status_code == 400
    assert "follow-up is “Resolved”" in response.content.decode()


def test_contacting_a_buyer_offers_the_buyers_channels_and_says_stars_in_words(client, order):
    # given: a 1-star rating waiting for its follow-up
    fb = services.record_feedback(order, by=None, rating=1, comment="Broken")
    client.force_login(staff("Operator"))

    # when: the operator opens "contact the buyer"
    page = client.get(f"{CHANGELIST}{fb.pk}/followup/contact/").content.decode()

    # then: one star is "1 star", and a buyer is not offered the supplier's 1688 Wangwang
    assert "1 star." in page and "star(s)" not in page
    assert 'value="aliexpress_message"' in page and 'value="1688_wangwang"' not in page

    # when: Wangwang is posted anyway
    response = client.post(
        f"{CHANGELIST}{fb.pk}/followup/contact/", {"channel": "1688_wangwang", "summary": "Asked"}
    )

    # then: refused, nothing recorded
    assert response.status_code == 400 and not Communication.objects.filter(order=order).exists()
    fb.refresh_from_db()
    assert fb.followup_status == FollowupStatus.NEW
    # and two stars are "2 stars"
    two = services.record_feedback(OrderFactory(status=Status.COMPLETED), by=None, rating=2)
    assert "2 stars." in client.get(f"{CHANGELIST}{two.pk}/followup/contact/").content.decode()


def test_unresolved_path_and_reassignment_through_the_admin(client, order):
    supervisor = staff("Supervisor")
    colleague = staff("Operator", username="colleague")
    fb = services.record_feedback(order, by=None, rating=2)
    client.force_login(supervisor)
    response = client.post(f"{CHANGELIST}{fb.pk}/change/", {"assignee": colleague.pk})
    assert response.status_code == 302
    fb.refresh_from_db()
    assert fb.assignee == colleague and "Assigned to colleague" in services.followup_history(fb)
    client.post(f"{CHANGELIST}{fb.pk}/followup/contact/", {"channel": "email", "summary": "Asked for photos"})
    response = client.post(f"{CHANGELIST}{fb.pk}/followup/unresolved/", {"note": "Buyer never answered"})
    assert response.status_code == 302
    fb.refresh_from_db()
    assert fb.followup_status == FollowupStatus.UNRESOLVED
    assert fb.assignee == colleague  # contacting did not take it away from the assignee


def test_an_analyst_reads_but_cannot_work_follow_ups(client, order):
    fb = services.record_feedback(order, by=None, rating=1)
    client.force_login(staff("Analyst"))
    assert client.get(CHANGELIST, {"followup": "open"}).status_code == 200
    response = client.post(f"{CHANGELIST}{fb.pk}/followup/contact/", {"channel": "email", "summary": "x"})
    assert response.status_code == 403
    fb.refresh_from_db()
    assert fb.followup_status == FollowupStatus.NEW
    assert not Communication.objects.exists()


def test_the_queue_lists_oldest_open_first(client):
    old, new = OrderFactory(platform_order_id="OLD-1"), OrderFactory(platform_order_id="NEW-1")
    services.record_feedback(new, by=None, rating=1)
    older = services.record_feedback(old, by=None, rating=2)
    Feedback.objects.filter(pk=older.pk).update(followup_opened_at=timezone.now() - timedelta(days=3))
    services.record_feedback(OrderFactory(platform_order_id="HAPPY-1"), by=None, rating=5)
    client.force_login(staff("Operator"))
    page = client.get(CHANGELIST, {"followup": "open"}).content.decode()
    assert "HAPPY-1" not in page
    assert page.index("OLD-1") < page.index("NEW-1")
    assert "open 3\xa0days" in page


# --- CSV import ------------------------------------------------------------------------------


def csv_bytes(text: str, encoding: str = "utf-8") -> bytes:
    return text.encode(encoding)


def test_import_english_headers_opens_follow_ups_and_is_idempotent(order):
    data = csv_bytes(
        "order_id,rating,comment,date\n"
        "8100000000000777,1,Arrived broken,2026-03-01 10:00\n"
        "8100000000000777,5,Seller fixed it,2026-03-05\n"
    )
    result = import_feedback(data, by=staff("Supervisor"))
    assert result.ok and (result.created, result.followups_opened) == (2, 1)
    rows = list(
        Feedback.objects.order_by("received_at").values_list("rating", "received_at", "followup_status")
    )
    assert rows == [
        (1, datetime(2026, 3, 1, 10, 0, tzinfo=SHANGHAI), FollowupStatus.NEW),
        (5, datetime(2026, 3, 5, 0, 0, tzinfo=SHANGHAI), FollowupStatus.NONE),
    ]
    again = import_feedback(data, by=None)
    assert again.ok and (again.created, again.already_imported) == (0, 2)
    assert Feedback.objects.count() == 2


def test_an_operator_records_ratings_one_at_a_time_but_cannot_bulk_import_them(order):
    data = csv_bytes("order_id,rating,comment,date\n8100000000000777,1,Arrived broken,2026-03-01 10:00\n")
    with pytest.raises(NotPermitted) as refused:
        import_feedback(data, by=staff("Operator"))
    assert "import feedback" in str(refused.value)
    assert Feedback.objects.count() == 0


def test_import_chinese_headers_in_gbk(order):
    data = csv_bytes("订单号,评分,评价内容,评价时间\n8100000000000777,2,颜色不对,2026/03/02 08:30\n", "gbk")
    result = import_feedback(data, by=None)
    assert result.ok and result.created == 1
    fb = Feedback.objects.get()
    assert (fb.comment, fb.followup_status) == ("颜色不对", FollowupStatus.NEW)


def test_a_file_in_another_encoding_is_refused_with_how_to_save_it(order):
    data = "order_id,rating,comment,date\n8100000000000777,1,bad,2026-03-01\n".encode("utf-16")
    result = import_feedback(data, by=None)
    assert not result.ok
    assert "CSV UTF-8" in result.errors[0].message
    assert Feedback.objects.count() == 0


def test_a_file_with_bad_rows_imports_nothing_and_names_each(order):
    data = csv_bytes(
        "order_id,rating,comment,date\n"
        "8100000000000777,1,fine row,2026-03-01\n"
        "NOPE,1,unknown order,2026-03-01\n"
        "8100000000000777,9,bad rating,2026-03-01\n"
        "8100000000000777,2,bad date,yesterday\n"
        "8100000000000777,1,same as row 2,2026-03-01\n"
        f"8100000000000777,1,future,{(timezone.localdate() + timedelta(days=3)).isoformat()}\n"
    )
    result = import_feedback(data, by=None)
    assert not result.ok
    assert [(e.row, e.column) for e in result.errors] == [
        (3, "order_id"),
        (4, "rating"),
        (5, "date"),
        (6, "order_id"),
        (7, "date"),
    ]
    assert "no order NOPE" in str(result.errors[0])
    assert "same feedback as row 2" in str(result.errors[3])
    assert not Feedback.objects.exists()


def test_import_refuses_a_file_without_the_columns():
    result = import_feedback(csv_bytes("order,stars\n1,2\n"), by=None)
    assert [str(e) for e in result.errors] == ["Missing column(s): order_id, rating, date."]


def test_import_command(tmp_path, order, capsys):
    good = tmp_path / "feedback.csv"
    good.write_text(
        "order_id,rating,comment,date\n8100000000000777,1,broken,2026-03-01\n", encoding="utf-8-sig"
    )
    call_command("import_feedback", str(good), "--dry-run")
    assert not Feedback.objects.exists()
    call_command("import_feedback", str(good))
    assert Feedback.objects.get().followup_status == FollowupStatus.NEW
    bad = tmp_path / "bad.csv"
    bad.write_text("order_id,rating,comment,date\n8100000000000777,0,x,2026-03-02\n")
    with pytest.raises(CommandError, match="Nothing imported: 1 problem"):
        call_command("import_feedback", str(bad))
    assert "Row 2, rating" in capsys.readouterr().err


def test_import_through_the_admin(client, order):
    client.force_login(staff("Supervisor"))
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = SimpleUploadedFile("f.csv", b"order_id,rating,comment,date\nNOPE,1,x,2026-03-01\n", "text/csv")
    response = client.post("/admin/orders/feedback/import/", {"file": bad})
    assert response.status_code == 400
    assert "Row 2, order_id: no order NOPE in Shopops" in response.content.decode()
    good = SimpleUploadedFile(
        "f.csv", b"order_id,rating,comment,date\n8100000000000777,1,x,2026-03-01\n", "text/csv"
    )
    response = client.post("/admin/orders/feedback/import/", {"file": good}, follow=True)
    assert "Imported 1 feedback (1 follow-ups opened)" in response.content.decode()
    assert Feedback.objects.get().followup_status == FollowupStatus.NEW
