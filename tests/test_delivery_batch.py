"""Delivery in batches: one claim, one SMTP session, each message's own outcome, exactly once."""

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from orders import delivery, sms
from orders.models import Notification, NotificationStatus
from orders.workflow import outbox

from .factories import OrderFactory


def reminders(count: int) -> list[int]:
    ids = []
    with outbox.kept_from_delivery():
        for _ in range(count):
            ids += [n.pk for n in outbox.record_payment_reminder(OrderFactory())]
    return ids


@pytest.mark.django_db
def test_a_batch_is_sent_once_with_a_constant_number_of_queries(messages):
    # given: 10 buyers, each with an email and an SMS waiting
    ids = reminders(10)

    # when
    with CaptureQueriesContext(connection) as queries:
        results = delivery.deliver_many(ids)
    again = delivery.deliver_many(ids)

    # then: every message sent once, its words kept; a second run sends nothing
    assert {r.outcome for r in results.values()} == {"sent"}
    assert {r.outcome for r in again.values()} == {"skipped"}
    assert len(mail.outbox) == 10 and len(sms.outbox) == 10
    assert len(queries) <= 5  # give up on crashes, claim, keep the texts, mark sent (+ savepoint)
    assert not Notification.objects.exclude(status=NotificationStatus.SENT).exists()
    assert not Notification.objects.filter(body="").exists()


@pytest.mark.django_db
def test_in_a_batch_only_what_is_due_and_unclaimed_is_sent(messages):
    # given: one row held by another worker, one sent, one not yet due
    ids = reminders(3)
    held, done, later, *rest = ids
    Notification.objects.filter(pk=held).update(
        status=NotificationStatus.SENDING, claimed_until=timezone.now() + timezone.timedelta(minutes=4)
    )
    Notification.objects.filter(pk=done).update(status=NotificationStatus.SENT)
    Notification.objects.filter(pk=later).update(next_attempt_at=timezone.now() + timezone.timedelta(hours=1))

    # when
    results = delivery.deliver_many(ids)

    # then
    assert [results[pk].outcome for pk in (held, done, later)] == ["skipped"] * 3
    assert [results[pk].outcome for pk in rest] == ["sent"] * len(rest)
    assert len(mail.outbox) + len(sms.outbox) == len(rest)


@pytest.mark.django_db
def test_one_failing_message_does_not_stop_the_batch(messages, settings):
    # given: a batch whose first SMS goes to a provider that refuses the configuration
    ids = reminders(2)
    settings.SMS_URL = "nonsense:"

    # when
    results = delivery.deliver_many(ids)

    # then: the emails are sent; each SMS failed permanently, visible with its reason
    by_channel = {pk: Notification.objects.get(pk=pk) for pk in ids}
    for pk, note in by_channel.items():
        if note.channel == "sms":
            assert results[pk].outcome == "failed"
            assert note.status == NotificationStatus.FAILED and "SMS_URL" in note.last_error
        else:
            assert results[pk].outcome == "sent" and note.status == NotificationStatus.SENT
    assert len(mail.outbox) == 2


@pytest.mark.django_db
def test_enqueue_many_hands_off_one_message_per_batch(settings, monkeypatch):
    settings.SHOPOPS_NOTIFICATION_BATCH = 2
    published = []
    monkeypatch.setattr(outbox, "hand_off", lambda name, ids, **kw: published.append((name, ids)) or True)

    assert outbox.enqueue_many([5, 6, 7, 5]) is True

    assert published == [("orders.deliver_notifications", [5, 6]), ("orders.deliver_notifications", [7])]


@pytest.mark.django_db
def test_a_batch_out_of_claim_time_gives_its_rows_back_uncounted(messages, settings):
    # given: a claim so short that no send may start within it
    ids = reminders(2)
    settings.SHOPOPS_NOTIFICATION_CLAIM_SECONDS = 0

    # when
    results = delivery.deliver_many(ids)

    # then: nothing sent, every row pending again, due now, the attempt not counted
    assert {r.outcome for r in results.values()} == {"released"}
    assert mail.outbox == [] and sms.outbox == []
    rows = Notification.objects.filter(pk__in=ids)
    assert {(n.status, n.attempts) for n in rows} == {(NotificationStatus.PENDING, 0)}
    assert all(n.next_attempt_at <= timezone.now() for n in rows)
