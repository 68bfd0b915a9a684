"""Database-dependent skips."""

import pytest


def require_postgres(reason: str = "needs PostgreSQL"):
    """Skip unless this run's database is PostgreSQL (DATABASE_URL picks it, at run time, so this
    is called in the test body, not at import)."""
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip(reason)
