from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models

from core.models import TimeStampedModel


class Project(TimeStampedModel):
    """The tenant boundary: one AI application."""

    slug = models.SlugField(max_length=100, unique=True, help_text="Stable identifier used in URLs and commands.")
    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)

    class Meta:
        ordering = ["slug"]

    def __str__(self) -> str:
        return self.slug


class ProjectMembership(models.Model):
    """A staff user's access to one project in the admin (feedback/admin/scoping.py); superusers need none."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="project_memberships")
    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="memberships")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "project"], name="uniq_project_membership")]

    def __str__(self) -> str:
        return f"{self.user} in {self.project}"


class ScoreThreshold(models.Model):
    """A numeric score under `threshold` counts as negative feedback (a failure) for this project."""

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="score_thresholds")
    name = models.CharField(max_length=100, help_text="Feedback name, e.g. 'helpfulness'.")
    threshold = models.FloatField(help_text="Scores strictly below this value are negative.")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["project", "name"], name="uniq_score_threshold_name")]

    def __str__(self) -> str:
        return f"{self.name} < {self.threshold}"


class ApiKey(TimeStampedModel):
    class Scope(models.TextChoices):
        INGEST = "ingest", "Ingest"
        READ = "read", "Read"
        REVIEW = "review", "Review"
        CURATE = "curate", "Curate"

    project = models.ForeignKey(Project, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=200, blank=True)
    prefix = models.CharField(max_length=16, unique=True, help_text="Visible part of the key, to recognise it.")
    secret_hash = models.CharField(max_length=64, help_text="sha256 of the full key; the key itself is not stored.")
    scopes = ArrayField(models.CharField(max_length=16, choices=Scope.choices), default=list)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL)

    class Meta:
        verbose_name = "API key"

    def __str__(self) -> str:
        return f"{self.prefix}… ({self.project.slug})"
