"""Request bodies with the limits of API.md, read the same way by every API view.

The size is checked first (the Content-Length header, then the bytes actually read: 413), the media type gives
415, and the JSON is read by core.validation.json_loads (no NaN/Infinity, no number too large for a float, no
nesting deeper than MAX_JSON_DEPTH: 400), since PostgreSQL's jsonb or Python's recursion would otherwise turn them
into 500s. The capture views call read_json_object on the plain Django request; DRF views get the same reading
through core.parsers.JSONParser.
"""

from typing import IO, Any

from django.conf import settings
from django.core.exceptions import RequestDataTooBig

from core.errors import ApplicationError
from core.validation import json_loads


def too_large() -> ApplicationError:
    limit = settings.API_MAX_BODY_BYTES
    return ApplicationError(
        f"The body is larger than {limit} bytes; split it into smaller batches.",
        code="payload_too_large",
        status_code=413,
    )


def malformed(detail: str) -> ApplicationError:
    return ApplicationError(f"The body is not valid JSON: {detail}.", code="malformed_json")


def declared_length(meta: dict) -> int:
    """The Content-Length the client declared (0 when absent); 400 when it is not a number."""
    raw = meta.get("CONTENT_LENGTH") or "0"
    if not raw.isascii() or not raw.isdigit():
        raise ApplicationError("The Content-Length header must be a whole number of bytes.", code="invalid")
    return int(raw)


def read_limited(stream: IO[bytes], meta: dict) -> bytes:
    """At most API_MAX_BODY_BYTES of the body, or 413."""
    limit = settings.API_MAX_BODY_BYTES
    if declared_length(meta) > limit:
        raise too_large()
    body = stream.read(limit + 1)
    if len(body) > limit:
        raise too_large()
    return body


def _is_json(content_type: str) -> bool:
    content_type = content_type.lower()
    return content_type == "application/json" or content_type.endswith("+json")


def read_json_object(request) -> dict[str, Any]:
    """The request body as a JSON object, or ApplicationError with 413, 415 or 400."""
    data = read_json_body(request)
    if not isinstance(data, dict):
        raise ApplicationError("The body must be a JSON object.", code="invalid")
    return data


def read_json_body(request) -> Any:
    """The request body as any JSON value, or ApplicationError with 413, 415 or 400."""
    if not _is_json(request.content_type or ""):
        raise ApplicationError(
            "Send the body as JSON with 'Content-Type: application/json'.",
            code="unsupported_media_type",
            status_code=415,
        )
    if declared_length(request.META) > settings.API_MAX_BODY_BYTES:
        raise too_large()
    try:
        body = request.body
    except RequestDataTooBig as exc:
        raise too_large() from exc
    if len(body) > settings.API_MAX_BODY_BYTES:
        raise too_large()
    try:
        return json_loads(body)
    except ValueError as exc:
        raise malformed(str(exc)) from exc
