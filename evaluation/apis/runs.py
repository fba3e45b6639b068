"""Evaluate API (API.md, Evaluate): thin views that validate, call one service or selector, and respond.
Creating, feeding and completing runs needs `ingest`; naming baselines `curate`; reads `read`."""

import base64
import binascii

from django.conf import settings
from django.urls import path
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.response import Response
from rest_framework.views import APIView

from core.errors import ApplicationError
from core.json_body import read_json_object
from core.lean_api import LeanApiView
from core.openapi import documented
from core.pagination import PAGE_PARAMETERS, CursorPagination, page_of
from evaluation.apis import serializers as s
from evaluation.models import Run
from evaluation.selectors.results import FILTERS, run_results
from evaluation.selectors.runs import baseline_tags_of, run_get, run_list
from evaluation.services.outputs import outputs_add
from evaluation.services.runs import baseline_tag_set, run_complete, run_create
from examples_lib.selectors.datasets import dataset_get
from feedback.apis import openapi  # noqa: F401 - registers the API key scheme in the schema


def _doc(operation_id: str, summary: str, response, request=None, **extra):
    return documented(
        operation_id,
        summary,
        response,
        not_found="No such dataset, version or run in the key's project.",
        error_serializer=s.ApiErrorSerializer,
        request=request,
        **extra,
    )


def run_body(run: Run, *, tags: list[str] | None = None, secret: bool = False) -> dict:
    summary = run.summary or {}
    body = {
        "id": str(run.pk),
        "dataset": run.dataset.name,
        "version": {"number": run.version_number, "sha256": run.version_sha256, "ref": run.version_ref},
        "split": run.split or None,
        "name": run.name,
        "model": run.model,
        "prompt_version": run.prompt_version,
        "status": run.status,
        "progress": run.progress,
        "baseline": str(run.baseline_id) if run.baseline_id else None,
        "baseline_tags": tags or [],
        "scorers": summary.get("scorers", {}),
        "scorer_configs": run.scorers,
        "gates": run.gates,
        "regressions": summary.get("regressions") if run.baseline_id and summary else None,
        "verdict": run.verdict or None,
        "counts": run.counts,
        "feed_regressions": run.feed_regressions,
        "error": run.error,
        "metadata": run.metadata,
        "created_at": run.created_at.isoformat() if run.created_at else None,
        "completed_at": run.completed_at.isoformat() if run.completed_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
    }
    if secret and run.judge_secret:
        body["judge_secret"] = run.judge_secret
    return body


class RunCreateApi(APIView):
    required_scope = "ingest"

    @_doc(
        "runs_create",
        "Start a regression run on a version (number, tag or 'latest', pinned as number + sha256).",
        {201: s.EvaluationRunOutSerializer},
        request=s.EvaluationRunInSerializer,
    )
    def post(self, request, name: str, ref: str):
        dataset = dataset_get(project=request.auth.project, name=name)
        body = s.EvaluationRunInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = run_create(
            dataset=dataset, ref=ref, created_by_name=f"api-key:{request.auth.prefix}", **body.validated_data
        )
        return Response(run_body(run, secret=True), status=201)


class RunListApi(APIView):
    required_scope = "read"

    @_doc(
        "dataset_runs_list",
        "The dataset's runs, newest first; cursor-paginated.",
        {200: page_of(s.EvaluationRunOutSerializer, "EvaluationRun")},
        parameters=PAGE_PARAMETERS,
    )
    def get(self, request, name: str):
        dataset = dataset_get(project=request.auth.project, name=name)
        paginator = CursorPagination()
        paginator.ordering = ("-created_at", "-id")
        page = paginator.paginate_queryset(run_list(dataset=dataset), request, view=self)
        tags = baseline_tags_of(runs=page)
        return paginator.get_paginated_response([run_body(run, tags=tags.get(run.pk)) for run in page])


class RunDetailApi(APIView):
    required_scope = "read"

    @_doc("runs_retrieve", "A run: status, progress, summary per scorer against its baseline, verdict.",
          {200: s.EvaluationRunOutSerializer})  # fmt: skip
    def get(self, request, run_id: str):
        run = run_get(project=request.auth.project, run_id=run_id)
        return Response(run_body(run, tags=baseline_tags_of(runs=[run]).get(run.pk)))


