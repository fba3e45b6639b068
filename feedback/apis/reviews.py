"""POST /api/v1/interactions/{id}/reviews: import an SME verdict (scope `review`); GET lists them (scope `read`)."""

from django.urls import path
from rest_framework import serializers, status
from rest_framework.response import Response
from rest_framework.views import APIView

from feedback.models import ApiKey, Review
from feedback.selectors.interactions import interaction_of_project
from feedback.selectors.reviews import reviews_visible_of
from feedback.services.reviews import review_import


class ReviewOutputSerializer(serializers.ModelSerializer):
    interaction_id = serializers.CharField(source="interaction.external_id")
    error_category = serializers.CharField(source="error_category.name", default=None)
    reviewer = serializers.SerializerMethodField()

    class Meta:
        model = Review
        fields = [
            "id",
            "interaction_id",
            "verdict",
            "correction",
            "error_category",
            "notes",
            "reviewer",
            "created_at",
            "superseded_at",
        ]

    def get_reviewer(self, obj) -> str:
        return obj.reviewer_name or (obj.reviewer.get_username() if obj.reviewer else "")


class InteractionReviewsApi(APIView):
    required_scope = {"POST": "review", "GET": "read"}

    class InputSerializer(serializers.Serializer):
        verdict = serializers.ChoiceField(choices=Review.Verdict.choices)
        correction = serializers.JSONField(required=False, allow_null=True, default=None)
        error_category = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=100)
        notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=10_000)
        reviewer = serializers.CharField(required=False, allow_blank=True, default="", max_length=200)

    def get(self, request, external_id: str):
        interaction = interaction_of_project(project_id=request.auth.project_id, external_id=external_id)
        reviews, hidden = reviews_visible_of(
            interaction=interaction, reviewer_name=request.query_params.get("reviewer", "")[:200]
        )
        body = {"results": ReviewOutputSerializer(reviews, many=True).data, "next": None}
        if hidden:
            body["hidden"] = hidden  # an open overlap item: other reviewers' verdicts stay blind
        return Response(body)

    def post(self, request, external_id: str):
        interaction = interaction_of_project(project_id=request.auth.project_id, external_id=external_id)
        data = self.InputSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        review = review_import(
            interaction=interaction,
            verdict=data.validated_data["verdict"],
            correction=data.validated_data["correction"],
            error_category_name=data.validated_data.get("error_category"),
            create_category=ApiKey.Scope.CURATE in request.auth.scopes,
            notes=data.validated_data["notes"],
            reviewer_name=data.validated_data["reviewer"],
        )
        return Response(ReviewOutputSerializer(review).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("interactions/<str:external_id>/reviews", InteractionReviewsApi.as_view(), name="interaction-reviews"),
]
