"""Two texts to ask a buyer to cancel (issue 23): ``chat.buyer_asked_cancel`` ("the buyer asked to
cancel") beside ``chat.ask_cancel``, now named "we cannot ship, ask the buyer to cancel".

Only the choices of the templates' ``message`` change (they are ``orders.buyer_messages.spec``'s
messages): no SQL, no row written. The new text ships in every buyer language
(``texts/<language>.toml``); a Supervisor's wording of it is kept like any other.
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("orders", "0028_buyer_refund_received"),
    ]

    operations = [
        migrations.AlterField(
            model_name="buyermessagetemplate",
            name="message",
            field=models.CharField(
                choices=[
                    ("refund_confirmation.subject", "Refund confirmation: email subject"),
                    ("refund_confirmation.body", "Refund confirmation: email"),
                    ("refund_confirmation.sms", "Refund confirmation: SMS"),
                    ("payment_reminder.subject", "Payment reminder: email subject"),
                    ("payment_reminder.body", "Payment reminder: email"),
                    ("payment_reminder.sms", "Payment reminder: SMS"),
                    ("chat.buyer_asked_cancel", "Chat: the buyer asked to cancel"),
                    ("chat.ask_cancel", "Chat: we cannot ship, ask the buyer to cancel"),
                    ("chat.propose_return", "Chat: propose a return"),
                    ("chat.dispute_won", "Chat: dispute decided for us (no refund)"),
                    ("chat.dispute_partial", "Chat: dispute decided with a partial refund"),
                    ("chat.dispute_lost", "Chat: dispute decided for the buyer (refund)"),
                ],
                max_length=64,
                verbose_name="message",
            ),
        ),
        migrations.AlterField(
            model_name="buyermessagetemplateversion",
            name="message",
            field=models.CharField(
                choices=[
                    ("refund_confirmation.subject", "Refund confirmation: email subject"),
                    ("refund_confirmation.body", "Refund confirmation: email"),
                    ("refund_confirmation.sms", "Refund confirmation: SMS"),
                    ("payment_reminder.subject", "Payment reminder: email subject"),
                    ("payment_reminder.body", "Payment reminder: email"),
                    ("payment_reminder.sms", "Payment reminder: SMS"),
                    ("chat.buyer_asked_cancel", "Chat: the buyer asked to cancel"),
                    ("chat.ask_cancel", "Chat: we cannot ship, ask the buyer to cancel"),
                    ("chat.propose_return", "Chat: propose a return"),
                    ("chat.dispute_won", "Chat: dispute decided for us (no refund)"),
                    ("chat.dispute_partial", "Chat: dispute decided with a partial refund"),
                    ("chat.dispute_lost", "Chat: dispute decided for the buyer (refund)"),
                ],
                max_length=64,
                verbose_name="message",
            ),
        ),
    ]
