"""One error shape for the whole API: {"error": {"code", "message", "fields"}} (../shared/API.md, Errors)."""

import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import InterfaceError, OperationalError
from django.http import Http404, JsonResponse
from rest_framework import exceptions
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

logger = logging.getLogger(__name__)
# The database went away (restart, failover, connections exhausted, a statement timeout): not the client's fault,
# and worth retrying, so a 503 with Retry-After rather than a 500.
DATABASE_UNAVAILABLE = (OperationalError, InterfaceError)


class ApplicationError(Exception):
    """A business rule refused the operation. Services raise it; the API renders it."""

    def __init__(self, message: str, *, code: str = "invalid", status_code: int = 400, fields: dict | None = None):
        super().__init__(message)
        self.message = message
        self.code = code
        self.status_code = status_code
        self.fields = fields or {}


def error_body(code: str, message: str, fields: dict | None = None) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, "fields": fields or {}}}


def error_response(code: str, message: str, status_code: int, fields: dict | None = None) -> JsonResponse:
    """For plain Django views (health check, handlers outside DRF)."""
    return JsonResponse(error_body(code, message, fields), status=status_code)


def _flatten(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """DRF validation details, nested or not, as {"field.sub": ["problem", ...]}."""
    fields: dict[str, list[str]] = {}
    if isinstance(detail, dict):
        for key, value in detail.items():
            name = f"{prefix}.{key}" if prefix else str(key)
            if key == "non_field_errors":
                name = prefix or "non_field_errors"
            fields.update(_flatten(value, name))
    elif isinstance(detail, list):
        if all(not isinstance(item, (dict, list)) for item in detail):
            fields.setdefault(prefix or "non_field_errors", []).extend(str(item) for item in detail)
        else:
            for index, item in enumerate(detail):
                fields.update(_flatten(item, f"{prefix}[{index}]"))
    else:
        fields.setdefault(prefix or "non_field_errors", []).append(str(detail))
    return fields


_CODES = {
    400: "invalid",
    401: "not_authenticated",
    403: "permission_denied",
    404: "not_found",
    405: "method_not_allowed",
    406: "not_acceptable",
    409: "conflict",
    413: "payload_too_large",
    415: "unsupported_media_type",
    429: "rate_limited",
}


def validation_fields(exc: DjangoValidationError) -> dict[str, list[str]]:
    if hasattr(exc, "error_dict"):
        return {key: [str(m) for e in errors for m in e.messages] for key, errors in exc.error_dict.items()}
    return {"non_field_errors": list(exc.messages)}


def database_unavailable(exc: Exception) -> Response:
    logger.warning("Database unavailable: %s: %s", type(exc).__name__, exc)
    set_rollback()
    body = error_body("unavailable", "The database is unavailable; retry after the time in Retry-After.")
    return Response(body, status=503, headers={"Retry-After": str(settings.API_RETRY_AFTER_SECONDS)})


def exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DATABASE_UNAVAILABLE):
        return database_unavailable(exc)
    if isinstance(exc, ApplicationError):
        return Response(error_body(exc.code, exc.message, exc.fields), status=exc.status_code)
    if isinstance(exc, DjangoValidationError):
        fields = validation_fields(exc)
        return Response(error_body("invalid", "The request is invalid; see fields.", fields), status=400)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()

    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    code = _CODES.get(response.status_code, "error")
    if isinstance(exc, exceptions.ValidationError):
        message = "The request is invalid; see fields."
        fields = _flatten(exc.detail)
    elif isinstance(exc, exceptions.ParseError):
        code, message, fields = "malformed_json", f"The body is not valid JSON: {exc.detail}", {}
    else:
        message = str(exc.detail) if hasattr(exc, "detail") else str(exc)
        fields = {}
    if isinstance(exc, exceptions.UnsupportedMediaType):
        message = "Send the body as JSON with 'Content-Type: application/json'."
    response.data = error_body(code, message, fields)
    return response
