"""Counts impressions and clicks from catalog's signals (see catalog/signals.py).

Measurement must never cost a viewer their page: a failure here is logged and swallowed.
"""

import logging

from . import services

logger = logging.getLogger(__name__)


def on_rows_shown(sender, *, profile, rows, **kwargs):
    try:
        services.impressions_record(profile=profile, rows=rows)
    except Exception:
        logger.exception("recording impressions failed")


def on_title_opened_from_row(sender, *, profile, title, row_key, **kwargs):
    try:
        services.click_record(profile=profile, title=title, row_key=row_key)
    except Exception:
        logger.exception("recording a click failed")


def on_demo_seeded(sender, *, seed, **kwargs):
    """Demo home-row impressions and clicks after `seed_demo` (its summary prints the counts)."""
    from . import demo

    return demo.demo_engagement_write(seed=seed)
