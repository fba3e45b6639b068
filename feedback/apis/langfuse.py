"""Langfuse's score endpoints (API.md, Connect), so that the Langfuse SDK's create_score lands in goldloop.

POST /api/public/scores takes one score (answered 200 {"id"}, as Langfuse's single-score call) or the array the
current SDK batches (202 {"message": "Accepted"} when all were taken, else 207 {"accepted", "rejected",
"errors"}). POST /api/public/ingestion takes the legacy event batch; its score-create events are recorded, 207
{"successes", "errors"}. A score kept until its trace arrives counts as accepted.
GET /api/public/projects answers the SDK's auth_check() with the key's project.
"""

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers

from core.auth import ApiKeyAuthentication, ApiKeyOrBasicAuthentication
from core.errors import ApplicationError, error_body
from core.lean_api import LeanApiView
from feedback.apis.capture import ERRORS
from feedback.apis.json_body import read_json_body
from feedback.services.connect_scores import scores_ingest


class ScoreInSerializer(serializers.Serializer):
    id = serializers.CharField(required=False, help_text="The score id: goldloop's idempotency key.")
    traceId = serializers.CharField(help_text="The OTel trace id (32 hex).")  # noqa: N815 - Langfuse's names
    observationId = serializers.CharField(required=False, help_text="A span id (16 hex).")  # noqa: N815
    name = serializers.CharField()
    value = serializers.JSONField(help_text="A number (NUMERIC, BOOLEAN 1/0) or a string.")
    dataType = serializers.ChoiceField(  # noqa: N815
        choices=["NUMERIC", "BOOLEAN", "CATEGORICAL", "TEXT", "CORRECTION"], required=False
    )
    comment = serializers.CharField(required=False)
    metadata = serializers.DictField(required=False)
    timestamp = serializers.DateTimeField(required=False)


class IngestionEventSerializer(serializers.Serializer):
    id = serializers.CharField()
    timestamp = serializers.DateTimeField()
    type = serializers.ChoiceField(choices=["score-create"])
    body = ScoreInSerializer()


_BATCH_RESULT = inline_serializer(
    "LangfuseScoreBatchResult",
    {
        "accepted": serializers.IntegerField(),
        "rejected": serializers.IntegerField(),
        "errors": serializers.ListField(child=serializers.DictField()),
    },
)
_INGESTION_RESULT = inline_serializer(
    "LangfuseIngestionResult",
    {
        "successes": serializers.ListField(child=serializers.DictField(), help_text="{id, status}"),
        "errors": serializers.ListField(child=serializers.DictField(), help_text="{id, status, message}"),
    },
)


def _check_size(items: list) -> None:
    limit = settings.API_MAX_BATCH_ITEMS
    if len(items) > limit:
        message = f"A batch holds at most {limit} items; split it."
        raise ApplicationError(message, code="payload_too_large", status_code=413)


def _message(result) -> str:
    error = result.error or {}
    fields = "; ".join(f"{k}: {' '.join(v)}" for k, v in (error.get("fields") or {}).items())
    return f"{error.get('message', 'rejected')} {fields}".strip()


class ScoresApi(LeanApiView):
    required_scope = "ingest"
    lean_authentication = ApiKeyOrBasicAuthentication
    authentication_classes = [ApiKeyAuthentication, ApiKeyOrBasicAuthentication]  # as the schema shows them

    @extend_schema(
        operation_id="langfuse_scores_create",
        request=ScoreInSerializer(many=True),
        responses={
            200: OpenApiResponse(description='One score (an object) recorded or kept: {"id"}.'),
            202: OpenApiResponse(description='Every score of the array recorded or kept: {"message": "Accepted"}.'),
            207: OpenApiResponse(_BATCH_RESULT, description="Some scores were rejected."),
            **ERRORS,
        },
        summary="Langfuse scores (one object or an array) as feedback on the trace's or observation's interaction.",
    )
    def post(self, request):
        body = read_json_body(request)
        single = isinstance(body, dict)
        scores = [body] if single else body
        if not isinstance(scores, list):
            raise ApplicationError("Send a score object or an array of scores.")
        _check_size(scores)
        results = scores_ingest(project_id=request.auth.project_id, scores=scores)
        if single:
            result = results[0]
            if result.error is not None:
                return error_body(result.error["code"], _message(result), result.error["fields"]), result.status
            return {"id": result.id}, 200
        errors = [{"message": f"{r.id or f'item {i}'}: {_message(r)}"} for i, r in enumerate(results) if r.error]
        if not errors:
            return {"message": "Accepted"}, 202
        return {"accepted": len(results) - len(errors), "rejected": len(errors), "errors": errors}, 207


class IngestionApi(LeanApiView):
    required_scope = "ingest"
    lean_authentication = ApiKeyOrBasicAuthentication
    authentication_classes = [ApiKeyAuthentication, ApiKeyOrBasicAuthentication]  # as the schema shows them

    @extend_schema(
        operation_id="langfuse_ingestion",
        request=inline_serializer("LangfuseIngestionBatch", {"batch": IngestionEventSerializer(many=True)}),
        responses={207: _INGESTION_RESULT, **ERRORS},
        summary="Langfuse's event batch: score-create events become feedback; other event types are refused.",
    )
    def post(self, request):
        body = read_json_body(request)
        batch = body.get("batch") if isinstance(body, dict) else None
        if not isinstance(batch, list):
            raise ApplicationError('Send {"batch": [...events]}.', fields={"batch": ["Must be a list."]})
        _check_size(batch)
        successes, errors, scores, event_ids = [], [], [], []
        for position, event in enumerate(batch):
            event_id = event.get("id") if isinstance(event, dict) else None
            event_id = event_id if isinstance(event_id, str) else f"item {position}"
            if not isinstance(event, dict) or event.get("type") != "score-create":
                kind = event.get("type") if isinstance(event, dict) else None
                message = f"Event type '{kind}' is not taken here; send traces as OTLP to /api/public/otel/v1/traces."
                errors.append({"id": event_id, "status": 400, "message": message})
                continue
            scores.append(event.get("body"))
            event_ids.append(event_id)
        results = scores_ingest(project_id=request.auth.project_id, scores=scores) if scores else []
        for event_id, result in zip(event_ids, results, strict=True):
            if result.error is None:
                successes.append({"id": event_id, "status": 201 if result.status in (201, 202) else 200})
            else:
                errors.append({"id": event_id, "status": result.status, "message": _message(result)})
        return {"successes": successes, "errors": errors}, 207


class ProjectsApi(LeanApiView):
    """The key's project, in Langfuse's shape: the SDK's auth_check() reads it."""

    lean_methods = frozenset({"GET"})
    lean_authentication = ApiKeyOrBasicAuthentication
    authentication_classes = [ApiKeyAuthentication, ApiKeyOrBasicAuthentication]  # as the schema shows them

    @extend_schema(
        operation_id="langfuse_projects",
        responses={
            200: inline_serializer("LangfuseProjects", {"data": serializers.ListField(child=serializers.DictField())})
        },
        summary="The API key's project, as Langfuse lists projects (the SDK's auth_check).",
    )
    def get(self, request):
        project = request.auth.project
        organization = {"id": "goldloop", "name": "goldloop"}
        return {"data": [{"id": project.slug, "name": project.name, "organization": organization, "metadata": {}}]}, 200


urlpatterns = [
    path("api/public/projects", ProjectsApi.as_view(), name="langfuse-projects"),
    path("api/public/scores", ScoresApi.as_view(), name="langfuse-scores"),
    path("api/public/ingestion", IngestionApi.as_view(), name="langfuse-ingestion"),
]
