"""Cluster endpoints: similar failures, clusters with their members, and clustering runs (API.md, Reading)."""

from django.urls import path
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ApplicationError
from core.pagination import CursorPagination
from feedback.apis.capture_serializers import ErrorSerializer, InteractionOutSerializer
from feedback.selectors.clusters import (
    cluster_get,
    cluster_list,
    cluster_members,
    clustering_run_get,
    interaction_embedding,
    representative_external_ids,
    similar_failures,
)
from feedback.selectors.interactions import interaction_of_project
from feedback.services.clustering import clustering_run_start


class SimilarQuerySerializer(serializers.Serializer):
    k = serializers.IntegerField(required=False, default=10, min_value=1, max_value=100)


class SimilarOutSerializer(InteractionOutSerializer):
    distance = serializers.FloatField(help_text="Cosine distance (0 = same direction, 2 = opposite).")


class ClusterOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    label = serializers.CharField()
    keywords = serializers.ListField(child=serializers.CharField())
    size = serializers.IntegerField()
    size_previous_run = serializers.IntegerField()
    growth = serializers.IntegerField(help_text="Size minus the size after the previous run.")
    members_last_24h = serializers.IntegerField()
    members_last_7d = serializers.IntegerField()
    first_seen = serializers.DateTimeField(allow_null=True)
    last_seen = serializers.DateTimeField(allow_null=True)
    is_active = serializers.BooleanField()
    representatives = serializers.SerializerMethodField(help_text="Ids of the failures nearest to its centre.")
    updated_at = serializers.DateTimeField()

    def get_representatives(self, cluster) -> list[str]:
        names = self.context["representatives"]
        return [names[pk] for pk in cluster.representative_ids if pk in names]


class RunOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.CharField()
    progress = serializers.FloatField()
    stage = serializers.CharField()
    counts = serializers.JSONField()
    timings = serializers.JSONField()
    error = serializers.CharField()
    created_at = serializers.DateTimeField()
    started_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)


class ClusterPagination(CursorPagination):
    ordering = ("-size", "-id")


class MemberPagination(CursorPagination):
    page_size = 20


def _clusters_data(clusters) -> list[dict]:
    context = {"representatives": representative_external_ids(clusters=clusters)}
    return ClusterOutSerializer(clusters, many=True, context=context).data


class SimilarApi(APIView):
    required_scope = "read"

    @extend_schema(
        operation_id="interactions_similar",
        parameters=[SimilarQuerySerializer],
        responses={
            200: SimilarOutSerializer(many=True),
            404: ErrorSerializer,
            409: OpenApiResponse(ErrorSerializer, description="Not embedded yet (not a failure, or just arrived)."),
        },
        summary="The nearest failures of the project to this interaction, by embedding, with cosine distance.",
    )
    def get(self, request, external_id: str):
        query = SimilarQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        interaction = interaction_of_project(project_id=request.auth.project_id, external_id=external_id)
        if interaction_embedding(interaction=interaction) is None:
            raise ApplicationError(
                "This interaction has no embedding yet: only failures are embedded, a few seconds after their "
                "negative feedback arrives. Try again shortly.",
                code="not_embedded",
                status_code=409,
            )
        pairs = similar_failures(interaction=interaction, k=query.validated_data["k"])
        for neighbour, distance in pairs:
            neighbour.distance = distance
        return Response({"results": SimilarOutSerializer([n for n, _ in pairs], many=True).data, "next": None})


class ClusterListApi(APIView):
    required_scope = "read"

    @extend_schema(operation_id="clusters_list", responses={200: ClusterOutSerializer(many=True)})
    def get(self, request):
        paginator = ClusterPagination()
        page = paginator.paginate_queryset(cluster_list(project=request.auth.project), request, view=self)
        return paginator.get_paginated_response(_clusters_data(page))


class ClusterDetailApi(APIView):
    required_scope = "read"

    @extend_schema(
        operation_id="clusters_retrieve",
        responses={200: ClusterOutSerializer, 404: ErrorSerializer},
        summary="One cluster with its members (cursor-paginated under 'members').",
    )
    def get(self, request, cluster_id: int):
        cluster = cluster_get(project=request.auth.project, cluster_id=cluster_id)
        paginator = MemberPagination()
        members = paginator.paginate_queryset(cluster_members(cluster=cluster), request, view=self)
        data = dict(_clusters_data([cluster])[0])
        data["members"] = paginator.get_paginated_response(InteractionOutSerializer(members, many=True).data).data
        return Response(data)


class RunCollectionApi(APIView):
    required_scope = "curate"

    @extend_schema(
        operation_id="clustering_runs_create",
        request=None,
        responses={202: RunOutSerializer},
        summary="Recluster every failure of the project (embedding any not embedded yet); reuses a run in flight.",
    )
    def post(self, request):
        run, _ = clustering_run_start(project=request.auth.project)
        return Response(RunOutSerializer(run).data, status=202)


class RunDetailApi(APIView):
    required_scope = "read"

    @extend_schema(operation_id="clustering_runs_retrieve", responses={200: RunOutSerializer, 404: ErrorSerializer})
    def get(self, request, run_id: int):
        return Response(RunOutSerializer(clustering_run_get(project=request.auth.project, run_id=run_id)).data)


urlpatterns = [
    path("interactions/<str:external_id>/similar", SimilarApi.as_view(), name="interaction-similar"),
    path("clusters", ClusterListApi.as_view(), name="clusters"),
    path("clusters/<int:cluster_id>", ClusterDetailApi.as_view(), name="cluster-detail"),
    path("clustering/runs", RunCollectionApi.as_view(), name="clustering-runs"),
    path("clustering/runs/<int:run_id>", RunDetailApi.as_view(), name="clustering-run-detail"),
]
