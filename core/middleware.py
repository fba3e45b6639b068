"""The first middleware of every request: refuses what no view should see, and keeps /api/ answering JSON.

- A Content-Length that is not a number is a 400 (Django's request.body would raise ValueError: a 500).
- A NUL in the query string is a 400 (PostgreSQL refuses NUL in text; no filter of the admin or the API means it).
- Under /api/, a query parameter the OpenAPI schema does not name for the operation is a 400 (a typo such as
  `?modle=` would otherwise be silently ignored; the schema, built once per process, is the list of what is known).
- Under /api/, an error that Django answered with an HTML page (its 404 for an unknown path, the debug pages of
  DEBUG, a 500 of an uncaught exception, a 400 of a suspicious request) becomes the error shape of API.md with its
  status; other answers (JSON, OTLP's protobuf status) are the views' own. Set API_DEBUG_PAGES to see Django's debug
  pages under /api/ again (DEBUG must be on as well).
"""

import logging
import re
from functools import cache

from django.conf import settings
from django.http import HttpResponseBadRequest

from core.errors import _CODES, error_response

logger = logging.getLogger(__name__)
API_PREFIX = "/api/"
_MESSAGES = {
    400: "The request is malformed.",
    404: "No such endpoint; see /api/docs/.",
    405: "This endpoint does not take this method.",
    413: "The body is too large.",
    500: "Something went wrong on our side; retry later.",
    503: "The service is unavailable for a moment; retry later.",
}


def _error(status: int, message: str | None = None, fields: dict | None = None):
    code = _CODES.get(status, "server_error" if status >= 500 else "error")
    return error_response(code, message or _MESSAGES.get(status, "The request failed."), status, fields)


@cache
def _query_parameters() -> dict[tuple[str, str], frozenset[str]]:
    """{(schema path, method): the query parameters the schema names}, from drf-spectacular's own generator."""
    from drf_spectacular.generators import SchemaGenerator

    try:
        schema = SchemaGenerator().get_schema(request=None, public=True)
    except Exception:  # the check is a courtesy: never let it stop the API
        logger.exception("Cannot build the OpenAPI schema; unknown query parameters are not checked.")
        return {}
    known = {}
    for path, operations in schema.get("paths", {}).items():
        for method, operation in operations.items():
            names = {p["name"] for p in operation.get("parameters", []) if p.get("in") == "query"}
            known[(path, method.upper())] = frozenset(names)
    return known


def _schema_path(route: str) -> str:
    return "/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route)


class RequestGuardMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        is_api = request.path_info.startswith(API_PREFIX)
        refusal = self._refusal(request, is_api)
        if refusal is not None:
            return refusal
        response = self.get_response(request)
        if is_api and response.status_code >= 400 and _is_html(response):
            if not (settings.DEBUG and getattr(settings, "API_DEBUG_PAGES", False)):
                headers = {name: response[name] for name in ("Allow", "Retry-After") if response.has_header(name)}
                response = _error(response.status_code)
                for name, value in headers.items():
                    response[name] = value
        return response

    def process_view(self, request, view_func, view_args, view_kwargs):
        if not request.META.get("QUERY_STRING") or not request.path_info.startswith(API_PREFIX):
            return None
        match = request.resolver_match
        known = _query_parameters().get((_schema_path(match.route if match else ""), request.method))
        if known is None:  # not an operation of the schema (the schema and docs pages themselves)
            return None
        unknown = sorted(set(request.GET) - known)
        if unknown:
            fields = {name: ["Unknown parameter; see /api/docs/."] for name in unknown}
            return _error(400, "The query string has parameters this endpoint does not take.", fields)
        return None

    def _refusal(self, request, is_api: bool):
        length = request.META.get("CONTENT_LENGTH") or "0"
        if not (length.isascii() and length.isdigit()):
            message = "The Content-Length header must be a whole number of bytes."
            return _error(400, message) if is_api else HttpResponseBadRequest(message)
        query = request.META.get("QUERY_STRING", "")
        if "%00" in query or "\x00" in query:
            message = "NUL characters are not allowed in the query string."
            return _error(400, message) if is_api else HttpResponseBadRequest(message)
        return None


def _is_html(response) -> bool:
    return response.get("Content-Type", "").startswith("text/html")
