"""Input and output shapes of the golden-dataset API."""

from django.conf import settings
from rest_framework import serializers

from core import fields
from core.serializers import QuerySerializer
from examples_lib.canonical import SPLITS
from examples_lib.exports import FORMATS
from examples_lib.models import Dataset, DatasetVersion, Example


class DatasetInSerializer(serializers.Serializer):
    name = fields.SlugField(max_length=100)
    description = fields.CharField(required=False, allow_blank=True, default="")
    split = serializers.DictField(
        child=fields.FloatField(min_value=0, max_value=1), required=False, help_text="Default 0.8/0.1/0.1."
    )
    near_duplicate_threshold = fields.FloatField(required=False, default=0.95, min_value=0.01, max_value=1)


class DatasetOutSerializer(serializers.ModelSerializer):
    split = serializers.SerializerMethodField()
    draft_examples = serializers.IntegerField(source="draft_count", read_only=True)
    latest_version = serializers.IntegerField(read_only=True, allow_null=True)

    class Meta:
        model = Dataset
        fields = [
            "name",
            "description",
            "split",
            "near_duplicate_threshold",
            "draft_examples",
            "latest_version",
            "created_at",
        ]

    def get_split(self, dataset: Dataset) -> dict[str, float]:
        return dataset.ratios


class ExampleItemSerializer(serializers.Serializer):
    id = fields.CharField(required=False, max_length=64, help_text="Your id; an existing id is updated.")
    input = serializers.JSONField(required=False)
    expected_output = serializers.JSONField(required=False)
    metadata = serializers.JSONField(required=False)


class ExamplesInSerializer(serializers.Serializer):
    from_interactions = serializers.ListField(
        child=fields.CharField(max_length=255), required=False, max_length=settings.API_MAX_BATCH_ITEMS
    )
    examples = serializers.ListField(
        child=serializers.DictField(), required=False, max_length=settings.API_MAX_BATCH_ITEMS
    )

    def validate(self, attrs: dict) -> dict:
        if ("from_interactions" in attrs) == ("examples" in attrs):
            raise serializers.ValidationError("Send either 'from_interactions' or 'examples'.")
        return attrs


class ExampleOutSerializer(serializers.ModelSerializer):
    id = serializers.CharField(source="stable_id")

    class Meta:
        model = Example
        fields = ["id", "input", "expected_output", "metadata", "split", "lineage", "created_at", "updated_at"]


class VersionInSerializer(serializers.Serializer):
    note = fields.CharField(required=False, allow_blank=True, default="")
    tag = fields.SlugField(required=False, max_length=100)


class VersionOutSerializer(serializers.ModelSerializer):
    dataset = serializers.CharField(source="dataset.name")
    parent = serializers.IntegerField(source="parent.number", allow_null=True, default=None)
    tags = serializers.SerializerMethodField()
    exports = serializers.SerializerMethodField()

    class Meta:
        model = DatasetVersion
        fields = [
            "dataset",
            "number",
            "note",
            "sha256",
            "counts",
            "example_count",
            "tags",
            "parent",
            "created_by_name",
            "created_at",
            "exports",
        ]

    def get_tags(self, version: DatasetVersion) -> list[str]:
        return [tag.name for tag in version.tags.all()]

    def get_exports(self, version: DatasetVersion) -> dict[str, str]:
        request = self.context.get("request")
        path = f"/api/v1/datasets/{version.dataset.name}/versions/{version.number}/export?format="
        base = request.build_absolute_uri(path) if request else path
        return {fmt: base + fmt for fmt in FORMATS}


class ExportQuerySerializer(QuerySerializer):
    format = serializers.ChoiceField(choices=list(FORMATS), default="jsonl")
    split = serializers.ChoiceField(choices=list(SPLITS), required=False)


class TagInSerializer(serializers.Serializer):
    version = fields.CharField(help_text="A number, a tag, or 'latest'.")


# --- Documentation-only shapes (the OpenAPI schema) ----------------------------------------------------------------
class ApiErrorSerializer(serializers.Serializer):
    error = serializers.DictField(help_text='{"code": "...", "message": "...", "fields": {...}}')


class AddResultSerializer(serializers.Serializer):
    added = serializers.ListField(child=serializers.DictField(), help_text="{id, split, and index or interaction_id}")
    updated = serializers.ListField(child=serializers.DictField(), help_text="Same id, new content: changed in place.")
    duplicates = serializers.ListField(child=serializers.DictField(), help_text="Same input and expected output.")
    near_duplicates = serializers.ListField(child=serializers.DictField(), help_text="{id, similar_to, similarity}")
    refused = serializers.ListField(child=serializers.DictField(), help_text="{code, reason, index/interaction_id}")


class DiffSerializer(serializers.Serializer):
    to = serializers.IntegerField()
    added = serializers.ListField(child=serializers.CharField())
    removed = serializers.ListField(child=serializers.CharField())
    changed = serializers.ListField(child=serializers.DictField(), help_text="{id, fields: [...]}")
    counts = serializers.DictField(child=serializers.IntegerField())


class TagOutSerializer(serializers.Serializer):
    tag = serializers.CharField()
    version = serializers.IntegerField()
