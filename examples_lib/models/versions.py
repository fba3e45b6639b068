"""Versions: immutable, numbered snapshots of a draft with a content hash. A database trigger (migration 0002)
refuses any UPDATE of a frozen row and any DELETE outside a dataset deletion."""

from django.conf import settings
from django.db import models

from examples_lib.models.datasets import Split


class DatasetVersion(models.Model):
    dataset = models.ForeignKey("examples_lib.Dataset", on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField(help_text="1, 2, 3... in the order the draft was frozen.")
    note = models.TextField(blank=True)
    sha256 = models.CharField(max_length=64, help_text="sha256 of the version's canonical JSONL export.")
    counts = models.JSONField(default=dict, help_text='Examples per split: {"train": 80, "validation": 10, ...}.')
    example_count = models.PositiveIntegerField(default=0)
    # No database constraint and no ON DELETE action: parents only disappear with their whole dataset.
    parent = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.DO_NOTHING, related_name="+", db_constraint=False
    )
    # SET_NULL is the one change the trigger allows: deleting a user must not be blocked by a version.
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by_name = models.CharField(max_length=200, blank=True, help_text="Who froze it: a username or API key.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["dataset", "-number"]
        constraints = [models.UniqueConstraint(fields=["dataset", "number"], name="uniq_version_number")]

    def __str__(self) -> str:
        return f"{self.dataset.name} v{self.number}"


class VersionTag(models.Model):
    """A movable name for a version of a dataset, e.g. `prod`."""

    dataset = models.ForeignKey("examples_lib.Dataset", on_delete=models.CASCADE, related_name="tags")
    name = models.SlugField(max_length=100)
    version = models.ForeignKey(DatasetVersion, on_delete=models.CASCADE, related_name="tags")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["dataset", "name"]
        constraints = [models.UniqueConstraint(fields=["dataset", "name"], name="uniq_version_tag_name")]

    def __str__(self) -> str:
        return self.name


class VersionExample(models.Model):
    """A frozen example of one version. Written once by one INSERT ... SELECT, never updated."""

    # No index of its own: uniq_version_example_ordinal (version, ordinal) serves every lookup by version. No
    # database constraint either: the one writer is the freeze statement, which takes the id of the version it
    # created in the same transaction, and a per-row RI check would add ~30% to freezing. Django still cascades.
    version = models.ForeignKey(
        DatasetVersion, on_delete=models.CASCADE, related_name="examples", db_index=False, db_constraint=False
    )
    stable_id = models.CharField(max_length=64)
    input = models.JSONField()
    expected_output = models.JSONField()
    metadata = models.JSONField(default=dict)
    split = models.CharField(max_length=12, choices=Split.choices)
    lineage = models.JSONField(default=dict)
    ordinal = models.PositiveIntegerField(help_text="Position in every export of the version.")
    # The canonical JSONL line of the columns above, written by the same INSERT ... SELECT that freezes the row:
    # exports stream it without rebuilding JSON (3-4x faster), export_dataset re-derives it to verify the hash.
    line = models.TextField(default="", help_text="The row's canonical JSONL line (without the newline).")

    class Meta:
        ordering = ["version", "ordinal"]
        constraints = [
            models.UniqueConstraint(fields=["version", "ordinal"], name="uniq_version_example_ordinal"),
            models.UniqueConstraint(fields=["version", "stable_id"], name="uniq_version_example_stable_id"),
        ]
        indexes = [models.Index(fields=["version", "split", "ordinal"], name="version_example_split")]

    def __str__(self) -> str:
        return self.stable_id
