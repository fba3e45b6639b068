"""The API key scheme in the OpenAPI schema, so that /api/docs/ offers 'Authorize' with a bearer key.

Registered by being imported (drf-spectacular collects extension subclasses); apis/capture.py imports it.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "core.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A project API key: `Authorization: Bearer gl_...` (manage.py create_api_key).",
        }


class ApiKeyOrBasicAuthenticationScheme(OpenApiAuthenticationExtension):
    """The Connect endpoints also take HTTP Basic with the key as the password (the Langfuse SDK's way); their views
    list [ApiKeyAuthentication, ApiKeyOrBasicAuthentication] for the schema, so either scheme is offered."""

    target_class = "core.auth.ApiKeyOrBasicAuthentication"
    name = "ApiKeyAsBasicPassword"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "basic",
            "description": "HTTP Basic: any user name (e.g. a Langfuse public key), the API key as the password.",
        }
