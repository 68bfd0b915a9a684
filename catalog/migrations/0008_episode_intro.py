"""Issue 14: an episode's intro marker ("Skip intro"; start before end, or neither), and
"Remove from row" on Continue watching (ViewingActivity.dismissed_at; the history stays)."""

from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("catalog", "0007_curation_constraints"),
    ]

    operations = [
        migrations.AddField(
            model_name="episode",
            name="intro_end_seconds",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="episode",
            name="intro_start_seconds",
            field=models.PositiveIntegerField(blank=True, null=True),
        ),
        migrations.AddField(
            model_name="viewingactivity",
            name="dismissed_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
        migrations.AddConstraint(
            model_name="episode",
            constraint=models.CheckConstraint(
                condition=models.Q(
                    models.Q(("intro_start_seconds__isnull", True), ("intro_end_seconds__isnull", True)),
                    models.Q(
                        ("intro_end_seconds__isnull", False),
                        ("intro_start_seconds__isnull", False),
                        ("intro_start_seconds__lt", models.F("intro_end_seconds")),
                    ),
                    _connector="OR",
                ),
                name="episode_intro_start_before_end",
                violation_error_message="An intro marker needs a start before its end (or neither).",
            ),
        ),
    ]
