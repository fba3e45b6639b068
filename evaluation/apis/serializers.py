"""Input and output shapes of the evaluation API (used for validation and the OpenAPI schema)."""

from django.conf import settings
from rest_framework import serializers

from examples_lib.canonical import SPLITS
from examples_lib.serializers import ApiErrorSerializer  # noqa: F401 - one error component in the schema


class EvaluationRunInSerializer(serializers.Serializer):
    name = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    model = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    prompt_version = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")
    split = serializers.ChoiceField(choices=[*SPLITS, ""], required=False, default="")
    baseline = serializers.CharField(
        max_length=100, required=False, allow_null=True, default=None, help_text="A run id or a baseline tag."
    )
    scorers = serializers.ListField(
        child=serializers.JSONField(),
        required=False,
        allow_null=True,
        default=None,
        max_length=20,
        help_text='e.g. [{"kind": "exact"}, {"kind": "semantic", "threshold": 0.85}]; default exact.',
    )
    gates = serializers.ListField(child=serializers.JSONField(), required=False, default=list, max_length=50)
    feed_regressions = serializers.BooleanField(required=False, default=True)
    metadata = serializers.DictField(required=False, default=dict)
    judge_secret = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="",
        help_text="Signs requests to judge scorers (HMAC-SHA256); generated and returned once when absent.",
    )  # fmt: skip


class PinnedVersionSerializer(serializers.Serializer):
    number = serializers.IntegerField()
    sha256 = serializers.CharField()
    ref = serializers.CharField()


class EvaluationRunOutSerializer(serializers.Serializer):
    id = serializers.CharField()
    dataset = serializers.CharField()
    version = PinnedVersionSerializer()
    split = serializers.CharField(allow_null=True)
    name = serializers.CharField()
    model = serializers.CharField()
    prompt_version = serializers.CharField()
    status = serializers.ChoiceField(choices=["collecting", "scoring", "succeeded", "failed"])
    progress = serializers.FloatField()
    baseline = serializers.CharField(allow_null=True)
    baseline_tags = serializers.ListField(child=serializers.CharField())
    scorers = serializers.DictField(help_text="Per scorer: n, mean, pass_rate, ci95, baseline {...}.")
    scorer_configs = serializers.ListField(child=serializers.DictField())
    gates = serializers.ListField(child=serializers.DictField())
    regressions = serializers.IntegerField(allow_null=True)
    verdict = serializers.DictField(allow_null=True, help_text='{"result": "pass|fail", "reasons": [...]}')
    counts = serializers.DictField()
    feed_regressions = serializers.BooleanField()
    error = serializers.CharField()
    metadata = serializers.DictField()
    created_at = serializers.DateTimeField()
    completed_at = serializers.DateTimeField(allow_null=True)
    finished_at = serializers.DateTimeField(allow_null=True)
    judge_secret = serializers.CharField(required=False, help_text="Only in the answer that created the run.")


class RunOutputItemSerializer(serializers.Serializer):
    example_id = serializers.CharField(help_text="The example's `id` in the version's JSONL export.")
    output = serializers.JSONField()
    latency_ms = serializers.IntegerField(required=False, allow_null=True)
    metadata = serializers.DictField(required=False)


class RunOutputsInSerializer(serializers.Serializer):
    outputs = RunOutputItemSerializer(many=True, max_length=settings.API_MAX_BATCH_ITEMS)


class RunOutputResultSerializer(serializers.Serializer):
    status = serializers.IntegerField()
    example_id = serializers.CharField(required=False)
    error = serializers.DictField(required=False)


class RunOutputsResultSerializer(serializers.Serializer):
    outputs = RunOutputResultSerializer(many=True)


class RunResultSerializer(serializers.Serializer):
    example_id = serializers.CharField()
    split = serializers.CharField()
    input = serializers.JSONField()
    expected = serializers.JSONField()
    output = serializers.JSONField(allow_null=True)
    missing = serializers.BooleanField()
    latency_ms = serializers.IntegerField(allow_null=True)
    scores = serializers.DictField(help_text='{scorer: {"score", "passed", "error"}}')
    baseline = serializers.DictField(allow_null=True, help_text="The baseline run's scores of the same example.")
    regressed = serializers.ListField(child=serializers.CharField())
    improved = serializers.ListField(child=serializers.CharField())


class BaselineInSerializer(serializers.Serializer):
    run = serializers.CharField(help_text="The id of a run of this dataset that succeeded.")


class BaselineOutSerializer(serializers.Serializer):
    tag = serializers.CharField()
    run = serializers.CharField()
