"""The JSON body of a capture request, read with the limits of API.md before anything is parsed.

Capture views read the body themselves instead of through DRF's parser: the size is checked first (the
Content-Length header, then the bytes actually read), the media type gives 415, and NaN/Infinity or numbers
too large for a float are refused as malformed, since PostgreSQL's jsonb would refuse them later with a 500.
"""

import json
import math
from typing import Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig

from core.errors import ApplicationError


def _too_large() -> ApplicationError:
    limit = settings.API_MAX_BODY_BYTES
    return ApplicationError(
        f"The body is larger than {limit} bytes; split it into smaller batches.",
        code="payload_too_large",
        status_code=413,
    )


def _reject_constant(name: str) -> float:
    raise ValueError(f"{name} is not valid JSON")


def _finite_float(text: str) -> float:
    number = float(text)
    if not math.isfinite(number):
        raise ValueError(f"the number {text} is too large")
    return number


def read_json_object(request) -> dict[str, Any]:
    """The request body as a JSON object, or ApplicationError with 413, 415 or 400."""
    data = read_json_body(request)
    if not isinstance(data, dict):
        raise ApplicationError("The body must be a JSON object.", code="invalid")
    return data


def read_json_body(request) -> Any:
    """The request body as any JSON value, or ApplicationError with 413, 415 or 400."""
    content_type = (request.content_type or "").lower()
    if content_type != "application/json" and not content_type.endswith("+json"):
        raise ApplicationError(
            "Send the body as JSON with 'Content-Type: application/json'.",
            code="unsupported_media_type",
            status_code=415,
        )
    limit = settings.API_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise _too_large()
    try:
        body = request.body
    except RequestDataTooBig as exc:
        raise _too_large() from exc
    if len(body) > limit:
        raise _too_large()
    try:
        data = json.loads(body, parse_constant=_reject_constant, parse_float=_finite_float)
    except (ValueError, RecursionError) as exc:
        # ValueError covers JSONDecodeError and bytes that are not UTF-8.
        detail = str(exc) if isinstance(exc, json.JSONDecodeError) else "it could not be decoded"
        raise ApplicationError(f"The body is not valid JSON: {detail}.", code="malformed_json") from exc
    return data
