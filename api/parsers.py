"""The API's JSON parser: DRF's, with the limits a public endpoint needs.

DRF's JSONParser turns malformed JSON into a 400, but three inputs got past it as a 500:

- a body nested 100,000 deep: the decoder recurses and raises RecursionError, not ValueError;
- a lone surrogate escape ("\\ud800"): valid JSON text, but the str it decodes to cannot be
  encoded as UTF-8, so the answer that echoes it (a field error) fails while rendering;
- a body past DATA_UPLOAD_MAX_MEMORY_SIZE: Django's limit is checked only by `request.body`,
  which DRF reads only when something read the request before it; otherwise `json.load` read the
  raw stream, however long. Here the parser itself reads at most the limit (a 413).

Nothing the API accepts is nested more than a few levels, so MAX_DEPTH is far above real use
and far below the interpreter's recursion limit.
"""

import codecs
import json
import re

from django.conf import settings
from rest_framework import status
from rest_framework.exceptions import APIException, ParseError
from rest_framework.parsers import JSONParser as DRFJSONParser
from rest_framework.settings import api_settings
from rest_framework.utils import json as drf_json

MAX_DEPTH = 32
_SURROGATE = re.compile("[\ud800-\udfff]")


class RequestTooLarge(APIException):
    status_code = status.HTTP_413_REQUEST_ENTITY_TOO_LARGE
    default_detail = "Request body too large."
    default_code = "request_too_large"


def too_large() -> RequestTooLarge:
    limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
    return RequestTooLarge(f"Request body too large: at most {limit} bytes are accepted.")


def _check_shape(data) -> None:
    """ParseError when `data` is nested past MAX_DEPTH or holds a lone surrogate (key or value).

    Iterative on purpose: a recursive walk would fail on the very input it guards against.
    """
    stack = [(data, 1)]
    while stack:
        value, depth = stack.pop()
        if isinstance(value, str):
            if not value.isascii() and _SURROGATE.search(value):
                raise ParseError("JSON parse error - a string holds a lone surrogate (not Unicode text).")
            continue
        if not isinstance(value, dict | list):
            continue
        if depth > MAX_DEPTH:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.")
        if isinstance(value, dict):
            stack.extend((key, depth) for key in value)
            stack.extend((item, depth + 1) for item in value.values())
        else:
            stack.extend((item, depth + 1) for item in value)


class JSONParser(DRFJSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        parser_context = parser_context or {}
        encoding = parser_context.get("encoding", settings.DEFAULT_CHARSET)
        limit = settings.DATA_UPLOAD_MAX_MEMORY_SIZE
        raw = stream.read() if limit is None else stream.read(limit + 1)
        if limit is not None and len(raw) > limit:
            raise too_large()
        try:
            text = codecs.decode(raw, encoding)
            parse_constant = drf_json.strict_constant if api_settings.STRICT_JSON else None
            data = json.loads(text, parse_constant=parse_constant)
        except RecursionError:
            raise ParseError(f"JSON parse error - nested deeper than {MAX_DEPTH} levels.") from None
        except (ValueError, LookupError) as exc:  # UnicodeDecodeError is a ValueError
            raise ParseError(f"JSON parse error - {exc}") from None
        _check_shape(data)
        return data
