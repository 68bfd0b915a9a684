"""Signals other apps listen to without catalog (or recommendations) importing them.

Insights counts impressions and clicks through these: the dependency stays one-way
(`insights` imports catalog; catalog only announces).
"""

from django.dispatch import Signal

# A home page was shown: kwargs `profile`, `rows` (a list of catalog.shelves.Row).
rows_shown = Signal()
# A title page was opened from a home row: kwargs `profile`, `title`, `row_key`.
title_opened_from_row = Signal()
