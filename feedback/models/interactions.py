from django.conf import settings
from django.db import models
from django.db.models.functions import Now


class Interaction(models.Model):
    """One AI output worth judging."""

    class ReviewStatus(models.TextChoices):
        UNREVIEWED = "unreviewed", "Unreviewed"
        IN_REVIEW = "in_review", "In review"
        REVIEWED = "reviewed", "Reviewed"

    # No index of its own: the indexes below lead with project (each one more index costs every capture write).
    project = models.ForeignKey(
        "feedback.Project", on_delete=models.CASCADE, related_name="interactions", db_index=False
    )
    external_id = models.CharField(max_length=255, help_text="The client's id, unique in the project.")
    input = models.JSONField(help_text="Prompt text or chat messages.")
    output = models.JSONField(help_text="The model's output: a string or JSON.")
    model = models.CharField(max_length=200, blank=True, default="")
    prompt_version = models.CharField(max_length=200, blank=True, default="")
    trace_id = models.CharField(max_length=200, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    occurred_at = models.DateTimeField(db_default=Now())
    created_at = models.DateTimeField(db_default=Now())
    content_hash = models.CharField(
        max_length=64, help_text="sha256 of the canonical content, to tell retries from conflicts."
    )

    # Derived state, kept on the row so that queue and list queries stay cheap.
    feedback_count = models.IntegerField(default=0)
    negative_count = models.IntegerField(default=0)
    is_failure = models.BooleanField(
        default=False, help_text="Negative feedback, a correction, or an SME verdict of wrong."
    )
    review_status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.UNREVIEWED)
    claimed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    claim_expires_at = models.DateTimeField(null=True, blank=True)
    cluster = models.ForeignKey(
        "feedback.Cluster", null=True, blank=True, on_delete=models.SET_NULL, related_name="members"
    )

    class Meta:
        # external_id first: capture looks rows up by external_id with a non-indexable project filter, so that this
        # index is the only candidate however stale the per-project statistics are (services/capture_sql.py).
        constraints = [models.UniqueConstraint(fields=["external_id", "project"], name="uniq_interaction_external_id")]
        indexes = [
            models.Index(fields=["project", "-occurred_at", "-id"], name="interaction_recent"),
            models.Index(fields=["project", "model", "-occurred_at"], name="interaction_model"),
            models.Index(fields=["project", "prompt_version", "-occurred_at"], name="interaction_prompt"),
            models.Index(
                fields=["project", "-negative_count", "-occurred_at"],
                condition=models.Q(is_failure=True),
                name="interaction_failures",
            ),
            # Langfuse scores name a trace (services/connect_scores.py); partial: captures without one pay nothing.
            models.Index(fields=["trace_id", "project"], condition=~models.Q(trace_id=""), name="interaction_trace"),
        ]

    def __str__(self) -> str:
        return self.external_id


class Feedback(models.Model):
    """One judgement on an interaction (names and value types follow Langfuse scores)."""

    class DataType(models.TextChoices):
        NUMERIC = "NUMERIC", "Numeric"
        BOOLEAN = "BOOLEAN", "Boolean"
        CATEGORICAL = "CATEGORICAL", "Categorical"

    class Source(models.TextChoices):
        END_USER = "end_user", "End user"
        SME = "sme", "SME"
        AUTOMATED = "automated", "Automated"

    # No indexes of their own: feedback_recent and feedback_by_interaction lead with them.
    project = models.ForeignKey("feedback.Project", on_delete=models.CASCADE, related_name="feedback", db_index=False)
    interaction = models.ForeignKey(Interaction, on_delete=models.CASCADE, related_name="feedback", db_index=False)
    external_id = models.CharField(max_length=255, help_text="The idempotency key, unique in the project.")
    name = models.CharField(max_length=100, blank=True, default="")
    data_type = models.CharField(max_length=12, choices=DataType.choices, blank=True, default="")
    value_number = models.FloatField(null=True, blank=True, help_text="NUMERIC and BOOLEAN (1/0) values.")
    value_string = models.CharField(max_length=500, blank=True, default="", help_text="CATEGORICAL values.")
    comment = models.TextField(blank=True, default="")
    correction = models.JSONField(null=True, blank=True, help_text="The output as it should have been.")
    source = models.CharField(max_length=12, choices=Source.choices, default=Source.END_USER)
    author = models.CharField(max_length=200, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    is_negative = models.BooleanField(default=False)
    content_hash = models.CharField(max_length=64)
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        verbose_name_plural = "feedback"
        constraints = [models.UniqueConstraint(fields=["external_id", "project"], name="uniq_feedback_external_id")]
        indexes = [
            models.Index(fields=["interaction", "-created_at"], name="feedback_by_interaction"),
            models.Index(fields=["project", "created_at"], name="feedback_recent"),
        ]

    def __str__(self) -> str:
        return self.external_id
