"""The platforms' beat pass end to end on a real Celery worker (issue 22): the schedule row the
migration makes names ``orders.sync_platforms``, which hands each connected store its own
``orders.sync_store``; the worker pulls the fake's orders over HTTP. A 1688 refund request is
handed to the worker after its commit (``orders.file_supplier_refund``) and filed on the fake;
the beat pass reads the supplier's answer back."""

from __future__ import annotations

import importlib

import pytest
from django.apps import apps

from orders import workflow
from orders.models import Order, Refund, RefundStatus, Status, SyncState
from orders.platforms.fake import fake_order
from shopops.celery import hand_off
from tests.concurrency_support import wait_until
from tests.factories import StoreFactory, default_store, staff
from tests.platform_refund_support import connect_1688, photo, returned, sale_with_purchase
from tests.platform_support import AE_TOKEN, TOKEN_1688, connect, fake_gateways  # noqa: F401 (the fixture "fake")


@pytest.mark.redis
def test_the_beat_pass_runs_each_store_on_a_real_worker(celery_worker, fake):
    from django_celery_beat.models import PeriodicTask

    # given: the schedule row (made again if a flush took it), two stores, one of them failing
    importlib.import_module("orders.migrations.0023_sync_platforms_schedule").create_schedule(apps, None)
    row = PeriodicTask.objects.get(task="orders.sync_platforms")
    assert (row.interval.every, row.interval.period, row.args) == (5, "minutes", "[]")
    main, eu = default_store(), StoreFactory(code="eu")
    connect(main)
    connect(eu, token="eu-token-unknown-to-the-fake")
    fake.put_order(AE_TOKEN, fake_order("8100000000000001"))
    # when: beat's task is published, as beat does, by name and without arguments
    assert hand_off("orders.sync_platforms")
    # then: main's order arrives; eu's failure is its own. The order is committed with its page,
    # main's good pass only when its whole pass (1688 part too) ends: wait for both ends.
    wait_until(
        lambda: (
            Order.objects.filter(platform_order_id="8100000000000001").exists()
            and SyncState.objects.filter(store=main, last_good_pass_at__isnull=False).exists()
            and SyncState.objects.filter(store=eu).exclude(last_error="").exists()
        ),
        seconds=60,
        what="the worker to run both stores' passes",
    )
    assert SyncState.objects.get(store=main).last_good_pass_at is not None
    assert "IllegalAccessToken" in SyncState.objects.get(store=eu).last_error


@pytest.mark.redis
def test_a_1688_refund_is_filed_by_a_worker_after_commit_and_its_answer_read_by_the_beat_pass(
    celery_worker, fake, settings, tmp_path
):
    # given: a store connected to both fakes, a return, its photo (evidence in a private folder)
    settings.MEDIA_ROOT = str(tmp_path)
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {**settings.STORAGES["default"], "OPTIONS": {"location": str(tmp_path)}},
    }
    store = default_store()
    connect(store)
    connect_1688(store)
    team = {group: staff(group) for group in ("Operator", "Supervisor")}
    order = returned(sale_with_purchase(fake), team, to_supplier=0)
    photo(order)
    # when: the supervisor asks the supplier without a reference (committed: the outbox hands it over)
    workflow.request_supplier_refund(
        order, by=team["Supervisor"], amount="90.00", reason="Cracked.", kind="refund"
    )
    # then: the worker files it on 1688, once, and records its id
    refund = Refund.objects.get(order=order, direction="from_supplier")
    wait_until(
        lambda: bool(Refund.objects.get(pk=refund.pk).reference),
        seconds=60,
        what="the worker to file the request",
    )
    [sent] = fake.refunds_1688(TOKEN_1688)
    assert Refund.objects.get(pk=refund.pk).reference == sent["refundId"]
    # when: the supplier pays, and beat's pass runs on the worker
    fake.supplier_decides(sent["refundId"], "agree")
    assert hand_off("orders.sync_platforms")
    # then: the order is closed by the system on 1688's word
    wait_until(
        lambda: Order.objects.get(pk=order.pk).status == Status.CLOSED,
        seconds=60,
        what="the beat pass to read the answer",
    )
    assert Refund.objects.get(pk=refund.pk).status == RefundStatus.SUCCEEDED
    assert len(fake.refunds_1688(TOKEN_1688)) == 1
