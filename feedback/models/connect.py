"""What the Connect endpoints keep beyond interactions and feedback: scores waiting for their trace, and the
presigned tokens through which a browser posts feedback without an API key."""

from django.db import models
from django.db.models.functions import Now


class PendingScore(models.Model):
    """A Langfuse score whose trace or observation has not arrived yet; it becomes feedback when it does."""

    project = models.ForeignKey("feedback.Project", on_delete=models.CASCADE, related_name="+", db_index=False)
    external_id = models.CharField(max_length=255, help_text="The score id (the feedback's idempotency key).")
    trace_id = models.CharField(max_length=200, blank=True, default="")
    observation_id = models.CharField(max_length=255, blank=True, default="")
    item = models.JSONField(help_text="The feedback item, as capture takes it, without its interaction_id.")
    created_at = models.DateTimeField(db_default=Now())

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["project", "external_id"], name="uniq_pending_score_external_id")
        ]
        indexes = [
            models.Index(fields=["project", "observation_id"], name="pending_score_observation"),
            models.Index(fields=["project", "trace_id"], name="pending_score_trace"),
        ]

    def __str__(self) -> str:
        return self.external_id


class FeedbackToken(models.Model):
    """A presigned URL's token: lets whoever holds it post up to max_uses feedback on one interaction."""

    project = models.ForeignKey("feedback.Project", on_delete=models.CASCADE, related_name="+", db_index=False)
    interaction = models.ForeignKey("feedback.Interaction", on_delete=models.CASCADE, related_name="+")
    name = models.CharField(max_length=100, default="thumbs", help_text="The feedback name the token posts.")
    token_hash = models.CharField(max_length=64, unique=True, help_text="sha256 of the token; the token is not kept.")
    max_uses = models.PositiveIntegerField(default=1)
    uses = models.PositiveIntegerField(default=0)
    expires_at = models.DateTimeField()
    created_at = models.DateTimeField(db_default=Now())

    def __str__(self) -> str:
        return f"token {self.pk} for {self.interaction_id}"
