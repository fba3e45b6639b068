"""Interaction endpoints: POST /interactions (capture, scope ingest), GET list and detail (scope read)."""

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from core.json_body import read_json_object
from core.lean_api import LeanApiView
from core.pagination import PAGE_PARAMETERS, CursorPagination, page_of
from feedback.apis.capture import ERRORS, single_response
from feedback.apis.capture_serializers import (
    ErrorSerializer,
    InteractionDetailSerializer,
    InteractionFilterSerializer,
    InteractionInSerializer,
    InteractionOutSerializer,
    InteractionWrittenSerializer,
)
from feedback.selectors.interactions import interaction_get, interaction_list
from feedback.services.capture import capture_ingest


class InteractionCollectionApi(LeanApiView):
    required_scope = {"GET": "read", "POST": "ingest", "*": "read"}

    @extend_schema(
        operation_id="interactions_list",
        parameters=[InteractionFilterSerializer, *PAGE_PARAMETERS],
        responses={200: page_of(InteractionOutSerializer, "Interaction")},
        summary="The project's interactions, newest first, filtered; cursor-paginated.",
    )
    def get(self, request):
        filters = InteractionFilterSerializer(data=request.query_params)
        filters.is_valid(raise_exception=True)
        queryset = interaction_list(project_id=request.auth.project_id, **filters.validated_data)
        paginator = CursorPagination()
        page = paginator.paginate_queryset(queryset, request, view=self)
        return paginator.get_paginated_response(InteractionOutSerializer(page, many=True).data)

    @extend_schema(
        operation_id="interactions_create",
        request=InteractionInSerializer,
        responses={
            201: InteractionWrittenSerializer,
            200: OpenApiResponse(InteractionWrittenSerializer, description="A retry: the same id and content."),
            409: OpenApiResponse(ErrorSerializer, description="The id was used with other content."),
            **ERRORS,
        },
        summary="Record one AI output (idempotent by id).",
    )
    def post(self, request):
        item = read_json_object(request)
        result = capture_ingest(project_id=request.auth.project_id, interactions=[item], feedback=[])
        return single_response(result.interactions[0])


class InteractionDetailApi(APIView):
    required_scope = "read"

    @extend_schema(
        operation_id="interactions_retrieve",
        responses={200: InteractionDetailSerializer, 404: ErrorSerializer},
        summary="One interaction by its id, with its latest 100 feedback and its reviews.",
    )
    def get(self, request, external_id: str):
        interaction = interaction_get(project_id=request.auth.project_id, external_id=external_id)
        return Response(InteractionDetailSerializer(interaction).data)


urlpatterns = [
    path("interactions", InteractionCollectionApi.as_view(), name="interactions"),
    path("interactions/<key:external_id>", InteractionDetailApi.as_view(), name="interaction-detail"),
]
