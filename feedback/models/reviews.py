from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from feedback.models.interactions import Interaction


class ErrorCategory(models.Model):
    project = models.ForeignKey("feedback.Project", on_delete=models.CASCADE, related_name="error_categories")
    name = models.SlugField(max_length=100)
    description = models.TextField(blank=True)

    class Meta:
        verbose_name_plural = "error categories"
        ordering = ["name"]
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="uniq_error_category_name")]

    def __str__(self) -> str:
        return self.name


class Review(models.Model):
    """An SME's verdict on an interaction. An interaction may have several (for agreement)."""

    class Verdict(models.TextChoices):
        CORRECT = "correct", "Correct"
        CORRECTED = "corrected", "Corrected"
        INVALID = "invalid", "Invalid"

    project = models.ForeignKey("feedback.Project", on_delete=models.CASCADE, related_name="reviews")
    interaction = models.ForeignKey("feedback.Interaction", on_delete=models.CASCADE, related_name="reviews")
    reviewer = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)
    reviewer_name = models.CharField(max_length=200, blank=True, help_text="Who reviewed, as given by an API client.")
    verdict = models.CharField(max_length=12, choices=Verdict.choices)
    correction = models.JSONField(null=True, blank=True)
    error_category = models.ForeignKey(ErrorCategory, null=True, blank=True, on_delete=models.PROTECT)
    notes = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    superseded_at = models.DateTimeField(
        null=True, blank=True, help_text="Set when the same reviewer reviewed the interaction again."
    )
    is_adjudication = models.BooleanField(
        default=False, help_text="An adjudicator's verdict settling a disagreement of SMEs; promotion uses it."
    )
    history = HistoricalRecords()

    class Meta:
        indexes = [
            models.Index(fields=["interaction", "-created_at"], name="review_by_interaction"),
            models.Index(
                fields=["project", "interaction"], condition=models.Q(superseded_at__isnull=True), name="review_active"
            ),
        ]
        permissions = [("adjudicate_review", "Can adjudicate disagreeing verdicts")]

    def __str__(self) -> str:
        return f"{self.verdict} on {self.interaction_id}"


class ReviewItem(Interaction):
    """The SME review queue: interactions seen through the review workflow (an admin of its own, own permissions)."""

    class Meta:
        proxy = True
        verbose_name = "review queue item"
        verbose_name_plural = "review queue"


class ClaimEvent(models.Model):
    """The audit trail of claims: who took, released or finished an item of the queue, and when."""

    class Action(models.TextChoices):
        CLAIMED = "claimed", "Claimed"
        RELEASED = "released", "Released"
        COMPLETED = "completed", "Completed (reviewed)"
        EXPIRED = "expired", "Expired"

    interaction = models.ForeignKey("feedback.Interaction", on_delete=models.CASCADE, related_name="claim_events")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    action = models.CharField(max_length=12, choices=Action.choices)
    expires_at = models.DateTimeField(null=True, blank=True, help_text="For claims: when the claim lapses.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["interaction", "-created_at"], name="claim_event_by_interaction"),
            models.Index(fields=["-created_at"], name="claim_event_recent"),
        ]

    def __str__(self) -> str:
        return f"{self.action} {self.interaction_id}"
