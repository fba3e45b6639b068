"""Monitoring series and the before/after comparison (scope `read`)."""

from datetime import timedelta

from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from monitoring.selectors.metrics import BUCKETS, GROUPS, feedback_series, metrics_compare

# Hour buckets over more than a month make series nobody can read; ask for days instead.
MAX_RANGE = {"hour": timedelta(days=31), "day": timedelta(days=400)}
DEFAULT_RANGE = {"hour": timedelta(hours=24), "day": timedelta(days=30)}


def _validate_range(attrs: dict, *, default: timedelta, maximum: timedelta) -> dict:
    attrs["until"] = attrs.get("until") or timezone.now()
    attrs["since"] = attrs.get("since") or attrs["until"] - default
    if attrs["since"] >= attrs["until"]:
        raise serializers.ValidationError({"since": ["Must be before until."]})
    if attrs["until"] - attrs["since"] > maximum:
        raise serializers.ValidationError({"since": [f"The range may span at most {maximum.days} days."]})
    return attrs


class FeedbackMetricsApi(APIView):
    required_scope = "read"

    class InputSerializer(serializers.Serializer):
        group_by = serializers.ChoiceField(choices=GROUPS, default="model")
        bucket = serializers.ChoiceField(choices=list(BUCKETS), default="hour")
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)
        score = serializers.CharField(required=False, max_length=100, help_text="Average only this feedback name.")
        model = serializers.CharField(required=False, max_length=200)
        prompt_version = serializers.CharField(required=False, max_length=200)

        def validate(self, attrs):
            bucket = attrs["bucket"]
            return _validate_range(attrs, default=DEFAULT_RANGE[bucket], maximum=MAX_RANGE[bucket])

    @extend_schema(
        parameters=[InputSerializer],
        responses=OpenApiTypes.OBJECT,
        description="Per bucket (UTC hour or day) and group: interactions (by occurred_at), feedback received "
        "(by created_at), negative, negative_rate = negative / feedback, score_count and mean_score = mean of "
        "NUMERIC feedback values (only those named `score` when given).",
    )
    def get(self, request):
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        rows = feedback_series(project=request.auth.project, **params)
        # Thousands of rows for hour buckets: plain dicts, as a serializer per row costs more than the query.
        results = [{**row, "group": row[params["group_by"]]} for row in rows]
        return Response(
            {
                "group_by": params["group_by"],
                "bucket": params["bucket"],
                "since": params["since"],
                "until": params["until"],
                "score": params.get("score"),
                "results": results,
            }
        )


class MetricsCompareApi(APIView):
    required_scope = "read"

    class InputSerializer(serializers.Serializer):
        dimension = serializers.ChoiceField(choices=GROUPS)
        before = serializers.CharField(max_length=200, allow_blank=True)
        after = serializers.CharField(max_length=200, allow_blank=True)
        since = serializers.DateTimeField(required=False)
        until = serializers.DateTimeField(required=False)
        score = serializers.CharField(required=False, max_length=100)

        def validate(self, attrs):
            return _validate_range(attrs, default=timedelta(days=30), maximum=MAX_RANGE["day"])

    @extend_schema(
        parameters=[InputSerializer],
        responses=OpenApiTypes.OBJECT,
        description="Negative rate and mean score of two models or prompt versions with their counts, a "
        "two-proportion z-test on the rates and a Welch t-test on the scores (significant: p < 0.05).",
    )
    def get(self, request):
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        return Response(metrics_compare(project=request.auth.project, **query.validated_data))


urlpatterns = [
    path("metrics/feedback", FeedbackMetricsApi.as_view(), name="metrics-feedback"),
    path("metrics/compare", MetricsCompareApi.as_view(), name="metrics-compare"),
]
