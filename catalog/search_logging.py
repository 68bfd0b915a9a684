"""Keep search terms out of logs (privacy: what a person searched for is theirs).

The development server (`django.server`) and access logs print each request line, which for
a search carries the terms. This module imports nothing of Django's apps, so settings.LOGGING
can name it before the app registry is ready:

    "filters": {"redact_search": {"()": "catalog.search_logging.RedactSearchTerms"}},
    "loggers": {"django.server": {"handlers": ["console"], "filters": ["redact_search"], ...}},

and the same filter on the console handler covers everything else that logs a URL.
"""

import logging
import re

# Query-string parameters that carry search terms: the search page and suggestions (`q`) and
# the API's title list (`search`).
_TERMS_IN_URL = re.compile(r"([?&](?:q|search)=)[^&\s\"]*")


def redact(text: str) -> str:
    return _TERMS_IN_URL.sub(r"\1[redacted]", text)


class RedactSearchTerms(logging.Filter):
    """Blanks search terms out of a record's message and its string arguments; drops nothing."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.msg, str):
            record.msg = redact(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(redact(arg) if isinstance(arg, str) else arg for arg in record.args)
        return True
