"""The capture hot path: API views whose write methods skip DRF's request machinery.

Capture takes one request per AI output or judgement (API.md, Capture), so its fixed cost per request is the
product's ceiling. DRF's dispatch (the Request wrapper, content negotiation, renderers, authentication and
permission classes) costs about as much as the capture write itself. A `LeanApiView` answers its `lean_methods`
with the same key authentication, scopes and error shape, on the plain Django request: the handler gets
`request.auth` set and returns `(body, status)`, which is rendered as a JsonResponse. Other methods (a GET beside a
POST) take DRF's usual path. The class stays a DRF APIView, so drf-spectacular documents it as any other.
"""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, HttpResponse, JsonResponse
from rest_framework import exceptions
from rest_framework.views import APIView

from core.auth import ApiKeyAuthentication, HasApiKey
from core.errors import DATABASE_UNAVAILABLE, ApplicationError, exception_handler
from core.ratelimit import rate_limit_check


class LeanApiView(APIView):
    lean_methods = frozenset({"POST"})
    lean_authentication = ApiKeyAuthentication

    def dispatch(self, request, *args, **kwargs):
        if request.method not in self.lean_methods:
            return super().dispatch(request, *args, **kwargs)
        try:
            authenticated = self.lean_authentication().authenticate(request)
            request.auth = authenticated[1] if authenticated else None
            HasApiKey().has_permission(request, self)
            rate_limit_check(request.auth)
            body, status = getattr(self, request.method.lower())(request, *args, **kwargs)
        except (ApplicationError, DjangoValidationError, exceptions.APIException, Http404, PermissionDenied) as exc:
            return _error(exc)
        except DATABASE_UNAVAILABLE as exc:  # a 503 with Retry-After (core.errors), not a 500
            return _error(exc)
        return JsonResponse(body, status=status)


def _error(exc: Exception) -> HttpResponse:
    """The error shape of core.errors.exception_handler, rendered without DRF's negotiation."""
    response = exception_handler(exc, {})
    headers = {name: value for name, value in response.items() if name.lower() != "content-type"}
    if isinstance(exc, exceptions.NotAuthenticated | exceptions.AuthenticationFailed):
        # As DRF answers a 401: the scheme the client should use.
        headers["WWW-Authenticate"] = ApiKeyAuthentication.keyword
    return JsonResponse(response.data, status=response.status_code, headers=headers)
