"""Golden datasets API (API.md, Golden datasets): thin views that validate, call one service or selector, and
respond. Writes need the `curate` scope; reads and exports need `read`."""

from django.http import HttpResponse, StreamingHttpResponse
from django.urls import path
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.response import Response
from rest_framework.views import APIView

from core.openapi import documented
from core.pagination import PAGE_PARAMETERS, CursorPagination, page_of
from examples_lib import serializers as s
from examples_lib.exports import FORMATS, export_stream
from examples_lib.selectors.datasets import dataset_get, dataset_list, example_list
from examples_lib.selectors.versions import version_diff, version_list, version_resolve
from examples_lib.services.datasets import dataset_create
from examples_lib.services.examples import examples_add, examples_promote
from examples_lib.services.versions import version_create, version_tag

READ_OR_CURATE = {"GET": "read", "HEAD": "read", "POST": "curate", "PUT": "curate"}


def _doc(operation_id: str, summary: str, response, request=None, **extra):
    return documented(
        operation_id,
        summary,
        response,
        not_found="No such dataset or version in the key's project.",
        error_serializer=s.ApiErrorSerializer,
        request=request,
        **extra,
    )


def _who(request) -> str:
    return f"api-key:{request.auth.prefix}"


def _paginate(view: APIView, request, queryset, serializer_class, ordering: tuple[str, ...]) -> Response:
    paginator = CursorPagination()
    paginator.ordering = ordering
    page = paginator.paginate_queryset(queryset, request, view=view)
    data = serializer_class(page, many=True, context={"request": request}).data
    return paginator.get_paginated_response(data)


class DatasetListApi(APIView):
    required_scope = READ_OR_CURATE

    @_doc(
        "datasets_list",
        "The project's datasets, by name; cursor-paginated.",
        {200: page_of(s.DatasetOutSerializer, "Dataset")},
        parameters=PAGE_PARAMETERS,
    )
    def get(self, request):
        return _paginate(self, request, dataset_list(project=request.auth.project), s.DatasetOutSerializer, ("name",))

    @_doc(
        "datasets_create",
        "Create a dataset (409 when the name exists).",
        {201: s.DatasetOutSerializer, 409: OpenApiResponse(s.ApiErrorSerializer, description="The name exists.")},
        request=s.DatasetInSerializer,
    )
    def post(self, request):
        body = s.DatasetInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        dataset = dataset_create(project=request.auth.project, **body.validated_data)
        dataset = dataset_get(project=request.auth.project, name=dataset.name)
        return Response(s.DatasetOutSerializer(dataset).data, status=201)


class DatasetDetailApi(APIView):
    required_scope = READ_OR_CURATE

    @_doc("datasets_retrieve", "One dataset.", {200: s.DatasetOutSerializer})
    def get(self, request, name: str):
        return Response(s.DatasetOutSerializer(dataset_get(project=request.auth.project, name=name)).data)


class ExampleListApi(APIView):
    required_scope = READ_OR_CURATE

    @_doc(
        "dataset_examples_list",
        "The draft's examples, oldest first; cursor-paginated.",
        {200: page_of(s.ExampleOutSerializer, "Example")},
        parameters=PAGE_PARAMETERS,
    )
    def get(self, request, name: str):
        dataset = dataset_get(project=request.auth.project, name=name)
        return _paginate(self, request, example_list(dataset=dataset), s.ExampleOutSerializer, ("id",))

    @_doc(
        "dataset_examples_add",
        "Add reviewed interactions or examples to the draft; says what was added, duplicate, or refused and why.",
        {201: s.AddResultSerializer, 200: OpenApiResponse(s.AddResultSerializer, description="Nothing added.")},
        request=s.ExamplesInSerializer,
    )
    def post(self, request, name: str):
        dataset = dataset_get(project=request.auth.project, name=name)
        body = s.ExamplesInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        if "from_interactions" in body.validated_data:
            result = examples_promote(dataset=dataset, external_ids=body.validated_data["from_interactions"])
        else:
            result = examples_add(dataset=dataset, examples=body.validated_data["examples"])
        return Response(result.as_dict(), status=201 if result.added or result.updated else 200)


class VersionListApi(APIView):
    required_scope = READ_OR_CURATE

    @_doc(
        "dataset_versions_list",
        "The manifests of every version, newest first; cursor-paginated.",
        {200: page_of(s.VersionOutSerializer, "Version")},
        parameters=PAGE_PARAMETERS,
    )
    def get(self, request, name: str):
        dataset = dataset_get(project=request.auth.project, name=name)
        return _paginate(self, request, version_list(dataset=dataset), s.VersionOutSerializer, ("-number",))

    @_doc(
        "dataset_versions_create",
        "Freeze the draft as the next version (409 when it equals the latest).",
        {
            201: s.VersionOutSerializer,
            409: OpenApiResponse(s.ApiErrorSerializer, description="The draft equals the latest version."),
        },
        request=s.VersionInSerializer,
    )
    def post(self, request, name: str):
        dataset = dataset_get(project=request.auth.project, name=name)
        body = s.VersionInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = version_create(dataset=dataset, created_by_name=_who(request), **body.validated_data)
        version = version_resolve(dataset=dataset, ref=str(version.number))
        return Response(s.VersionOutSerializer(version, context={"request": request}).data, status=201)


