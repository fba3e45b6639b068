"""Serializers of the capture and interaction endpoints.

The input serializers document the request bodies in the OpenAPI schema; the hot capture path validates with
services/capture_items.py instead (the same rules, much cheaper per item). The output serializers render reads.
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from core.fields import DateTimeField
from core.serializers import QuerySerializer
from feedback.models import Feedback, Interaction

_ANY_JSON = "A string, or any JSON value."


@extend_schema_field(
    {"anyOf": [{"type": t} for t in ("string", "number", "boolean", "object")] + [{"type": "array", "items": {}}]}
)
class AnyJsonField(serializers.JSONField):
    """Any JSON but null (the capture path requires input and output)."""


def _id_field(**kwargs) -> serializers.RegexField:
    # Not blank: at least one character that is not a space.
    return serializers.RegexField(r"\S", max_length=255, **kwargs)


class ErrorDetailSerializer(serializers.Serializer):
    code = serializers.CharField()
    message = serializers.CharField()
    fields = serializers.DictField(child=serializers.ListField(child=serializers.CharField()))


class ErrorSerializer(serializers.Serializer):
    error = ErrorDetailSerializer()


# --- Input (documentation of the request bodies) ---------------------------------------------------------------
# Optional fields may be null: the capture path (services/capture_items.py) takes null as absent.
class InteractionInSerializer(serializers.Serializer):
    id = _id_field(help_text="The client's id, unique in the project.")
    input = AnyJsonField(help_text=f"Prompt text or chat messages. {_ANY_JSON}")
    output = AnyJsonField(help_text=f"The model's output. {_ANY_JSON}")
    model = serializers.CharField(max_length=200, required=False, allow_null=True)
    prompt_version = serializers.CharField(max_length=200, required=False, allow_null=True)
    trace_id = serializers.CharField(max_length=200, required=False, allow_null=True)
    metadata = serializers.DictField(required=False, allow_null=True)
    occurred_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When it happened; now when omitted."
    )


class FeedbackInSerializer(serializers.Serializer):
    id = _id_field(help_text="The idempotency key, unique in the project.")
    interaction_id = serializers.CharField(
        max_length=255,
        required=False,
        allow_null=True,
        help_text="The interaction's id; optional when 'interaction' is sent.",
    )
    interaction = InteractionInSerializer(
        required=False, allow_null=True, help_text="Creates the interaction in the same call."
    )
    name = serializers.CharField(
        max_length=100, required=False, allow_null=True, help_text="e.g. 'thumbs', 'helpfulness'."
    )
    value = serializers.JSONField(
        required=False,
        allow_null=True,
        help_text="A number (NUMERIC), true/false (BOOLEAN) or a string (CATEGORICAL); 'thumbs' takes up/down.",
    )
    comment = serializers.CharField(required=False, allow_null=True)
    correction = serializers.JSONField(required=False, allow_null=True, help_text="The output as it should have been.")
    source = serializers.ChoiceField(
        choices=Feedback.Source.choices, required=False, allow_null=True, default="end_user"
    )
    author = serializers.CharField(max_length=200, required=False, allow_null=True)
    metadata = serializers.DictField(required=False, allow_null=True)
    created_at = serializers.DateTimeField(
        required=False, allow_null=True, help_text="When it was given (backfills); now by default."
    )


class IngestInSerializer(serializers.Serializer):
    # Items are any JSON: each is validated on its own and answered in order, so one that is not even an object
    # gets its own 400 in the 207 and never stops the others (API.md).
    interactions = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        help_text="Interactions as POST /interactions takes them; each gets its own result (an invalid one a 400).",
    )
    feedback = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        help_text="Feedback as POST /feedback takes it; each gets its own result (an invalid one a 400).",
    )


# --- Output of writes ----------------------------------------------------------------------------------------------
class InteractionWrittenSerializer(serializers.Serializer):
    id = serializers.CharField()


class InteractionItemResultSerializer(serializers.Serializer):
    status = serializers.IntegerField(help_text="201 created, 200 retry, 400 invalid, 409 conflict.")
    id = serializers.CharField(required=False)
    error = ErrorDetailSerializer(required=False)


class FeedbackWrittenSerializer(serializers.Serializer):
    id = serializers.CharField()
    interaction_id = serializers.CharField()
    is_negative = serializers.BooleanField(help_text="Counts against the interaction (the failure rule).")
    interaction = InteractionItemResultSerializer(required=False, help_text="The inline interaction's result.")


class FeedbackItemResultSerializer(InteractionItemResultSerializer):
    interaction_id = serializers.CharField(required=False)
    is_negative = serializers.BooleanField(required=False)
    interaction = InteractionItemResultSerializer(required=False)


class IngestResultSerializer(serializers.Serializer):
    interactions = InteractionItemResultSerializer(many=True)
    feedback = FeedbackItemResultSerializer(many=True)


# --- Output of reads -----------------------------------------------------------------------------------------------
class InteractionFilterSerializer(QuerySerializer):
    model = serializers.CharField(required=False)
    prompt_version = serializers.CharField(required=False)
    feedback = serializers.ChoiceField(choices=["negative", "positive", "none"], required=False)
    review_status = serializers.ChoiceField(choices=Interaction.ReviewStatus.choices, required=False)
    cluster = serializers.IntegerField(required=False, min_value=1)
    since = DateTimeField(required=False)
    until = DateTimeField(required=False)


class InteractionOutSerializer(serializers.Serializer):
    id = serializers.CharField(source="external_id")
    input = serializers.JSONField()
    output = serializers.JSONField()
    model = serializers.CharField()
    prompt_version = serializers.CharField()
    trace_id = serializers.CharField()
    metadata = serializers.JSONField()
    occurred_at = serializers.DateTimeField()
    created_at = serializers.DateTimeField()
    feedback_count = serializers.IntegerField()
    negative_count = serializers.IntegerField()
    is_failure = serializers.BooleanField()
    review_status = serializers.CharField()
    cluster = serializers.IntegerField(source="cluster_id", allow_null=True)


class FeedbackOutSerializer(serializers.Serializer):
    id = serializers.CharField(source="external_id")
    name = serializers.CharField()
    data_type = serializers.CharField()
    value = serializers.SerializerMethodField()
    comment = serializers.CharField()
    correction = serializers.JSONField()
    source = serializers.CharField()
    author = serializers.CharField()
    metadata = serializers.JSONField()
    is_negative = serializers.BooleanField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(OpenApiTypes.ANY)
    def get_value(self, obj: Feedback):
        if obj.data_type == Feedback.DataType.BOOLEAN:
            if obj.name == "thumbs":
                return "up" if obj.value_number else "down"
            return bool(obj.value_number)
        if obj.data_type == Feedback.DataType.NUMERIC:
            return obj.value_number
        return obj.value_string or None


class ReviewOutSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    verdict = serializers.CharField()
    correction = serializers.JSONField()
    error_category = serializers.CharField(source="error_category.name", allow_null=True, default=None)
    notes = serializers.CharField()
    reviewer = serializers.SerializerMethodField()
    created_at = serializers.DateTimeField()

    @extend_schema_field(OpenApiTypes.STR)
    def get_reviewer(self, obj) -> str:
        if obj.reviewer_id:
            return obj.reviewer.get_username()
        return obj.reviewer_name


class InteractionDetailSerializer(InteractionOutSerializer):
    feedback = FeedbackOutSerializer(many=True, source="latest_feedback", help_text="The latest 100, newest first.")
    reviews = ReviewOutSerializer(many=True, source="ordered_reviews", help_text="Oldest first.")
