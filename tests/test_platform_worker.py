"""The platforms' beat pass end to end on a real Celery worker (issue 22): the schedule row the
migration makes names ``orders.sync_platforms``, which hands each connected store its own
``orders.sync_store``; the worker pulls the fake's orders over HTTP."""

from __future__ import annotations

import importlib
import time

import pytest
from django.apps import apps

from orders.models import Order, SyncState
from orders.platforms.fake import fake_order
from shopops.celery import hand_off
from tests.factories import StoreFactory, default_store
from tests.platform_support import AE_TOKEN, connect, fake_gateways  # noqa: F401 (the fixture "fake")


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
    # then: main's order arrives; eu's failure is its own
    deadline = time.monotonic() + 60
    while not (
        Order.objects.filter(platform_order_id="8100000000000001").exists()
        and SyncState.objects.filter(store=eu).exclude(last_error="").exists()
    ):
        assert time.monotonic() < deadline, "the worker did not run both stores' passes"
        time.sleep(0.2)
    assert SyncState.objects.get(store=main).last_good_pass_at is not None
    assert "IllegalAccessToken" in SyncState.objects.get(store=eu).last_error