class VersionDetailApi(APIView):
    required_scope = READ_OR_CURATE

    @_doc(
        "dataset_versions_retrieve",
        "A version's manifest; ref is a number, a tag, or 'latest'.",
        {200: s.VersionOutSerializer},
    )
    def get(self, request, name: str, ref: str):
        dataset = dataset_get(project=request.auth.project, name=name)
        version = version_resolve(dataset=dataset, ref=ref)
        return Response(s.VersionOutSerializer(version, context={"request": request}).data)


class VersionTagApi(APIView):
    """PUT /datasets/{name}/tags/{tag} {"version": "3"}: point a tag at a version (moving it)."""

    required_scope = READ_OR_CURATE

    @_doc("dataset_tags_set", "Point a tag at a version.", {200: s.TagOutSerializer}, request=s.TagInSerializer)
    def put(self, request, name: str, tag: str):
        dataset = dataset_get(project=request.auth.project, name=name)
        body = s.TagInSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = version_resolve(dataset=dataset, ref=body.validated_data["version"])
        version_tag(dataset=dataset, version=version, name=tag)
        return Response({"tag": tag, "version": version.number})


class _FormatIsNotARenderer(DefaultContentNegotiation):
    """`?format=` names the export format here, not one of DRF's renderers (errors are still JSON)."""

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class VersionExportApi(APIView):
    """Streams one version; `ETag` names the exact bytes, `X-Content-SHA256` is the version's hash (which equals
    the sha256 of the whole `jsonl` export)."""

    required_scope = READ_OR_CURATE
    content_negotiation_class = _FormatIsNotARenderer

    @_doc(
        "dataset_versions_export",
        "Stream a version as jsonl, openai-chat, openai-dpo, csv or parquet, in a stable order.",
        {200: OpenApiResponse(OpenApiTypes.BINARY, description="The export (ETag, X-Content-SHA256)."), 304: None},
        parameters=[
            OpenApiParameter("format", str, enum=list(FORMATS), default="jsonl"),
            OpenApiParameter("split", str, enum=["train", "validation", "test"], required=False),
        ],
    )
    def get(self, request, name: str, ref: str):
        dataset = dataset_get(project=request.auth.project, name=name)
        version = version_resolve(dataset=dataset, ref=ref)
        query = s.ExportQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        fmt, split = query.validated_data["format"], query.validated_data.get("split")
        whole_jsonl = (fmt, split) == ("jsonl", None)
        etag = f'"{version.sha256}"' if whole_jsonl else f'"{version.sha256}.{fmt}.{split or "all"}"'
        headers = {"ETag": etag, "X-Content-SHA256": version.sha256, "Cache-Control": "private, max-age=31536000"}
        if request.headers.get("If-None-Match") == etag:
            return HttpResponse(status=304, headers=headers)
        filename = f"{dataset.name}-v{version.number}{f'-{split}' if split else ''}.{FORMATS[fmt].extension}"
        headers["Content-Disposition"] = f'attachment; filename="{filename}"'
        stream = export_stream(version_id=version.pk, fmt=fmt, split=split)
        return StreamingHttpResponse(stream, content_type=FORMATS[fmt].content_type, headers=headers)


class VersionDiffApi(APIView):
    required_scope = READ_OR_CURATE

    @_doc(
        "dataset_versions_diff",
        "Examples added, removed and changed from version ref to version other.",
        {200: s.DiffSerializer},
    )
    def get(self, request, name: str, ref: str, other: str):
        dataset = dataset_get(project=request.auth.project, name=name)
        base, target = version_resolve(dataset=dataset, ref=ref), version_resolve(dataset=dataset, ref=other)
        return Response(version_diff(base=base, other=target))


urlpatterns = [
    path("datasets", DatasetListApi.as_view(), name="dataset-list"),
    path("datasets/<ref:name>", DatasetDetailApi.as_view(), name="dataset-detail"),
    path("datasets/<ref:name>/examples", ExampleListApi.as_view(), name="dataset-examples"),
    path("datasets/<ref:name>/versions", VersionListApi.as_view(), name="dataset-versions"),
    path("datasets/<ref:name>/tags/<ref:tag>", VersionTagApi.as_view(), name="dataset-tag"),
    path("datasets/<ref:name>/versions/<ref:ref>", VersionDetailApi.as_view(), name="dataset-version"),
    path("datasets/<ref:name>/versions/<ref:ref>/export", VersionExportApi.as_view(), name="dataset-export"),
    path("datasets/<ref:name>/versions/<ref:ref>/diff/<ref:other>", VersionDiffApi.as_view(), name="dataset-diff"),
]
