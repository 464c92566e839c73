"""What a summary the system writes says, kept as codes (issue 23): ``Communication.data``.

A ready text sent, the buyer's cancellation request, the supplier's refusal read from 1688 and a
refund reminder are recorded with their codes (``orders.said``) and told in each reader's
language. Rows recorded before keep an empty object: evidence is append-only, so they are not
rewritten; the pages recognise an older ready text's summary and show any other as stored.
Adding a column changes no row (the append-only trigger fires on UPDATE and DELETE only).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0003_attachment_image_check"),
    ]

    operations = [
        migrations.AddField(
            model_name="communication",
            name="data",
            field=models.JSONField(blank=True, default=dict, verbose_name="what it says, as codes"),
        ),
    ]
