"""What the OpenAPI schema says of every operation, so that it describes what the API really answers.

A postprocessing hook of drf-spectacular (settings.SPECTACULAR_SETTINGS) adds, to every operation, the error
answers the shared machinery gives, in the one error shape of API.md: 401 and 403 (core/auth.py) on every
authenticated operation, 400 where there are query parameters or a body (invalid, malformed JSON, a bad cursor),
404 where the path has parameters (converters, then the objects of another project), 413 and 415 where there is a
body (core/json_body.py). Views document the rest (200s, 409s) themselves.
"""

from drf_spectacular.utils import OpenApiResponse, extend_schema

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message", "fields"],
            "properties": {
                "code": {"type": "string"},
                "message": {"type": "string"},
                "fields": {"type": "object", "additionalProperties": {"type": "array", "items": {"type": "string"}}},
            },
        }
    },
}
_TEXT = {
    400: "Invalid: see error.fields (or malformed JSON, or a cursor this list did not give out).",
    401: "No API key, or a bad one.",
    403: "The key lacks the scope.",
    404: "No such object in the key's project (or an id no object can have).",
    413: "The body is larger than the limit (5 MB).",
    415: "The body is not JSON.",
}


# Operations whose body is required although no field of it is: apps add their operation ids (a lean capture view
# reads its body itself, so DRF cannot tell).
BODY_REQUIRED: set[str] = set()


def error_responses(result: dict, generator, request, public) -> dict:
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas["Error"] = ERROR_SCHEMA
    reference = {"$ref": "#/components/schemas/Error"}
    for path, operations in result.get("paths", {}).items():
        for operation in operations.values():
            statuses = set()
            if operation.get("security") != [{}] and operation.get("security") is not None:
                statuses |= {401, 403}
            parameters = operation.get("parameters", [])
            if any(p["in"] == "query" for p in parameters) or "requestBody" in operation:
                statuses.add(400)
            if "{" in path:
                statuses.add(404)
            if operation.get("operationId") in BODY_REQUIRED and "requestBody" in operation:
                operation["requestBody"]["required"] = True
            if "requestBody" in operation:
                statuses |= {400, 413, 415}
            responses = operation.setdefault("responses", {})
            # An operation that answers errors in a shape of its own (OTLP's google.rpc.Status) keeps it for all.
            own = next(
                (r["content"] for code, r in sorted(responses.items()) if code[0] == "4" and "content" in r), None
            )
            if own is not None and "ErrorSerializer" not in str(own) and "Error" not in str(own):
                content = own
            else:
                content = {"application/json": {"schema": reference}}
            for status in sorted(statuses):
                responses.setdefault(str(status), {"description": _TEXT[status]})
            for status, response in responses.items():
                if status.startswith("4") and (content is not own or "content" not in response):
                    response["content"] = content
    return result


def documented(
    operation_id: str, summary: str, response: dict, *, not_found: str, error_serializer, request=None, **extra
):
    """extend_schema for an operation of a DRF API: its own answers plus the shared 400/401/403 and its 404."""
    errors = {**{status: _TEXT[status] for status in (400, 401, 403)}, 404: not_found}
    responses = {status: OpenApiResponse(error_serializer, description=text) for status, text in errors.items()}
    return extend_schema(
        operation_id=operation_id, summary=summary, request=request, responses={**response, **responses}, **extra
    )
