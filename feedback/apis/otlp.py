"""OTLP/HTTP traces in (API.md, Connect): POST /v1/traces and /api/public/otel/v1/traces (the Langfuse SDK's path).

As the OpenTelemetry protocol specifies: `application/x-protobuf` or `application/json` (the OTLP JSON mapping,
hex trace and span ids), optionally gzip; the answer is an ExportTraceServiceResponse in the request's encoding,
with partial_success when spans were rejected; a malformed request gets 400 with a google.rpc.Status, an unknown
content type 415. Decoding uses the OpenTelemetry project's own protobuf classes (opentelemetry-proto).
"""

import base64
import binascii
import json
import zlib

from django.conf import settings
from django.http import HttpResponse
from django.urls import path
from django.views.decorators.csrf import csrf_exempt
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, extend_schema_view
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from google.rpc import status_pb2
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from rest_framework import exceptions
from rest_framework.views import APIView

from core.auth import ApiKeyAuthentication, ApiKeyOrBasicAuthentication, HasApiKey
from feedback.apis import openapi  # noqa: F401 - registers the key schemes in the schema
from feedback.services.connect_traces import otlp_traces_ingest

PROTOBUF, JSON = "application/x-protobuf", "application/json"
_ID_FIELDS = {"traceId": 16, "spanId": 8, "parentSpanId": 8}
# google.rpc.Code values for the statuses we answer.
_RPC_CODES = {400: 3, 401: 16, 403: 7, 413: 8, 415: 3, 405: 12}


class OtlpError(Exception):
    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status, self.message = status, message


def _render(message, content_type: str, status: int = 200, headers: dict | None = None) -> HttpResponse:
    if content_type == JSON:
        body = json_format.MessageToJson(message, indent=None).encode()
    else:
        body = message.SerializeToString()
    return HttpResponse(body, status=status, content_type=content_type, headers=headers)


def _status(status: int, message: str, content_type: str) -> HttpResponse:
    rpc = status_pb2.Status(code=_RPC_CODES.get(status, 2), message=message)
    headers = {"WWW-Authenticate": 'Basic realm="goldloop", Bearer'} if status == 401 else None
    return _render(rpc, content_type, status, headers)


def _body(request) -> bytes:
    """The body, decompressed, within settings.OTLP_MAX_BODY_BYTES (both as sent and decompressed).

    OTLP has a limit of its own, above the JSON API's: an SDK exports 512 spans at a time, and spans that carry whole
    conversations make batches of several megabytes; a 413 would make the exporter drop them. The body is read from
    the stream, past Django's DATA_UPLOAD_MAX_MEMORY_SIZE (which is sized for the JSON API)."""
    limit = settings.OTLP_MAX_BODY_BYTES
    try:
        declared = int(request.META.get("CONTENT_LENGTH") or 0)
    except ValueError:
        declared = 0
    if declared > limit:
        raise OtlpError(413, f"The body is larger than {limit} bytes; export smaller batches.")
    body = request.read(limit + 1)
    if len(body) > limit:
        raise OtlpError(413, f"The body is larger than {limit} bytes; export smaller batches.")
    encoding = request.META.get("HTTP_CONTENT_ENCODING", "").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise OtlpError(415, f"Content-Encoding '{encoding}' is not supported; send gzip or none.")
    # Bounded: a small gzip body must not expand into gigabytes.
    inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        data = inflater.decompress(body, limit)
    except zlib.error as exc:
        raise OtlpError(400, f"The body is not valid gzip: {exc}.") from exc
    if inflater.unconsumed_tail:
        raise OtlpError(413, f"The decompressed body is larger than {limit} bytes; export smaller batches.")
    return data


def _hex_ids_to_base64(node) -> None:
    """OTLP JSON spells trace and span ids in hex; protobuf's JSON mapping reads bytes as base64."""
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                try:
                    raw = bytes.fromhex(value)
                except ValueError as exc:
                    raise OtlpError(400, f"'{key}' must be hex, got '{value[:40]}'.") from exc
                node[key] = base64.b64encode(raw).decode()
            elif isinstance(value, (dict, list)):
                _hex_ids_to_base64(value)
    elif isinstance(node, list):
        for value in node:
            _hex_ids_to_base64(value)


