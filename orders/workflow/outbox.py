"""The outbox: side effects recorded in the workflow's transaction, delivered after commit.

This module writes every ``Notification`` row change; ``orders.delivery`` sends the messages and
``orders.tasks`` runs delivery in Celery. Exactly once, as far as the recipient can tell:

1. **Recorded once.** A row is written in the same transaction as its cause, with a unique
   ``key`` per cause, channel and template (``refund:42:email:refund_confirmation``), so it
   exists if and only if the cause committed, and exists once.
2. **Never lost.** After commit it is handed to Celery by task name (:func:`enqueue`, which never
   raises: a broker outage costs the caller at most the connect timeout, and the hand-off's
   circuit breaker in ``shopops.celery`` spares the next callers even that). A row the broker
   never got, or whose worker died, stays ``pending`` / ``sending`` and the periodic relay
   (``orders.jobs.relay_notifications``) hands it over again.
3. **Sent by one worker at a time.** :func:`claim` takes the row with one conditional UPDATE
   (``pending`` and due, or ``sending`` with an expired claim → ``sending`` until now + claim
   time); only the caller whose UPDATE changed the row sends it.
4. **Not repeated after a crash.** A worker that dies after the provider accepted the message
   but before :func:`mark_sent` leaves a claim that expires, and the message is sent again with
   the same SMS ``Idempotency-Key`` / email Message-ID (both derived from the key).
5. **Never dropped silently.** A failure a retry can fix goes back to ``pending`` with a later
   ``next_attempt_at`` (:func:`schedule_retry`); others, and a message whose worker died on every
   attempt, end ``failed`` with ``last_error``; :func:`retry_failed` sends them again.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.db import connections, router, transaction
from django.db.models import F
from django.db.models.constants import OnConflict
from django.db.models.sql import InsertQuery
from django.utils import timezone
from django.utils.translation import gettext as _

from shopops import inputs, pgcopy
from shopops.celery import hand_off

from .. import policy
from ..buyer_messages.chat import order_facts
from ..buyer_messages.spec import buyer_language
from ..models import (
    Notification,
    NotificationChannel,
    NotificationStatus,
    NotificationTemplate,
    Order,
    Refund,
    Store,
    SupplierOrder,
)
from ..notifications import resolve_language

# The Celery task that delivers one notification (SPEC §10): handed over by name.
DELIVER_TASK = "orders.deliver_notification"
# The Celery task that delivers a batch of them (one broker message, one claim, one SMTP session).
DELIVER_BATCH_TASK = "orders.deliver_notifications"
# Off inside ``kept_from_delivery()``: rows recorded there are not handed to Celery on commit.
_HAND_OFF: ContextVar[bool] = ContextVar("shopops_outbox_hand_off", default=True)


@contextmanager
def kept_from_delivery() -> Iterator[None]:
    """Record outbox rows without handing them to Celery when the transaction commits.

    For messages of a made-up past (``seed_demo``), which the caller records as sent in the
    same transaction: nothing is left to deliver, so no task is queued for them.
    """
    token = _HAND_OFF.set(False)
    try:
        yield
    finally:
        _HAND_OFF.reset(token)


# --- recording ----------------------------------------------------------------------------------


def record(
    *,
    key: str,
    template: str,
    channel: str,
    recipient: str,
    order: Order | None = None,
    refund: Refund | None = None,
    language: str = "en",
    context: dict | None = None,
    subject: str = "",
    body: str = "",
    held: bool = False,
) -> Notification | None:
    """Write one outbox row (or find the one already written for ``key``); deliver after commit.

    Call it inside the transaction that makes the message true. Without a recipient nothing is
    written (a buyer with no phone gets no SMS). ``subject``/``body`` may be given pre-rendered
    (when the same text is also kept as evidence); otherwise delivery renders the template.
    ``held``: not sent alone but kept ``held`` for a digest (``orders.workflow.handoffs``), which
    lists it and marks it ``digested``.
    """
    if not recipient:
        return None
    values = {
        "status": NotificationStatus.HELD if held else NotificationStatus.PENDING,
        "template": template,
        "channel": channel,
        "recipient": recipient,
        "order": order,
        "refund": refund,
        "language": language or "en",
        "context": context or {},
        "subject": subject,
        "body": body,
    }
    collecting = _COLLECTING.get()
    if collecting is not None:  # inside recorded_together(): written with the others at its end
        notification = Notification(key=key, **values)
        collecting.append(notification)
        return notification
    notification, created = Notification.objects.get_or_create(key=key, defaults=values)
    if created and not held and _HAND_OFF.get():
        transaction.on_commit(lambda: enqueue(notification.pk))
    return notification


# Set inside recorded_together(): the rows record() collects there instead of writing each.
_COLLECTING: ContextVar[list[Notification] | None] = ContextVar("shopops_outbox_collecting", default=None)
# Rows per INSERT of recorded_together() (well under SQLite's limit of bound parameters).
NOTIFICATIONS_PER_INSERT = 500


@contextmanager
def recorded_together() -> Iterator[list[Notification]]:
    """Record many outbox rows at once: the batch form of :func:`record`, for the periodic jobs.

    Inside the block, :func:`record` (and every ``record_*`` function built on it) only collects
    its row; when the block ends they are written with ``INSERT … ON CONFLICT (key) DO NOTHING
    RETURNING id`` (a row recorded before, by this batch or any other caller, stays as it is
    and is not handed over again): on PostgreSQL one statement from a COPY, elsewhere
    ``NOTIFICATIONS_PER_INSERT`` rows a statement. The new rows are handed to Celery together
    after commit (``deliver_after_commit``: one broker message per delivery batch).
    When the block raises, nothing is written; rows recorded ``held`` are written, never handed
    over. Yields the list of collected rows (unsaved).
    """
    collected: list[Notification] = []
    token = _COLLECTING.set(collected)
    try:
        yield collected
    finally:
        _COLLECTING.reset(token)
    held = [n for n in collected if n.status == NotificationStatus.HELD]
    _insert_new(held)
    deliver_after_commit(_insert_new([n for n in collected if n.status != NotificationStatus.HELD]))


def _insert_new(notifications: list[Notification]) -> list[int]:
    """Insert the rows whose key is not taken yet; the ids of the ones inserted."""
    unique = list({n.key: n for n in reversed(notifications)}.values())[::-1]  # first of each key
    if not unique:
        return []
    using = router.db_for_write(Notification)
    meta = Notification._meta
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    if connections[using].vendor == "postgresql":
        return _copy_new(unique, fields, connections[using])
    inserted: list[int] = []
    with connections[using].cursor() as cursor:
        for start in range(0, len(unique), NOTIFICATIONS_PER_INSERT):
            query = InsertQuery(Notification, on_conflict=OnConflict.IGNORE)
            query.insert_values(fields, unique[start : start + NOTIFICATIONS_PER_INSERT])
            compiler = query.get_compiler(using=using)
            compiler.returning_fields = [meta.pk]
            for statement, params in compiler.as_sql():
                cursor.execute(statement, params)
                inserted.extend(row[0] for row in cursor.fetchall())
    return inserted


def _copy_new(notifications: list[Notification], fields: list, connection) -> list[int]:
    """PostgreSQL: the rows COPYed into a session's temporary table, then moved into the outbox
    with one ``INSERT … SELECT … ON CONFLICT DO NOTHING RETURNING id`` (half the cost of an
    INSERT of the values: no per-value quoting in Python)."""
    quote = connection.ops.quote_name
    table = quote(Notification._meta.db_table)
    columns = ", ".join(quote(f.column) for f in fields)
    formats = [(f.attname, pgcopy.formatter(f)) for f in fields]
    lines = ("\t".join(fmt(getattr(n, name)) for name, fmt in formats) for n in notifications)
    with connection.cursor() as cursor:
        cursor.execute(
            # Names from the model's metadata, quoted: no input reaches the SQL text.
            f"CREATE TEMPORARY TABLE IF NOT EXISTS outbox_new ON COMMIT DELETE ROWS AS "  # noqa: S608
            f"SELECT {columns} FROM {table} WITH NO DATA"
        )
        pgcopy.copy_lines(cursor, f"COPY outbox_new ({columns}) FROM STDIN", lines)
        # Emptied as it is read: a second batch in the same transaction starts from nothing.
        cursor.execute(
            f"WITH new AS (DELETE FROM outbox_new RETURNING *) INSERT INTO {table} ({columns}) "  # noqa: S608
            f"SELECT {columns} FROM new ON CONFLICT (key) DO NOTHING RETURNING id"
        )
        return [row[0] for row in cursor.fetchall()]


def enqueue(notification_id: int, *, countdown: float | None = None, probe: bool = False) -> bool:
    """Hand a notification to Celery by task name. Never raises: an outage leaves it to the relay.

    Returns whether the broker took the message. ``probe`` (the relay's calls) tries the broker
    even right after a failure. ``countdown`` is capped by ``SHOPOPS_MAX_COUNTDOWN`` so that no
    message waits longer than the broker's visibility timeout allows.
    """
    if countdown:
        countdown = min(float(countdown), float(settings.SHOPOPS_MAX_COUNTDOWN))
    return hand_off(DELIVER_TASK, notification_id, countdown=countdown, probe=probe)


def enqueue_many(
    notification_ids: Iterable[int], *, countdown: float | None = None, probe: bool = False
) -> bool:
    """Hand notifications to Celery, one broker message per ``SHOPOPS_NOTIFICATION_BATCH`` ids.

    Never raises. Returns whether the broker took every batch; a batch it refused is left to
    the relay (so are the ones after it: the broker is down). Nothing to send: True.
    """
    ids = list(dict.fromkeys(int(pk) for pk in notification_ids))
    if countdown:
        countdown = min(float(countdown), float(settings.SHOPOPS_MAX_COUNTDOWN))
    size = max(int(settings.SHOPOPS_NOTIFICATION_BATCH), 1)
    for start in range(0, len(ids), size):
        if not hand_off(DELIVER_BATCH_TASK, ids[start : start + size], countdown=countdown, probe=probe):
            return False
    return True


def deliver_after_commit(notification_ids: Iterable[int]) -> None:
    """Hand these rows to Celery in batches once the current transaction commits.

    Call it in the transaction that recorded them; inside ``kept_from_delivery()`` it does
    nothing. A rollback drops the hand-off with the rows.
    """
    ids = list(notification_ids)
    if ids and _HAND_OFF.get():
        transaction.on_commit(lambda: enqueue_many(ids))


def _buyer_messages(
    *, prefix: str, template: str, order: Order, refund: Refund | None, context: dict
) -> list[Notification]:
    sent = []
    for channel, recipient in (
        (NotificationChannel.EMAIL, order.buyer_email),
        (NotificationChannel.SMS, order.buyer_phone),
    ):
        notification = record(
            key=f"{prefix}:{channel}:{template}",
            template=template,
            channel=channel,
            recipient=recipient,
            order=order,
            refund=refund,
            # One of the buyer languages (orders.buyer_messages.spec), English when we write none.
            language=buyer_language(order.buyer_language),
            context=context,
        )
        if notification is not None:
            sent.append(notification)
    return sent


def record_refund_confirmation(refund: Refund) -> list[Notification]:
    """One email, and one SMS when a phone is known, telling the buyer their refund succeeded.

    Says which order, how much, and when to expect the money (``SHOPOPS_REFUND_EXPECTED_DAYS``
    business days), in the buyer's language. The facts are kept raw (amount, currency, ISO time)
    and formatted for the language when the text is rendered.
    """
    order = refund.order
    context = {
        **order_facts(order),
        "amount": str(refund.amount),
        "currency": refund.currency,
        "refund_expected_days": settings.SHOPOPS_REFUND_EXPECTED_DAYS,
        "refunded_at": (refund.succeeded_at or timezone.now()).isoformat(),
    }
    return _buyer_messages(
        prefix=f"refund:{refund.pk}",
        template=NotificationTemplate.REFUND_CONFIRMATION,
        order=order,
        refund=refund,
        context=context,
    )


def record_payment_reminder(order: Order) -> list[Notification]:
    """Ask the buyer of an unpaid order to pay: email (and SMS when a phone is known).

    Tells the buyer by when: the time the payment-timeout job closes the order (``placed_at``
    + the store's payment timeout, ``SHOPOPS_PAYMENT_TIMEOUT_HOURS`` when it sets none). A batch
    loads the orders with their store (``batches.lock_orders``): no query per order.
    """
    pay_by = order.placed_at + timedelta(hours=float(order.store.option("payment_timeout_hours")))
    context = {**order_facts(order), "pay_by": pay_by.isoformat()}
    return _buyer_messages(
        prefix=f"order:{order.pk}",
        template=NotificationTemplate.PAYMENT_REMINDER,
        order=order,
        refund=None,
        context=context,
    )


def _local(value: datetime | None) -> str:
    return timezone.localtime(value).strftime("%Y-%m-%d %H:%M") if value else ""


def supplier_reminder_context(
    refund: Refund, supplier_order: SupplierOrder | None, chase_number: int
) -> dict:
    """What the supplier reminder says: which 1688 order, how much, by when, which reminder."""
    return {
        "order_id": refund.order.platform_order_id,
        "supplier_name": supplier_order.supplier_name if supplier_order else "",
        "supplier_order_id": supplier_order.supplier_order_id if supplier_order else "",
        "amount": str(refund.amount),
        "currency": refund.currency,
        "reason": refund.reason,
        "reference": refund.reference,
        "requested_at": _local(refund.requested_at),
        "respond_by": _local(refund.respond_by),
        "chase_number": chase_number,
    }


def record_supplier_reminder(
    refund: Refund, *, supplier_order: SupplierOrder, chase_number: int, subject: str, body: str
) -> Notification | None:
    """The ``chase_number``-th reminder email to the supplier contact, in Chinese, pre-rendered.

    The key carries the chase number: each chase interval's reminder is its own message, and
    the same chase run twice records it once.
    """
    return record(
        key=f"refund:{refund.pk}:{NotificationChannel.EMAIL}:{NotificationTemplate.SUPPLIER_REMINDER}:{chase_number}",
        template=NotificationTemplate.SUPPLIER_REMINDER,
        channel=NotificationChannel.EMAIL,
        recipient=supplier_order.supplier_contact,
        order=refund.order,
        refund=refund,
        language="zh-hans",
        context=supplier_reminder_context(refund, supplier_order, chase_number),
        subject=subject,
        body=body,
    )


def record_overdue_digest(
    *, digest_id: str, recipients: Iterable[str], refunds: list[dict], total: int
) -> list[Notification]:
    """One digest email per supervisor listing newly overdue supplier refunds.

    ``refunds`` are the ones listed (the first ones, to keep the email readable); ``total`` is
    how many became overdue. The key is derived from the refunds, so one digest is one message.
    """
    sent = []
    for recipient in recipients:
        notification = record(
            key=f"overdue_digest:{digest_id}:{recipient}"[:200],
            template=NotificationTemplate.OVERDUE_DIGEST,
            channel=NotificationChannel.EMAIL,
            recipient=recipient,
            language=resolve_language(settings.LANGUAGE_CODE),
            context={"refunds": refunds, "total": total, "more": max(total - len(refunds), 0)},
        )
        if notification is not None:
            sent.append(notification)
    return sent


# --- the delivery's row changes -----------------------------------------------------------------


def _give_up_on_crashes(notification_ids: list[int], now: datetime) -> None:
    """A message whose worker died during every one of its attempts ends ``failed``, not in a loop.

    A dying worker records nothing, so its claim simply expires; without this the relay would
    hand the same poison message to worker after worker forever.
    """
    Notification.objects.filter(
        pk__in=notification_ids,
        status=NotificationStatus.SENDING,
        claimed_until__lt=now,
        attempts__gte=settings.SHOPOPS_NOTIFICATION_MAX_ATTEMPTS,
    ).update(
        status=NotificationStatus.FAILED,
        claimed_until=None,
        last_error=(
            f"The worker stopped during each of {settings.SHOPOPS_NOTIFICATION_MAX_ATTEMPTS} attempts "
            "(crash or time limit); not sent again automatically."
        ),
    )


def claim_many(notification_ids: Iterable[int], now: datetime) -> list[Notification]:
    """Take, for this caller, every claimable row among ``notification_ids``; return them loaded.

    Claimable: ``pending`` and due, or ``sending`` with an expired claim (its worker died). One
    ``UPDATE … RETURNING``, so two callers never both win a row: on PostgreSQL the rows are
    picked ``FOR UPDATE SKIP LOCKED`` (a concurrent claimant skips them instead of waiting)
    and the condition is checked again on the row it updates. The claim counts an attempt and
    lasts ``SHOPOPS_NOTIFICATION_CLAIM_SECONDS``. Two queries (the second gives up on crashes).

    Each row comes back with ``store_sender``: the ``message_sender`` of its order's store
    ("" when the store sets none, ``None`` for a message of no order), read by the same
    statement, for the email's From (``orders.delivery``).
    """
    ids = sorted({int(pk) for pk in notification_ids})
    if not ids:
        return []
    _give_up_on_crashes(ids, now)
    conn = connections[router.db_for_write(Notification)]
    q, table, ops = conn.ops.quote_name, conn.ops.quote_name(Notification._meta.db_table), conn.ops
    columns = ", ".join(q(f.column) for f in Notification._meta.concrete_fields)
    at = ops.adapt_datetimefield_value(now)
    until = ops.adapt_datetimefield_value(
        now + timedelta(seconds=float(settings.SHOPOPS_NOTIFICATION_CLAIM_SECONDS))
    )
    status, due, held, pk = q("status"), q("next_attempt_at"), q("claimed_until"), q("id")
    claimable = f"(({status} = %s AND {due} <= %s) OR ({status} = %s AND {held} < %s))"
    claimable_params = [NotificationStatus.PENDING, at, NotificationStatus.SENDING, at]
    marks = ", ".join(["%s"] * len(ids))
    lock = " FOR UPDATE SKIP LOCKED" if conn.features.has_select_for_update_skip_locked else ""
    # Only quoted names from the model are formatted in; every value is a parameter.
    attempts = q("attempts")
    # The order's store's sender name, beside the row (quoted names only, as above).
    store_id, sender_name = q(Store._meta.pk.column), q(Store._meta.get_field("message_sender").column)
    order_id, order_store = q(Order._meta.pk.column), q(Order._meta.get_field("store").column)
    sender = (
        f"(SELECT s.{sender_name} FROM {q(Order._meta.db_table)} o "  # noqa: S608
        f"JOIN {q(Store._meta.db_table)} s ON s.{store_id} = o.{order_store} "
        f"WHERE o.{order_id} = {table}.{q(Notification._meta.get_field('order').column)}) AS store_sender"
    )
    sql = (
        f"UPDATE {table} SET {status} = %s, {held} = %s, {attempts} = {attempts} + 1 "  # noqa: S608
        f"WHERE {claimable} AND {pk} IN (SELECT {pk} FROM {table} WHERE {pk} IN ({marks}) AND {claimable}"
        f" ORDER BY {pk}{lock}) RETURNING {columns}, {sender}"
    )
    params = [NotificationStatus.SENDING, until, *claimable_params, *ids, *claimable_params]
    # RawQuerySet runs the statement once and converts each column as the ORM would.
    return sorted(Notification.objects.raw(sql, params), key=lambda n: n.pk)


def keep_texts(notifications: list[Notification]) -> None:
    """Keep the rendered text (set on these instances) on their rows, so every retry sends the
    same words. One ``UPDATE … FROM (VALUES …)`` for the batch (``bulk_update``'s ``CASE`` per
    row grew with the square of the batch)."""
    if not notifications:
        return
    conn = connections[router.db_for_write(Notification)]
    q, table = conn.ops.quote_name, conn.ops.quote_name(Notification._meta.db_table)
    rows = ", ".join(["(%s, %s, %s)"] * len(notifications))
    with conn.cursor() as cursor:
        cursor.execute(
            f"UPDATE {table} SET {q('subject')} = v.column2, {q('body')} = v.column3 "  # noqa: S608
            f"FROM (VALUES {rows}) AS v WHERE {table}.{q('id')} = v.column1",
            [value for n in notifications for value in (n.pk, n.subject, n.body)],
        )


def _still_claimed(notification_id: int):
    return Notification.objects.filter(pk=notification_id, status=NotificationStatus.SENDING)


def mark_sent(notification_ids: Iterable[int]) -> None:
    """The provider accepted these messages: ``sent``, claims released. One query."""
    Notification.objects.filter(pk__in=list(notification_ids), status=NotificationStatus.SENDING).update(
        status=NotificationStatus.SENT, sent_at=timezone.now(), claimed_until=None, last_error=""
    )


def release(notification_ids: Iterable[int]) -> None:
    """Give back claims a batch could not use in time: ``pending``, due now, the attempt uncounted."""
    Notification.objects.filter(pk__in=list(notification_ids), status=NotificationStatus.SENDING).update(
        status=NotificationStatus.PENDING,
        next_attempt_at=timezone.now(),
        claimed_until=None,
        attempts=F("attempts") - 1,
    )


def schedule_retry(notification_id: int, *, delay: float, error: str) -> None:
    """A failure a retry may fix: back to ``pending``, due again in ``delay`` seconds."""
    _still_claimed(notification_id).update(
        status=NotificationStatus.PENDING,
        next_attempt_at=timezone.now() + timedelta(seconds=delay),
        claimed_until=None,
        last_error=error,
    )


def mark_failed(notification_id: int, *, error: str) -> None:
    """A permanent failure, or the last attempt: ``failed`` with the error, shown in the admin."""
    _still_claimed(notification_id).update(
        status=NotificationStatus.FAILED, claimed_until=None, last_error=error
    )


def retry_failed(notification_ids: Iterable[int], *, by: AbstractBaseUser | None) -> int:
    """Send failed notifications again: back to ``pending`` with a fresh set of attempts.

    Requires ``orders.retry_notification``. Only ``failed`` rows change (a sent message is never
    sent twice this way). They are handed to Celery in batches after commit. Returns how many
    were reset.
    """
    policy.require(by, "orders.retry_notification", _("retry notifications"))
    if isinstance(notification_ids, str | bytes) or not hasattr(notification_ids, "__iter__"):
        notification_ids = [notification_ids]
    wanted = [inputs.quantity(pk, "notification_ids", maximum=inputs.MAX_ID) for pk in notification_ids]
    with transaction.atomic():
        ids = list(
            policy.scope(by, Notification.objects.select_for_update())
            .filter(pk__in=wanted, status=NotificationStatus.FAILED)
            .values_list("pk", flat=True)
        )
        Notification.objects.filter(pk__in=ids).update(
            status=NotificationStatus.PENDING, attempts=0, next_attempt_at=timezone.now(), claimed_until=None
        )
        transaction.on_commit(lambda: enqueue_many(ids))
    return len(ids)
