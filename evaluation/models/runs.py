"""Regression runs: one candidate's outputs for a pinned dataset version, their scores, and named baselines."""

from django.contrib.postgres.fields import ArrayField
from django.db import models


class Run(models.Model):
    """One model/prompt candidate evaluated against one dataset version (optionally one split)."""

    class Status(models.TextChoices):
        COLLECTING = "collecting", "Collecting outputs"
        SCORING = "scoring", "Scoring"
        SUCCEEDED = "succeeded", "Succeeded"
        FAILED = "failed", "Failed"

    project = models.ForeignKey("feedback.Project", on_delete=models.CASCADE, related_name="evaluation_runs")
    dataset = models.ForeignKey("examples_lib.Dataset", on_delete=models.CASCADE, related_name="evaluation_runs")
    # The version as resolved at creation: a tag that moves later never changes what a run measured.
    version = models.ForeignKey("examples_lib.DatasetVersion", on_delete=models.PROTECT, related_name="+")
    version_number = models.PositiveIntegerField(help_text="The pinned version's number.")
    version_sha256 = models.CharField(max_length=64, help_text="The pinned version's content hash.")
    version_ref = models.CharField(max_length=100, blank=True, help_text="What was asked for: number, tag, latest.")
    split = models.CharField(max_length=12, blank=True, help_text="train, validation or test; blank for all.")
    name = models.CharField(max_length=200, blank=True)
    model = models.CharField(max_length=200, blank=True)
    prompt_version = models.CharField(max_length=200, blank=True)
    scorers = models.JSONField(default=list, help_text='Scorer configs, e.g. [{"kind": "exact", "name": "exact"}].')
    gates = models.JSONField(default=list, help_text='e.g. [{"scorer": "exact", "min_pass_rate": 0.9}].')
    baseline = models.ForeignKey("self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    feed_regressions = models.BooleanField(
        default=True, help_text="Send each regressed example to the review queue as automated negative feedback."
    )
    judge_secret = models.CharField(max_length=200, blank=True, help_text="Signs requests to judge scorers.")
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.COLLECTING)
    chunk_starts = ArrayField(models.PositiveIntegerField(), default=list, help_text="First ordinal of each chunk.")
    chunks_done = ArrayField(models.PositiveIntegerField(), default=list)
    summary = models.JSONField(default=dict, blank=True)
    verdict = models.JSONField(default=dict, blank=True)
    counts = models.JSONField(default=dict, blank=True, help_text="examples, outputs, missing.")
    error = models.TextField(blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_by_name = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    completed_at = models.DateTimeField(null=True, blank=True, help_text="When outputs were closed.")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["dataset", "-created_at", "-id"], name="run_dataset_recent")]

    def __str__(self) -> str:
        return f"run {self.pk}" + (f" {self.name}" if self.name else "")

    @property
    def progress(self) -> float:
        if self.status in (self.Status.SUCCEEDED, self.Status.FAILED):
            return 1.0
        if self.status == self.Status.COLLECTING or not self.chunk_starts:
            return 0.0
        return round(len(self.chunks_done) / len(self.chunk_starts), 4)


class RunOutput(models.Model):
    """The candidate's output for one example of the pinned version."""

    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="outputs", db_index=False)
    # No database constraint: version rows are immutable and only vanish with their dataset (and so the run). No
    # index of its own either: every lookup is by (run, example), which uniq_run_output serves.
    example = models.ForeignKey(
        "examples_lib.VersionExample",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    output = models.JSONField()
    output_hash = models.CharField(max_length=64, help_text="sha256 of output, latency and metadata.")
    latency_ms = models.IntegerField(null=True, blank=True)
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "example"], name="uniq_run_output")]


class RunScore(models.Model):
    """One scorer's result on one example of a run (missing outputs fail every scorer)."""

    # Scores are written only by the chunk upsert, for a run it has just read; a per-row foreign key check (and an
    # index per column) would cost about as much as the upsert itself. Django still cascades a run's deletion, and
    # uniq_run_score (run, example, scorer) serves every lookup.
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="scores", db_index=False, db_constraint=False)
    example = models.ForeignKey(
        "examples_lib.VersionExample",
        on_delete=models.DO_NOTHING,
        related_name="+",
        db_constraint=False,
        db_index=False,
    )
    scorer = models.CharField(max_length=100)
    score = models.FloatField(null=True, blank=True)
    passed = models.BooleanField()
    error = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["run", "example", "scorer"], name="uniq_run_score")]


class BaselineTag(models.Model):
    """A movable name for the run a dataset's candidates are compared with, e.g. `prod`."""

    dataset = models.ForeignKey("examples_lib.Dataset", on_delete=models.CASCADE, related_name="baseline_tags")
    tag = models.SlugField(max_length=100)
    run = models.ForeignKey(Run, on_delete=models.CASCADE, related_name="baseline_tags")
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["dataset", "tag"]
        constraints = [models.UniqueConstraint(fields=["dataset", "tag"], name="uniq_baseline_tag")]

    def __str__(self) -> str:
        return self.tag
