"""Order permissions now come from the transition declarations (orders/transitions.py): the
transitions' permissions first, in the article's order, then the other operations. No permission
is added or removed; only their order in the model options changed."""

from django.db import migrations


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0010_feedback_events"),
    ]

    operations = [
        migrations.AlterModelOptions(
            name="order",
            options={
                "ordering": ["-placed_at", "-id"],
                "permissions": [
                    ("mark_paid", "Can mark an order paid"),
                    ("mark_shipped", "Can mark an order shipped"),
                    ("mark_completed", "Can mark an order completed"),
                    ("close_unpaid", "Can close an unpaid order"),
                    ("request_cancellation", "Can ask the buyer to cancel"),
                    ("record_buyer_refusal", "Can record the buyer's refusal to cancel"),
                    ("record_buyer_consent", "Can record the buyer's consent to cancel"),
                    ("escalate_to_support", "Can escalate to platform support"),
                    ("confirm_refund", "Can confirm the buyer refund"),
                    ("propose_return", "Can propose a return"),
                    ("record_return_refusal", "Can record the buyer's refusal to return"),
                    ("record_return_agreement", "Can record the buyer's agreement to return"),
                    ("receive_return", "Can receive returned goods"),
                    ("request_supplier_refund", "Can ask the supplier for a refund"),
                    ("record_supplier_approval", "Can record the supplier's approval"),
                    ("record_supplier_refusal", "Can record the supplier's refusal"),
                    ("open_buyer_dispute", "Can record a buyer dispute"),
                    ("resolve_dispute", "Can resolve a dispute"),
                    ("bulk_close", "Can close unpaid orders in bulk"),
                    ("send_payment_reminder", "Can send payment reminders"),
                    ("import_orders", "Can import orders from CSV"),
                    ("export_orders", "Can export orders"),
                    ("view_analytics", "Can see close analytics"),
                ],
                "verbose_name": "order",
                "verbose_name_plural": "orders",
            },
        ),
    ]
