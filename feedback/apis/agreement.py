"""GET /api/v1/agreement: how far the project's SMEs agree, and how far its automated judges agree with them."""

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.apis.capture_serializers import ErrorSerializer
from feedback.models import Feedback
from feedback.selectors.agreement import agreement_report


class AgreementOutputSerializer(serializers.Serializer):
    """The shape of the answer, for the OpenAPI document (docs/agreement.md defines every figure)."""

    n_items = serializers.IntegerField(help_text="Items with two SME verdicts or more.")
    n_reviewers = serializers.IntegerField()
    n_verdicts = serializers.IntegerField()
    n_adjudicated = serializers.IntegerField()
    percent_agreement = serializers.FloatField(allow_null=True, help_text="Mean share of agreeing verdict pairs.")
    cohen_kappa = serializers.FloatField(allow_null=True, help_text="Mean Cohen's kappa over pairs of reviewers.")
    krippendorff_alpha = serializers.FloatField(allow_null=True, help_text="Nominal, on verdicts.")
    krippendorff_alpha_category = serializers.FloatField(allow_null=True, help_text="Nominal, on error categories.")
    ci95 = serializers.DictField(
        child=serializers.ListField(child=serializers.FloatField(), allow_null=True),
        help_text="Bootstrap 95% interval of each figure above (items resampled, 1,000 replicates).",
    )
    n = serializers.DictField(child=serializers.IntegerField(), help_text="The n behind each figure.")
    by_reviewer = serializers.ListField(child=serializers.DictField())
    by_category = serializers.ListField(child=serializers.DictField())
    judges = serializers.ListField(
        child=serializers.DictField(),
        help_text="Per (source, name): n_items, agreement_with_sme, kappa, ci95, confusion, by_category.",
    )
    trust_by_category = serializers.ListField(child=serializers.DictField())
    scores = serializers.ListField(
        child=serializers.DictField(),
        help_text="Per score name of SME numeric feedback: Krippendorff's alpha, interval level, among its authors.",
    )
    trend = serializers.ListField(child=serializers.DictField())
    disagreements = serializers.ListField(child=serializers.DictField())


class AgreementApi(APIView):
    required_scope = "read"

    class InputSerializer(serializers.Serializer):
        since = serializers.DateTimeField(required=False, help_text="Verdicts given at or after this time.")
        until = serializers.DateTimeField(required=False, help_text="Verdicts given before this time.")
        error_category = serializers.SlugField(
            required=False, max_length=100, help_text="Only items a verdict put in this category."
        )
        reviewer = serializers.CharField(required=False, max_length=200, help_text="Only items this reviewer judged.")
        source = serializers.CharField(
            required=False,
            max_length=100,
            help_text="Feedback sources compared with the SMEs as judges, comma-separated (default: automated).",
        )

        def validate_source(self, value: str) -> list[str]:
            sources = [part.strip() for part in value.split(",") if part.strip()]
            unknown = sorted(set(sources) - set(Feedback.Source.values))
            if unknown or not sources:
                raise serializers.ValidationError(f"Sources are among: {', '.join(Feedback.Source.values)}.")
            return sources

        def validate(self, attrs):
            if attrs.get("since") and attrs.get("until") and attrs["since"] >= attrs["until"]:
                raise serializers.ValidationError({"since": ["Must be before until."]})
            return attrs

    @extend_schema(
        operation_id="agreement_retrieve",
        parameters=[InputSerializer],
        responses={200: AgreementOutputSerializer, 400: ErrorSerializer},
        summary="Agreement of SMEs (percent, Cohen's kappa, Krippendorff's alpha) and of judges with SMEs.",
    )
    def get(self, request):
        query = self.InputSerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        report = agreement_report(
            project=request.auth.project,
            since=params.get("since"),
            until=params.get("until"),
            error_category=params.get("error_category"),
            reviewer=params.get("reviewer"),
            sources=params.get("source"),
        )
        return Response(report)


urlpatterns = [path("agreement", AgreementApi.as_view(), name="agreement")]
