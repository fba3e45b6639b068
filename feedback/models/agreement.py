from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from feedback.models.interactions import Interaction
from feedback.models.projects import Project


class ReviewPolicy(models.Model):
    """How many SMEs judge an item of a project, and which items: the overlap that agreement is measured on.

    An item is an overlap item when its interaction id falls in `overlap_share` (a fixed hash of the id, so the
    choice never changes for an item), when it belongs to one of `overlap_clusters`, or when a verdict put it in
    one of `overlap_categories`. Overlap items go to `reviewers_per_item` distinct SMEs; the others to one.
    """

    project = models.OneToOneField("feedback.Project", on_delete=models.CASCADE, related_name="review_policy")
    reviewers_per_item = models.PositiveSmallIntegerField(
        default=1,
        validators=[MinValueValidator(1), MaxValueValidator(10)],
        help_text="Distinct SMEs who judge an overlap item (1: no overlap).",
    )
    overlap_share = models.FloatField(
        default=0.0,
        validators=[MinValueValidator(0.0), MaxValueValidator(1.0)],
        help_text="Share of items reviewed by several SMEs, e.g. 0.10 (by a hash of the id).",
    )
    overlap_categories = models.ManyToManyField(
        "feedback.ErrorCategory",
        blank=True,
        related_name="+",
        help_text="Every item a verdict puts in one of these categories is an overlap item.",
    )
    overlap_clusters = models.ManyToManyField(
        "feedback.Cluster",
        blank=True,
        related_name="+",
        help_text="Every item of one of these clusters is an overlap item.",
    )

    class Meta:
        verbose_name_plural = "review policies"
        constraints = [
            models.CheckConstraint(
                condition=models.Q(overlap_share__gte=0) & models.Q(overlap_share__lte=1),
                name="review_policy_share_0_1",
            ),
            models.CheckConstraint(condition=models.Q(reviewers_per_item__gte=1), name="review_policy_reviewers_1"),
        ]

    def __str__(self) -> str:
        return f"{self.project}: {self.reviewers_per_item} reviewer(s) on {self.overlap_share:.0%}"


class AgreementReport(Project):
    """The agreement page of a project in the admin (an admin of its own, with its own view permission)."""

    class Meta:
        proxy = True
        verbose_name = "agreement report"
        verbose_name_plural = "agreement"


class AdjudicationItem(Interaction):
    """The adjudication queue: items whose SMEs disagree, waiting for an adjudicator's verdict."""

    class Meta:
        proxy = True
        verbose_name = "adjudication queue item"
        verbose_name_plural = "adjudication queue"
