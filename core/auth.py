"""Authentication by project API key (`Authorization: Bearer <key>`) and scope checks.

core knows nothing of the apps: the lookup of a key is the callable named by settings.API_KEY_RESOLVER,
which takes the raw key and returns an object with `.project` and `.scopes`, or None.
"""

import base64
import binascii
from functools import cache

from django.conf import settings
from django.utils.module_loading import import_string
from rest_framework import authentication, exceptions, permissions


@cache
def _resolver():
    return import_string(settings.API_KEY_RESOLVER)


class ApiKeyAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        # META rather than DRF's get_authorization_header, which builds request.headers (all of them) to read one.
        header = request.META.get("HTTP_AUTHORIZATION", "")
        if not header:
            return None
        scheme, _, raw_key = header.partition(" ")
        if scheme != self.keyword or not raw_key.strip():
            raise exceptions.AuthenticationFailed("Send the API key as 'Authorization: Bearer <key>'.")
        api_key = _resolver()(raw_key.strip())
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key is unknown or revoked.")
        return (None, api_key)

    def authenticate_header(self, request) -> str:
        return self.keyword


class ApiKeyOrBasicAuthentication(ApiKeyAuthentication):
    """Also HTTP Basic with the key as the password, as the Langfuse SDK and OTLP exporters configured for Langfuse
    send it (`public-key:secret-key`; the user name is not checked)."""

    def authenticate(self, request):
        header = request.META.get("HTTP_AUTHORIZATION", "")
        scheme, _, credentials = header.partition(" ")
        if scheme.lower() != "basic":
            return super().authenticate(request)
        try:
            _, _, raw_key = base64.b64decode(credentials.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise exceptions.AuthenticationFailed("The Basic credentials are not valid base64 of 'user:key'.") from exc
        api_key = _resolver()(raw_key.strip()) if raw_key.strip() else None
        if api_key is None:
            raise exceptions.AuthenticationFailed("The API key (the Basic password) is unknown or revoked.")
        return (None, api_key)


class HasApiKey(permissions.BasePermission):
    """Every API view needs a valid key; views name the scope they need in `required_scope`."""

    def has_permission(self, request, view) -> bool:
        api_key = request.auth
        if api_key is None:
            raise exceptions.NotAuthenticated("Send an API key as 'Authorization: Bearer <key>'.")
        scope = getattr(view, "required_scope", None)
        if isinstance(scope, dict):
            scope = scope.get(request.method, scope.get("*"))
        if scope and scope not in api_key.scopes:
            raise exceptions.PermissionDenied(f"This API key lacks the '{scope}' scope.")
        return True
