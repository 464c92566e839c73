"""factory_boy factories. Orders are created in a given status directly (as an import does);
moving them goes through ``orders.workflow``."""

from decimal import Decimal

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from orders.models import Order, Sku, Status, SupplierOrder


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


def staff(group: str, username: str | None = None):
    """A staff user in one of the spec's groups: Operator, Supervisor, Finance, Analyst."""
    return UserFactory(username=username or group.lower(), groups=[group])


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
