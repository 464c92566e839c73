"""An attachment that starts like an image but is not a readable one is marked so (issue 24).

``image_check`` holds why (``evidence.models.ImageProblem``), set on upload; the file is kept as
evidence and never goes into an evidence pack. Attachments uploaded before have it empty: a pack
checks every image again before it goes in. Adding a column changes no row (the append-only
trigger fires on UPDATE and DELETE only).
"""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("evidence", "0002_append_only"),
    ]

    operations = [
        migrations.AddField(
            model_name="attachment",
            name="image_check",
            field=models.CharField(
                blank=True,
                choices=[
                    ("unreadable", "damaged, or not an image of its type"),
                    ("pixels", "more pixels than an image may have"),
                    ("memory", "would take more memory to open than an image may"),
                ],
                default="",
                max_length=16,
                verbose_name="not a readable image",
            ),
        ),
    ]
