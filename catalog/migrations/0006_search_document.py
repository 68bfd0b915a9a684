"""PostgreSQL only: a stored, indexed search document on titles, and indexes for people's names.

- `catalog_title.search_document`: the weighted text-search document (name A, synopsis B) as a
  generated column, so PostgreSQL computes it on every insert and update and no writer (the
  admin, the importers' bulk_create, a raw UPDATE) can forget it. `catalog_title_fts`, the
  expression index of 0002 that recomputed `to_tsvector` for every ranked row at query time,
  becomes a GIN index on that column under the same name.
- Trigram indexes on `catalog_person.name` (for `%>`) and on `UPPER(name::text)` (what
  Django's `icontains` compiles to), so matching people is an index lookup too.
- `fastupdate = off` on these GIN indexes (and on 0002's `catalog_title_name_trgm`): with it
  on, rows written in bulk (seed_demo, an import) wait in the index's pending list, which
  every search then scans row by row, and the planner, costing that list, falls back to
  scanning the table until a vacuum merges it. Titles and people change rarely; searches
  run all day.
- pg_trgm declares its operator functions as cheap as an integer comparison (COST 1), while
  one costs microseconds per row; at the demo's size the planner then scans the whole table
  rather than use the trigram index, ten times slower. COST 100 is what core gives
  `to_tsvector`. These are the extension's functions: a role that does not own them keeps
  the default (a NOTICE, not a failure: search stays correct, only slower on small
  catalogs), and a dump restored into a fresh database needs this migration's `COST_SQL` again.

The column is not a model field: SQLite has no text search, and Django must never write a
generated column. Only `catalog.search._postgres_search` reads it. PostgreSQL refuses to
change the type of a column a generated column uses: altering `Title.name` or `synopsis`
(say max_length) needs this column dropped first and re-added after (`COLUMN_SQL`).

SQLite (the embedded default): nothing.
"""

from django.db import migrations

COLUMN_SQL = [
    "ALTER TABLE catalog_title ADD COLUMN IF NOT EXISTS search_document tsvector GENERATED ALWAYS AS ("
    "setweight(to_tsvector('english'::regconfig, coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english'::regconfig, coalesce(synopsis, '')), 'B')) STORED",
    "DROP INDEX IF EXISTS catalog_title_fts",
    "CREATE INDEX catalog_title_fts ON catalog_title USING gin (search_document) WITH (fastupdate = off)",
]
TRIGRAM_SQL = [
    "ALTER INDEX catalog_title_name_trgm SET (fastupdate = off)",
    # What is already pending stays there until merged: merge it now.
    "SELECT gin_clean_pending_list('catalog_title_name_trgm'::regclass)",
    "CREATE INDEX IF NOT EXISTS catalog_person_name_trgm ON catalog_person "
    "USING gin (name gin_trgm_ops) WITH (fastupdate = off)",
    "CREATE INDEX IF NOT EXISTS catalog_person_name_upper_trgm ON catalog_person "
    "USING gin (UPPER(name::text) gin_trgm_ops) WITH (fastupdate = off)",
]
# The functions behind `%`, `<%` and `%>` (Django's trigram_similar / trigram_word_similar).
TRGM_OPERATOR_FUNCTIONS = ["similarity_op", "word_similarity_op", "word_similarity_commutator_op"]


def cost_sql(cost: int) -> str:
    alters = " ".join(f"ALTER FUNCTION {name}(text, text) COST {cost};" for name in TRGM_OPERATOR_FUNCTIONS)
    # A block of its own: without the privilege, a notice, and the migration's transaction goes on.
    return (
        f"DO $$ BEGIN {alters} EXCEPTION WHEN insufficient_privilege THEN "
        "RAISE NOTICE 'pg_trgm operator costs left as they are (not their owner)'; END $$"
    )


COST_SQL = cost_sql(100)

BACKWARD = [
    cost_sql(1),
    "DROP INDEX IF EXISTS catalog_person_name_upper_trgm",
    "DROP INDEX IF EXISTS catalog_person_name_trgm",
    "ALTER INDEX catalog_title_name_trgm RESET (fastupdate)",
    "DROP INDEX IF EXISTS catalog_title_fts",
    "ALTER TABLE catalog_title DROP COLUMN IF EXISTS search_document",
    # 0002's expression index, as it was.
    "CREATE INDEX catalog_title_fts ON catalog_title USING gin "
    "((setweight(to_tsvector('english', coalesce(name, '')), 'A') || "
    "setweight(to_tsvector('english', coalesce(synopsis, '')), 'B')))",
]


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in [*COLUMN_SQL, *TRIGRAM_SQL, COST_SQL]:
            schema_editor.execute(sql)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for sql in BACKWARD:
            schema_editor.execute(sql)


class Migration(migrations.Migration):
    dependencies = [("catalog", "0005_blocked_titles")]
    operations = [migrations.RunPython(forward, backward)]
