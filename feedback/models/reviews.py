from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords


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
    history = HistoricalRecords()

    class Meta:
        indexes = [models.Index(fields=["interaction", "-created_at"], name="review_by_interaction")]

    def __str__(self) -> str:
        return f"{self.verdict} on {self.interaction_id}"
