"""Capture endpoints (API.md, Capture): POST /feedback and the batch POST /ingest.

POST /interactions shares its URL with the list, so it lives in apis/interactions.py.
"""

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema

from core.errors import ApplicationError, error_body
from core.json_body import read_json_object
from core.lean_api import LeanApiView
from feedback.apis import openapi  # noqa: F401 - registers the API key scheme in the schema
from feedback.apis.capture_serializers import (
    ErrorSerializer,
    FeedbackInSerializer,
    FeedbackWrittenSerializer,
    IngestInSerializer,
    IngestResultSerializer,
)
from feedback.services.capture import ItemResult, capture_ingest

ERRORS = {
    code: OpenApiResponse(ErrorSerializer, description=text)
    for code, text in {
        400: "Malformed JSON or an invalid item.",
        401: "No API key, or a bad one.",
        403: "The key lacks the 'ingest' scope.",
        413: "The body is too large.",
        415: "The body is not JSON.",
    }.items()
}


def single_response(result: ItemResult) -> tuple[dict, int]:
    """One item's result as the answer of a single-item endpoint: the body on success, the error shape else."""
    if result.error is not None:
        error = result.error
        return error_body(error["code"], error["message"], error["fields"]), result.status
    body = result.as_dict()
    del body["status"]
    return body, result.status


class FeedbackCreateApi(LeanApiView):
    required_scope = "ingest"

    @extend_schema(
        operation_id="feedback_create",
        request=FeedbackInSerializer,
        responses={
            201: FeedbackWrittenSerializer,
            200: OpenApiResponse(FeedbackWrittenSerializer, description="A retry: the same id and content."),
            404: OpenApiResponse(ErrorSerializer, description="No such interaction in the project."),
            409: OpenApiResponse(ErrorSerializer, description="The id was used with other content."),
            **ERRORS,
        },
        summary="Record one feedback (thumbs, score, category, comment or correction) on an interaction.",
    )
    def post(self, request):
        item = read_json_object(request)
        result = capture_ingest(project_id=request.auth.project_id, interactions=[], feedback=[item])
        return single_response(result.feedback[0])


class IngestApi(LeanApiView):
    required_scope = "ingest"

    @extend_schema(
        operation_id="ingest_batch",
        request=IngestInSerializer,
        responses={207: IngestResultSerializer, **ERRORS},
        summary="Record a batch of interactions and feedback: one result per item, in order.",
    )
    def post(self, request):
        body = read_json_object(request)
        interactions, feedback = body.get("interactions", []), body.get("feedback", [])
        fields = {
            name: ["Must be a list."]
            for name in ("interactions", "feedback")
            if not isinstance(body.get(name, []), list)
        }
        if fields:
            raise ApplicationError("The batch is invalid; see fields.", fields=fields)
        limit = settings.API_MAX_BATCH_ITEMS
        if len(interactions) + len(feedback) > limit:
            raise ApplicationError(
                f"A batch holds at most {limit} items; split it.", code="payload_too_large", status_code=413
            )
        result = capture_ingest(project_id=request.auth.project_id, interactions=interactions, feedback=feedback)
        return {
            "interactions": [r.as_dict() for r in result.interactions],
            "feedback": [r.as_dict() for r in result.feedback],
        }, 207


urlpatterns = [
    path("feedback", FeedbackCreateApi.as_view(), name="feedback-create"),
    path("ingest", IngestApi.as_view(), name="ingest"),
]
