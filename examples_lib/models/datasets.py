"""A dataset and its draft: the working set of examples that versions freeze."""

from django.conf import settings
from django.db import models
from django.db.models import F
from django.db.models.functions import Abs
from django.db.models.lookups import LessThan
from pgvector.django import VectorField

from feedback.models.clusters import EMBEDDING_DIMENSIONS


class Split(models.TextChoices):
    TRAIN = "train", "Train"
    VALIDATION = "validation", "Validation"
    TEST = "test", "Test"


class Dataset(models.Model):
    """A named golden set of a project."""

    project = models.ForeignKey("feedback.Project", on_delete=models.CASCADE, related_name="datasets")
    name = models.SlugField(max_length=100, help_text="Unique in the project; used in URLs and commands.")
    description = models.TextField(blank=True)
    train_ratio = models.FloatField(default=0.8, help_text="Share of examples assigned to train.")
    validation_ratio = models.FloatField(default=0.1, help_text="Share of examples assigned to validation.")
    test_ratio = models.FloatField(default=0.1, help_text="Share of examples assigned to test.")
    near_duplicate_threshold = models.FloatField(
        default=0.95, help_text="Cosine similarity above which a new example is reported as a near duplicate."
    )
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["project", "name"]
        constraints = [
            models.UniqueConstraint(fields=["project", "name"], name="uniq_dataset_name"),
            models.CheckConstraint(
                condition=models.Q(train_ratio__gte=0, validation_ratio__gte=0, test_ratio__gte=0)
                & models.Q(LessThan(Abs(F("train_ratio") + F("validation_ratio") + F("test_ratio") - 1.0), 1e-6)),
                name="dataset_split_ratios_sum_to_one",
            ),
            models.CheckConstraint(
                condition=models.Q(near_duplicate_threshold__gt=0, near_duplicate_threshold__lte=1),
                name="dataset_near_duplicate_threshold_range",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def ratios(self) -> dict[str, float]:
        return {Split.TRAIN: self.train_ratio, Split.VALIDATION: self.validation_ratio, Split.TEST: self.test_ratio}


class Example(models.Model):
    """One example of a dataset's draft. Versions copy it; the draft itself may still change."""

    # Indexed by example_draft_order (dataset, id), which also gives freezing its order without a sort.
    dataset = models.ForeignKey(Dataset, on_delete=models.CASCADE, related_name="examples", db_index=False)
    stable_id = models.CharField(max_length=64, help_text="Kept across versions; the split is derived from it.")
    input = models.JSONField(help_text="Prompt text or chat messages.")
    expected_output = models.JSONField(help_text="The output an SME vouched for.")
    metadata = models.JSONField(default=dict, blank=True)
    split = models.CharField(max_length=12, choices=Split.choices)
    lineage = models.JSONField(
        default=dict, blank=True, help_text="Snapshot of where the example came from; survives its sources."
    )
    content_hash = models.CharField(max_length=64, help_text="sha256 of the normalised input and expected output.")
    source_interaction = models.ForeignKey(
        "feedback.Interaction", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    embedding = VectorField(dimensions=EMBEDDING_DIMENSIONS, null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["dataset", "id"]
        constraints = [
            models.UniqueConstraint(fields=["dataset", "content_hash"], name="uniq_example_content"),
            models.UniqueConstraint(fields=["dataset", "stable_id"], name="uniq_example_stable_id"),
        ]
        indexes = [
            models.Index(fields=["dataset", "id"], name="example_draft_order"),
            models.Index(fields=["source_interaction"], name="example_source_interaction"),
        ]

    def __str__(self) -> str:
        return self.stable_id
