"""The API key scheme in the OpenAPI schema, so that /api/docs/ offers 'Authorize' with a bearer key.

Registered by being imported (drf-spectacular collects extension subclasses); apis/capture.py imports it.
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension

from core.openapi import BODY_REQUIRED

BODY_REQUIRED.update({"interactions_create", "feedback_create", "ingest_batch"})


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "core.auth.ApiKeyAuthentication"
    name = "ApiKey"

    def get_security_definition(self, auto_schema):
        return {
            "type": "http",
            "scheme": "bearer",
            "description": "A project API key: `Authorization: Bearer gl_...` (manage.py create_api_key).",
        }
