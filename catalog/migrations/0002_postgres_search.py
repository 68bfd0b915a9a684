"""PostgreSQL only: trigram matching for typo-tolerant search, and the indexes search uses.

SQLite (the embedded default) has no such extension; its search falls back to LIKE, so this
migration does nothing there.
"""

from django.db import migrations

FORWARD = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS catalog_title_name_trgm ON catalog_title USING gin (name gin_trgm_ops)",
    "CREATE INDEX IF NOT EXISTS catalog_title_fts ON catalog_title USING gin "
    "((setweight(to_tsvector('english', coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(synopsis, '')), 'B')))",
]
BACKWARD = [
    "DROP INDEX IF EXISTS catalog_title_fts",
    "DROP INDEX IF EXISTS catalog_title_name_trgm",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in FORWARD:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0001_initial")]
    operations = [migrations.RunPython(forward, backward)]
