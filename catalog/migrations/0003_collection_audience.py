from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("catalog", "0002_postgres_search")]

    operations = [
        migrations.AddField(
            model_name="collection",
            name="audience",
            field=models.CharField(
                choices=[("everyone", "Everyone"), ("kids", "Kids profiles only"), ("adults", "Adult profiles only")],
                default="everyone",
                max_length=10,
            ),
        ),
    ]
