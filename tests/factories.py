"""factory_boy factories. Orders are created in a given status directly (as an import does);
moving them goes through ``orders.workflow``. Refunds and notifications are built
directly too, with the fields the workflow would have left, for tests that need one in a given
state without walking the order there."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from orders.models import (
    Notification,
    NotificationChannel,
    NotificationTemplate,
    Order,
    Refund,
    RefundDirection,
    RefundStatus,
    Sku,
    Status,
    Store,
    SupplierOrder,
)
from orders.models.store import DEFAULT_CODE


def default_store() -> Store:
    """The store a migration makes (recreated when a transactional test flushed it)."""
    return Store.objects.get_or_create(code=DEFAULT_CODE, defaults={"name": "Main store"})[0]


class StoreFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Store
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"S{n:02d}")
    name = factory.LazyAttribute(lambda s: f"Store {s.code}")


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda u: f"{u.username}@shopops.example")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "correct-horse-9")

    @factory.post_generation
    def groups(self, create, extracted, **kwargs):
        """``UserFactory(groups=["Operator"])`` puts the user in those groups (by name)."""
        if create and extracted:
            self.groups.set(Group.objects.filter(name__in=extracted))
        if create:
            self.save()

    @factory.post_generation
    def stores(self, create, extracted, **kwargs):
        """``UserFactory(stores=[store])``: the stores the user works for (default: the default
        store, as the migration grants every staff user; ``stores=[]`` for none)."""
        if not create:
            return
        wanted = [default_store()] if extracted is None else list(extracted)
        self.stores.set(wanted)
        if hasattr(self, "_shopops_store_ids"):
            del self._shopops_store_ids


def staff(group: str, username: str | None = None, stores=None):
    """A staff user in one of the spec's groups: Operator, Supervisor, Finance, Analyst; working
    for ``stores`` (default: the default store)."""
    return UserFactory(username=username or group.lower(), groups=[group], stores=stores)


class SkuFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Sku
        django_get_or_create = ("code",)

    code = factory.Sequence(lambda n: f"SKU-{n:04d}")
    title = factory.Faker("sentence", nb_words=3)


_NOT_SHIPPED = (Status.AWAITING_PAYMENT, Status.PAID, Status.CANCEL_REQUESTED, Status.REFUND_PENDING)


class OrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Order

    platform_order_id = factory.Sequence(lambda n: f"81{n:014d}")
    store = factory.LazyFunction(default_store)
    status = Status.AWAITING_PAYMENT
    buyer_name = factory.Faker("name")
    buyer_email = factory.LazyAttribute(lambda o: f"buyer.{o.platform_order_id}@example.com")
    buyer_phone = "+34600000001"
    buyer_country = "ES"
    buyer_language = "en"
    sku = factory.SubFactory(SkuFactory)
    product_title = "Silicone phone case"
    quantity = 2
    unit_price = Decimal("50.00")
    total_amount = Decimal("100.00")
    currency = "USD"
    placed_at = factory.LazyFunction(lambda: timezone.now() - timezone.timedelta(days=2))
    paid_at = factory.LazyAttribute(
        lambda o: None if o.status == Status.AWAITING_PAYMENT else o.placed_at + timezone.timedelta(hours=1)
    )
    shipped_at = factory.LazyAttribute(
        lambda o: o.placed_at + timezone.timedelta(days=1) if o.status not in _NOT_SHIPPED else None
    )
    tracking_number = factory.LazyAttribute(lambda o: f"LP{o.platform_order_id}CN" if o.shipped_at else "")


class SupplierOrderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SupplierOrder

    order = factory.SubFactory(OrderFactory)
    supplier_name = "义乌市晨光饰品厂"
    supplier_contact = "chenguang@example.cn"
    supplier_order_id = factory.Sequence(lambda n: f"30{n:014d}")
    amount = Decimal("300.00")


_MOVED = (RefundStatus.SUCCEEDED, RefundStatus.RECEIVED)
_ENDED = (RefundStatus.REJECTED, RefundStatus.CANCELLED)


class RefundFactory(factory.django.DjangoModelFactory):
    """A refund as the workflow leaves it: ``RefundFactory()`` is a requested refund to the buyer.

    Traits: ``succeeded``, ``received``, ``rejected``, ``cancelled`` set the status and the times
    the workflow stamps (``succeeded_at``, ``received_at``, ``ended_at``); ``supplier`` makes it a
    refund from the supplier, in CNY, and gives the order a supplier order to refund against if
    it has none (the refund limit, checked by a trigger on PostgreSQL). A buyer refund is in the
    order's currency. Built directly, so no confirmation is recorded in the outbox.
    """

    class Meta:
        model = Refund

    class Params:
        succeeded = factory.Trait(status=RefundStatus.SUCCEEDED)
        received = factory.Trait(status=RefundStatus.RECEIVED)
        rejected = factory.Trait(status=RefundStatus.REJECTED)
        cancelled = factory.Trait(status=RefundStatus.CANCELLED)
        supplier = factory.Trait(direction=RefundDirection.FROM_SUPPLIER)

    order = factory.SubFactory(OrderFactory, status=Status.REFUND_PENDING)
    direction = RefundDirection.TO_BUYER
    status = RefundStatus.REQUESTED
    amount = Decimal("10.00")
    currency = factory.LazyAttribute(
        lambda r: "CNY" if r.direction == RefundDirection.FROM_SUPPLIER else r.order.currency
    )
    reason = ""
    idempotency_key = factory.Sequence(lambda n: f"test-refund-{n}")
    requested_at = factory.LazyFunction(timezone.now)
    succeeded_at = factory.LazyAttribute(lambda r: r.requested_at if r.status in _MOVED else None)
    received_at = factory.LazyAttribute(
        lambda r: r.succeeded_at if r.status == RefundStatus.RECEIVED else None
    )
    ended_at = factory.LazyAttribute(lambda r: r.requested_at if r.status in _ENDED else None)

    @classmethod
    def _create(cls, model_class, *args, **kwargs):
        order = kwargs["order"]
        if kwargs["direction"] == RefundDirection.FROM_SUPPLIER and not order.supplier_orders.exists():
            SupplierOrderFactory(order=order)
        return super()._create(model_class, *args, **kwargs)


class NotificationFactory(factory.django.DjangoModelFactory):
    """An outbox row waiting to be sent: a payment reminder by e-mail to the order's buyer."""

    class Meta:
        model = Notification

    key = factory.Sequence(lambda n: f"test-notification-{n}")
    order = factory.SubFactory(OrderFactory)
    template = NotificationTemplate.PAYMENT_REMINDER
    channel = NotificationChannel.EMAIL
    recipient = factory.LazyAttribute(lambda n: n.order.buyer_email if n.order else "buyer@example.com")


def build_ledger() -> None:
    """Write the kept loss ledger (``OrderLedger``) of every closed order as it is now.

    The factories bypass the workflow, whose history events keep the ledger: a test that builds
    closes (their refunds, purchases, stock movements, rates) with factories and then reads the
    analytics, the ledger CSV or ``loss_ledger`` calls this in between (``rebuild_ledger``).
    """
    from orders.workflow.ledger import rebuild_ledger

    rebuild_ledger()
