"""Bulk writes for dataset loads (MovieLens import, demo seed): unique slugs and plain-row inserts.

Not the way engagement is normally written (that is `catalog.services`, one service per signal):
these load data sets, where per-row ORM calls would take minutes.
"""

from django.db import connection
from django.utils.text import slugify


def unique_slug(base: str, taken: set[str], fallback: str, max_length: int) -> str:
    """`base` as a slug of at most `max_length`, made unique against `taken` (which it joins)."""
    base = (slugify(base) or fallback)[:max_length]
    slug, n = base, 2
    while slug in taken:
        suffix = f"-{n}"
        slug = f"{base[: max_length - len(suffix)]}{suffix}"
        n += 1
    taken.add(slug)
    return slug


def insert_rows(model, field_names: list[str], rows: list[tuple], *, ignore_conflicts: bool = False) -> None:
    """Insert plain value tuples (in `field_names` order) with multi-row INSERTs; no pks come back.

    Used instead of bulk_create for the big tables of a dataset load: for ~100k rows the ORM
    spends most of the time building model instances and preparing each field in Python.
    Values must already be valid; datetimes are adapted for the backend here.
    """
    if not rows:
        return
    meta = model._meta
    fields = [meta.get_field(name) for name in field_names]
    adapt = connection.ops.adapt_datetimefield_value
    datetime_at = [i for i, f in enumerate(fields) if f.get_internal_type() == "DateTimeField"]
    if datetime_at:
        rows = [tuple(adapt(v) if i in datetime_at else v for i, v in enumerate(row)) for row in rows]
    columns = ", ".join(connection.ops.quote_name(f.column) for f in fields)
    table = connection.ops.quote_name(meta.db_table)
    conflict = " ON CONFLICT DO NOTHING" if ignore_conflicts else ""
    if connection.vendor == "postgresql":
        _copy_rows(table, columns, rows, ignore_conflicts=ignore_conflicts)
        return
    one_row = f"({', '.join(['%s'] * len(fields))})"
    # Many rows per statement: one round trip per chunk instead of one statement per row (which
    # PostgreSQL then executes 100k times). The chunk stays far below SQLite's bound-parameter limit.
    per_statement = max(1, 4000 // len(fields))
    with connection.cursor() as cursor:
        for start in range(0, len(rows), per_statement):
            chunk = rows[start : start + per_statement]
            values = ", ".join([one_row] * len(chunk))
            # Identifiers come from the model's meta, values are bound parameters: nothing user-supplied.
            sql = f"INSERT INTO {table} ({columns}) VALUES {values}{conflict}"  # noqa: S608
            cursor.execute(sql, [v for row in chunk for v in row])


def _copy_rows(table: str, columns: str, rows: list[tuple], *, ignore_conflicts: bool) -> None:
    """PostgreSQL: COPY (a stream, no statement per row). COPY cannot skip conflicts, so then it
    goes through a scratch table dropped at commit and an INSERT ... ON CONFLICT DO NOTHING."""
    with connection.cursor() as cursor:
        raw = cursor.cursor  # the psycopg cursor: Django's wrapper has no copy()
        target = table
        if ignore_conflicts:
            target = connection.ops.quote_name("marquee_import_rows")
            raw.execute(f"DROP TABLE IF EXISTS {target}")
            raw.execute(f"CREATE TEMP TABLE {target} ON COMMIT DROP AS SELECT {columns} FROM {table} WITH NO DATA")  # noqa: S608
        with raw.copy(f"COPY {target} ({columns}) FROM STDIN") as copy:
            for row in rows:
                copy.write_row(row)
        if ignore_conflicts:
            raw.execute(
                f"INSERT INTO {table} ({columns}) SELECT {columns} FROM {target} ON CONFLICT DO NOTHING"  # noqa: S608
            )
            raw.execute(f"DROP TABLE {target}")