def parse_export_request(data: bytes, content_type: str) -> ExportTraceServiceRequest:
    message = ExportTraceServiceRequest()
    if content_type == PROTOBUF:
        try:
            message.ParseFromString(data)
        except (DecodeError, RecursionError) as exc:
            raise OtlpError(400, f"The body is not a valid ExportTraceServiceRequest: {exc}.") from exc
        return message
    try:
        document = json.loads(data)
    except (ValueError, RecursionError) as exc:
        raise OtlpError(400, f"The body is not valid JSON: {exc}.") from exc
    if not isinstance(document, dict):
        raise OtlpError(400, "The body must be a JSON object (an ExportTraceServiceRequest).")
    try:
        _hex_ids_to_base64(document)
        json_format.ParseDict(document, message, ignore_unknown_fields=True)
    except (json_format.ParseError, binascii.Error, ValueError, TypeError, RecursionError) as exc:
        raise OtlpError(400, f"The body is not a valid ExportTraceServiceRequest: {exc}.") from exc
    return message


class OtlpTracesApi(APIView):
    """OTLP answers in its own shapes (ExportTraceServiceResponse, google.rpc.Status), not the API's error shape."""

    required_scope = "ingest"
    authentication_classes = [ApiKeyAuthentication, ApiKeyOrBasicAuthentication]  # the schema; dispatch authenticates

    @extend_schema(
        operation_id="otlp_traces_export",
        request={PROTOBUF: OpenApiTypes.BINARY, JSON: OpenApiTypes.OBJECT},
        responses={
            200: OpenApiResponse(
                OpenApiTypes.OBJECT,
                description="ExportTraceServiceResponse in the request's encoding; partialSuccess lists rejected"
                " spans. Header X-Goldloop-Spans-Skipped: spans that are not LLM calls.",
            ),
            400: OpenApiResponse(OpenApiTypes.OBJECT, description="google.rpc.Status: a malformed request."),
            401: OpenApiResponse(OpenApiTypes.OBJECT, description="google.rpc.Status: no key or a bad one."),
            403: OpenApiResponse(OpenApiTypes.OBJECT, description="google.rpc.Status: the key lacks 'ingest'."),
            415: OpenApiResponse(OpenApiTypes.OBJECT, description="Neither protobuf nor JSON."),
        },
        summary="OTLP/HTTP trace export: each LLM span becomes an interaction (id: the span id in hex).",
    )
    def post(self, request):  # documentation only; dispatch answers POST
        raise NotImplementedError

    def dispatch(self, request, *args, **kwargs):
        content_type = (request.content_type or "").lower()
        answer_type = JSON if content_type == JSON else PROTOBUF
        if request.method != "POST":
            return _status(405, "Use POST.", answer_type)
        try:
            if content_type not in (PROTOBUF, JSON):
                raise OtlpError(415, "Send application/x-protobuf or application/json (OTLP/HTTP).")
            try:
                authenticated = ApiKeyOrBasicAuthentication().authenticate(request)
                request.auth = authenticated[1] if authenticated else None
                HasApiKey().has_permission(request, self)
            except exceptions.APIException as exc:
                raise OtlpError(exc.status_code, str(exc.detail)) from exc
            export = parse_export_request(_body(request), content_type)
        except OtlpError as exc:
            return _status(exc.status, exc.message, answer_type)
        result = otlp_traces_ingest(project_id=request.auth.project_id, request=export)
        response = ExportTraceServiceResponse()
        if result.rejected:
            response.partial_success.rejected_spans = result.rejected
            response.partial_success.error_message = "; ".join(result.errors)
        headers = {"X-Goldloop-Spans-Skipped": str(result.skipped), "X-Goldloop-Spans-Accepted": str(result.accepted)}
        return _render(response, answer_type, 200, headers)


@extend_schema_view(post=extend_schema(operation_id="otlp_traces_export_langfuse_path"))
class LangfuseOtlpTracesApi(OtlpTracesApi):
    """The same endpoint at the path the Langfuse SDK exports to (its own operation id in the schema)."""


# Mounted at the root (config/urls.py): OTLP exporters append /v1/traces to their base endpoint.
urlpatterns = [
    path("v1/traces", csrf_exempt(OtlpTracesApi.as_view()), name="otlp-traces"),
    path("api/public/otel/v1/traces", csrf_exempt(LangfuseOtlpTracesApi.as_view()), name="otlp-traces-langfuse"),
]
