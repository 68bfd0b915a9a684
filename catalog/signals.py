"""Signals other apps listen to without catalog (or recommendations) importing them.

Insights counts impressions and clicks through these: the dependency stays one-way
(`insights` imports catalog; catalog only announces).
"""

from django.dispatch import Signal

# A home page was shown: kwargs `profile`, `rows` (a list of catalog.shelves.Row).
rows_shown = Signal()
# A title page was opened from a home row: kwargs `profile`, `title`, `row_key`, `artwork` (the
# poster variant the card showed, from its link's `art=`; "" when unknown, unchecked: receivers check).
title_opened_from_row = Signal()
# `manage.py seed_demo` wrote a fresh demo catalog and subscribers: kwargs `seed`. Receivers
# add their own demo data and return {name: count} for the command's summary.
demo_seeded = Signal()
