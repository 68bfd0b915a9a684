"""Helpers shared by the test areas (no tests here; pytest collects only test_*.py).

- `accounts`: PASSWORD, make_account, signed_in_client (the personas' building blocks).
- `api`: token_client and the World the API tests share.
- `db`: require_postgres.
- `factories`: factory_boy factories for every model.
- `services`: real processes for the fault tests (a private Redis, gunicorn, worker, beat).
- `recommender`: a small catalog with clear taste clusters and a hand-made model.
- `training_world`: a synthetic world for the recommender's training tests.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The project root (where manage.py and pyproject.toml are), however deep the test file is."""
