# Written by hand (E2): only this field, so it does not carry other uncommitted model changes.
# Renumbered by the lead: helper D's 0004_staff_requests landed beside it.

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("privacy", "0004_staff_requests"),
    ]

    operations = [
        migrations.AddField(
            model_name="exportrequest",
            name="notified_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
