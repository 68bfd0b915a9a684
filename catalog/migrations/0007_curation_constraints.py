"""Curation rules (issue 15):

- Engagement rows protect their title and episode (on_delete=PROTECT, enforced by Django, so
  no SQL changes): a title someone rated, played or saved is unpublished, never deleted.
- `collection_ends_after_start`: a collection's schedule ends after it starts. A row that
  broke it could never have been live (live means starts_at <= now < ends_at), so before the
  constraint such rows are kept off as they were: switched off, their end cleared.
"""

import django.db.models.deletion
from django.db import migrations, models
from django.db.models import F


def schedules_end_after_start(apps, schema_editor):
    Collection = apps.get_model("catalog", "Collection")
    Collection.objects.filter(starts_at__isnull=False, ends_at__lte=F("starts_at")).update(
        is_active=False, ends_at=None
    )


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0006_search_document"),
    ]

    operations = [
        migrations.AlterField(
            model_name="blockedtitle",
            name="title",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="blocked_by", to="catalog.title"
            ),
        ),
        migrations.AlterField(
            model_name="hiddentitle",
            name="title",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="hidden_by", to="catalog.title"
            ),
        ),
        migrations.AlterField(
            model_name="listentry",
            name="title",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="list_entries", to="catalog.title"
            ),
        ),
        migrations.AlterField(
            model_name="rating",
            name="title",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="ratings", to="catalog.title"
            ),
        ),
        migrations.AlterField(
            model_name="searchclick",
            name="title",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="search_clicks", to="catalog.title"
            ),
        ),
        migrations.AlterField(
            model_name="viewingactivity",
            name="episode",
            field=models.ForeignKey(
                blank=True,
                null=True,
                on_delete=django.db.models.deletion.PROTECT,
                related_name="viewing",
                to="catalog.episode",
            ),
        ),
        migrations.AlterField(
            model_name="viewingactivity",
            name="title",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT, related_name="viewing", to="catalog.title"
            ),
        ),
        migrations.RunPython(schedules_end_after_start, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="collection",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    ("starts_at__isnull", True),
                    ("ends_at__isnull", True),
                    ("ends_at__gt", models.F("starts_at")),
                    _connector="OR",
                ),
                name="collection_ends_after_start",
                violation_error_message="The end of the schedule must come after its start.",
            ),
        ),
    ]