class RunOutputsApi(LeanApiView):
    required_scope = "ingest"

    @_doc(
        "runs_outputs_add",
        "Post a batch of outputs: one result per item, in order (201 new, 200 same again, 409 different, 400/404).",
        {207: s.RunOutputsResultSerializer, 409: OpenApiResponse(s.ApiErrorSerializer, description="Not collecting.")},
        request=s.RunOutputsInSerializer,
    )
    def post(self, request, run_id: str):
        body = read_json_object(request)
        items = body.get("outputs")
        if not isinstance(items, list):
            raise ApplicationError("The batch is invalid; see fields.", fields={"outputs": ["Must be a list."]})
        limit = settings.API_MAX_BATCH_ITEMS
        if len(items) > limit:
            raise ApplicationError(
                f"A batch holds at most {limit} outputs; split it.", code="payload_too_large", status_code=413
            )
        run = run_get(project=request.auth.project, run_id=run_id)
        return {"outputs": outputs_add(run=run, items=items)}, 207


class RunCompleteApi(APIView):
    required_scope = "ingest"

    @_doc("runs_complete", "Close the outputs and score on the workers.", {202: s.EvaluationRunOutSerializer})
    def post(self, request, run_id: str):
        run = run_complete(run=run_get(project=request.auth.project, run_id=run_id))
        return Response(run_body(run), status=202)


def _cursor(value: str | None) -> int:
    if not value:
        return 0
    try:
        return int(base64.urlsafe_b64decode(value.encode() + b"==").decode())
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise ApplicationError("The cursor is invalid.", fields={"cursor": ["invalid"]}) from exc


class RunResultsApi(APIView):
    required_scope = "read"

    @_doc(
        "runs_results",
        "Per example: input, expected, output, each scorer's result and the baseline's. Cursor pagination.",
        {200: page_of(s.RunResultSerializer, "RunResult")},
        parameters=[
            OpenApiParameter("filter", str, enum=list(FILTERS), default="all"),
            OpenApiParameter("cursor", str, required=False),
            OpenApiParameter("limit", int, required=False),
        ],
    )
    def get(self, request, run_id: str):
        run = run_get(project=request.auth.project, run_id=run_id)
        kind = request.query_params.get("filter", "all")
        if kind not in FILTERS:
            raise ApplicationError(f"'filter' is one of {', '.join(FILTERS)}.", fields={"filter": ["invalid"]})
        if kind in ("regressed", "improved") and not run.baseline_id:
            raise ApplicationError(f"Run {run.pk} has no baseline to compare with.", fields={"filter": ["no baseline"]})
        try:
            limit = min(max(int(request.query_params.get("limit", 50)), 1), 500)
        except ValueError as exc:
            raise ApplicationError("'limit' is a number.", fields={"limit": ["invalid"]}) from exc
        rows = run_results(run=run, filter=kind, after=_cursor(request.query_params.get("cursor")), limit=limit + 1)
        next_url = None
        if len(rows) > limit:
            rows = rows[:limit]
            cursor = base64.urlsafe_b64encode(str(rows[-1]["ordinal"]).encode()).decode().rstrip("=")
            query = request.query_params.copy()
            query["cursor"] = cursor
            next_url = request.build_absolute_uri(f"{request.path}?{query.urlencode()}")
        for row in rows:
            del row["ordinal"]
        return Response({"results": rows, "next": next_url})


class BaselineTagApi(APIView):
    required_scope = "curate"

    @_doc("dataset_baselines_set", "Name a run as the dataset's baseline under a tag (moving the tag).",
          {200: s.BaselineOutSerializer}, request=s.BaselineInSerializer)  # fmt: skip
    def put(self, request, name: str, tag: str):
        dataset = dataset_get(project=request.auth.project, name=name)
        body = s.BaselineInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        run = run_get(project=request.auth.project, run_id=body.validated_data["run"])
        baseline = baseline_tag_set(dataset=dataset, tag=tag, run=run)
        return Response({"tag": baseline.tag, "run": str(baseline.run_id)})


urlpatterns = [
    path("datasets/<ref:name>/versions/<ref:ref>/runs", RunCreateApi.as_view(), name="run-create"),
    path("datasets/<ref:name>/runs", RunListApi.as_view(), name="dataset-runs"),
    path("datasets/<ref:name>/baselines/<ref:tag>", BaselineTagApi.as_view(), name="dataset-baseline"),
    path("runs/<key:run_id>", RunDetailApi.as_view(), name="run-detail"),
    path("runs/<key:run_id>/outputs", RunOutputsApi.as_view(), name="run-outputs"),
    path("runs/<key:run_id>/complete", RunCompleteApi.as_view(), name="run-complete"),
    path("runs/<key:run_id>/results", RunResultsApi.as_view(), name="run-results"),
]
