"""Benchmark: evidence packs (docs/evidence-pack.md) of an order with 30 photos of 9.5 MB.

    .venv/bin/python bench/evidence_pack.py            # BENCH_DATABASE_URL to use another server

Recreates and migrates its own database (``shopops_bench_d_packs``), keeps the evidence in a
temporary MEDIA_ROOT, records 30 photos (random pixels, PNG, about 9.5 MB each: the worst case
for scaling down) and 200 communications in five scripts, then builds, in this process as the
worker does (``orders.packs.jobs.run_job``): the AliExpress pack with 9 photos chosen, the 1688
pack with 4, the summary PDF alone, and a small pack in memory as the request does. Prints
seconds, the ZIP's size, and the process's peak memory.
"""

from __future__ import annotations

import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.support import recreate_database  # noqa: E402

DATABASE_URL = os.environ.get(
    "BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shopops_bench_d_packs"
)
os.environ["DATABASE_URL"] = DATABASE_URL
os.environ.pop("REDIS_URL", None)
os.environ.setdefault("SECRET_KEY", "benchmark-only")
os.environ["DJANGO_SETTINGS_MODULE"] = "shopops.settings"
MEDIA = Path(tempfile.mkdtemp(prefix="bench-packs-media-"))
os.environ["SHOPOPS_MEDIA_ROOT"] = str(MEDIA)


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    recreate_database(DATABASE_URL)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.files.uploadedfile import SimpleUploadedFile
    from django.core.management import call_command
    from django.utils import timezone

    from evidence import services
    from orders.models import Order, Sku, Status, Store
    from orders.models.store import DEFAULT_CODE
    from orders.packs import jobs, store
    from orders.packs.builder import build_pack, plan_pack, write_pack
    from tests.evidence_pack_support import big_photo, photo

    call_command("migrate", verbosity=0)
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "x")
    sku = Sku.objects.create(code="BENCH-1", title="Phone case")
    order = Order.objects.create(
        platform_order_id="8199000000000001",
        store=Store.objects.get_or_create(code=DEFAULT_CODE, defaults={"name": "Main store"})[0],
        status=Status.DISPUTED,
        buyer_name="Ли Вэй 李伟",
        sku=sku,
        product_title="Phone case",
        quantity=1,
        unit_price=20,
        total_amount=20,
        currency="USD",
        placed_at=timezone.now(),
    )
    started = time.perf_counter()
    data = big_photo(9.5)
    photos = [
        services.attach_file(order, by=None, file=SimpleUploadedFile(f"photo {n:02d}.png", data))
        for n in range(30)
    ]
    texts = [
        "买家说商品破损，要求退款。",
        "Покупатель просит возврат.",
        "المشتري يطلب استرداد المبلغ",
        "구매자가 환불을 요청했습니다",
        "La funda llegó rota.",
    ]
    for n in range(200):
        services.record_communication(
            order,
            by=None,
            counterparty="buyer",
            channel="aliexpress_message",
            direction="inbound",
            summary=f"message {n}",
            body=texts[n % 5] * 3,
        )
    print(
        f"setup: 30 photos of {len(data) / 1024 / 1024:.1f} MB and 200 communications "
        f"in {time.perf_counter() - started:.1f} s"
    )

    for target, count in (("aliexpress", 9), ("1688", 4)):
        chosen = [p.pk for p in photos[-count:]]
        token = store.new_job(user_id=user.pk, target=target, orders=[order.pk], chosen=chosen)
        started = time.perf_counter()
        job = jobs.run_job(token)
        seconds = time.perf_counter() - started
        size = store.zip_path(token).stat().st_size / 1024 / 1024
        print(
            f"{target}: {count} photos chosen of 30 -> {job['state']}, {job['files']} files, "
            f"ZIP {size:.1f} MB, "
            f"{seconds:.1f} s ({seconds / count:.2f} s a photo), peak RSS {peak_mb():.0f} MB"
        )

    import io
    import zipfile

    plan = plan_pack(order, "aliexpress", [])
    started = time.perf_counter()
    with zipfile.ZipFile(io.BytesIO(), "w") as archive:
        write_pack(plan, archive, by=user)
    print(f"summary.pdf alone (200 communications, five scripts): {time.perf_counter() - started:.2f} s")

    small = Order.objects.create(
        platform_order_id="8199000000000002",
        store=order.store,
        status=Status.SHIPPED,
        buyer_name="Ana",
        sku=sku,
        product_title="Phone case",
        quantity=1,
        unit_price=20,
        total_amount=20,
        currency="USD",
        placed_at=timezone.now(),
    )
    for n in range(3):
        services.attach_file(
            small, by=None, file=SimpleUploadedFile(f"p{n}.jpg", photo(1600, 1200, quality=90))
        )
    started = time.perf_counter()
    zip_bytes = build_pack(plan_pack(small, "aliexpress"), by=user)
    print(
        f"small pack in the request (3 photos, few lines): {time.perf_counter() - started:.2f} s, "
        f"{len(zip_bytes) / 1024:.0f} KB"
    )
    shutil.rmtree(MEDIA, ignore_errors=True)


if __name__ == "__main__":
    main()
