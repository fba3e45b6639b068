"""What every way into goldloop checks of client text, JSON and times before PostgreSQL sees them.

PostgreSQL refuses NUL characters in text and jsonb, UTF-8 cannot carry a lone UTF-16 surrogate (JSON can:
"\\ud800"), jsonb holds no NaN or Infinity (nor 1e400, which Python reads as inf), Python's own JSON reader and
writer recurse once per level of nesting, and Python's datetime and PostgreSQL's timestamptz share only part of
their ranges. Each of these was a 500; here they are client errors, with one message each, used by the capture
path (feedback/services/capture_items.py), the DRF parser and fields (core/parsers.py, core/fields.py), the API
key check and the admin.
"""

import json
import math
from datetime import UTC, datetime
from typing import Any

# Nesting deeper than this is refused before Python's recursion limit (1,000 frames) could be reached by the
# reader, a serializer or json.dumps; real inputs (chat messages, tool calls) nest a few levels.
MAX_JSON_DEPTH = 64
# Times outside these years are refused: Python stops at year 9999 and arithmetic near it (a default range, a
# bucket) overflows. Nothing goldloop records is older than 1900. Times are converted to UTC before a query, as
# PostgreSQL refuses UTC offsets beyond 15:59 that Python accepts (up to 23:59).
EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)

NUL = "NUL characters are not allowed."
SURROGATE = "Contains an unpaired UTF-16 surrogate."
TOO_DEEP = f"Nested deeper than {MAX_JSON_DEPTH} levels."
OUT_OF_RANGE = f"Must be between {EARLIEST.year} and {LATEST.year}."


def encodable(text: str) -> bool:
    """False for text with a lone surrogate (JSON allows "\\ud800"; UTF-8, and so PostgreSQL, does not)."""
    if text.isascii():
        return True
    try:
        text.encode()
    except UnicodeEncodeError:
        return False
    return True


def text_problem(value: str, *, max_length: int | None = None) -> str | None:
    """Why PostgreSQL or the API would refuse this text, or None."""
    if max_length is not None and len(value) > max_length:
        return f"At most {max_length} characters."
    if "\x00" in value:
        return NUL
    if not encodable(value):
        return SURROGATE
    return None


def json_text_problem(text: str) -> str | None:
    """Why jsonb would refuse this JSON text (as json.dumps(..., ensure_ascii=False) writes it), or None."""
    if "\\u0000" in text:
        return NUL
    if not encodable(text):
        return SURROGATE
    return None


def json_depth_exceeds(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """True when containers nest deeper than `limit`: level by level, without recursion (a deep value cannot
    exhaust the stack here), about 0.65 microseconds of CPU per capture item."""
    level = [value] if value.__class__ is dict or value.__class__ is list else []
    depth = 0
    while level:
        depth += 1
        if depth > limit:
            return True
        below = []
        for node in level:
            for child in node.values() if node.__class__ is dict else node:
                if child.__class__ is dict or child.__class__ is list:
                    below.append(child)
        level = below
    return False


def json_value_problem(value: Any) -> str | None:
    """Why this decoded JSON value cannot be stored as jsonb (depth, non-finite numbers, NUL, surrogates), or None."""
    if json_depth_exceeds(value):
        return TOO_DEEP
    try:
        text = json.dumps(value, ensure_ascii=False, allow_nan=False)
    except ValueError:
        return "Numbers must be finite (no NaN or Infinity)."
    except TypeError:
        return "Must be JSON."
    return json_text_problem(text)


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text} is too large")
    return number


def json_loads(body: bytes | str) -> Any:
    """The JSON of a request body; ValueError (with a message for the client) for anything the API refuses:
    malformed text, bytes that are not UTF-8, NaN/Infinity, numbers too large for a float, and nesting deeper than
    MAX_JSON_DEPTH."""
    try:
        data = json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float)
    except RecursionError as exc:
        raise ValueError(TOO_DEEP.lower().rstrip(".")) from exc
    except UnicodeDecodeError as exc:
        raise ValueError("it is not UTF-8") from exc
    # Counting brackets is a C loop over the bytes; only a body with more of them than the limit can be too deep.
    brackets = body.count(b"[" if isinstance(body, bytes) else "[") + body.count(
        b"{" if isinstance(body, bytes) else "{"
    )
    if brackets > MAX_JSON_DEPTH and isinstance(data, dict | list) and json_depth_exceeds(data):
        raise ValueError(TOO_DEEP.lower().rstrip("."))
    return data


def datetime_problem(value: datetime) -> str | None:
    """Why this time is outside what Python and PostgreSQL both hold (with room for arithmetic), or None. Any
    offset Python accepts is fine: callers convert to UTC."""
    aware = value if value.tzinfo is not None else value.replace(tzinfo=UTC)
    if not EARLIEST <= aware <= LATEST:
        return OUT_OF_RANGE
    return None


def datetime_from_text(text: str | None) -> datetime | None:
    """An ISO 8601 time from a query string (naive = UTC), or None when it is missing, malformed, impossible
    (month 13) or outside the shared range: for pages that fall back to a default rather than refuse."""
    from django.utils.dateparse import parse_datetime

    try:
        parsed = parse_datetime(text or "")
    except ValueError:
        return None
    if parsed is None:
        return None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return None if datetime_problem(parsed) else parsed.astimezone(UTC)
