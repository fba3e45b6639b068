"""Reads of interactions for ML engineers (API.md, Reading): filtered lists and one interaction in full."""

from datetime import datetime

from django.db.models import Prefetch, QuerySet, prefetch_related_objects

from core.errors import ApplicationError
from feedback.models import Feedback, Interaction, Review
from feedback.selectors.overlap import overlap_state, visible_reviews

DETAIL_FEEDBACK_LIMIT = 100

# Columns a list page shows; the rest (claims, hashes) stays in the database.
_LIST_FIELDS = (
    "id", "project_id", "external_id", "input", "output", "model", "prompt_version", "trace_id", "metadata",
    "occurred_at", "created_at", "feedback_count", "negative_count", "is_failure", "review_status", "cluster_id",
)  # fmt: skip


def interaction_list(
    *,
    project_id: int,
    model: str | None = None,
    prompt_version: str | None = None,
    feedback: str | None = None,
    review_status: str | None = None,
    cluster: int | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> QuerySet[Interaction]:
    """The project's interactions matching the filters, newest first. `feedback` is negative|positive|none:
    negative means a failure (see services/failures.py); positive means feedback and no failure."""
    qs = Interaction.objects.filter(project_id=project_id).only(*_LIST_FIELDS)
    if model is not None:
        qs = qs.filter(model=model)
    if prompt_version is not None:
        qs = qs.filter(prompt_version=prompt_version)
    if feedback == "negative":
        qs = qs.filter(is_failure=True)
    elif feedback == "positive":
        qs = qs.filter(is_failure=False, feedback_count__gt=0)
    elif feedback == "none":
        qs = qs.filter(feedback_count=0)
    if review_status is not None:
        qs = qs.filter(review_status=review_status)
    if cluster is not None:
        qs = qs.filter(cluster_id=cluster)
    if since is not None:
        qs = qs.filter(occurred_at__gte=since)
    if until is not None:
        qs = qs.filter(occurred_at__lt=until)
    return qs.order_by("-occurred_at", "-id")


def interaction_of_project(*, project_id: int, external_id: str) -> Interaction:
    """The project's interaction by the client's id; 404 for unknown ids and for other projects' ids alike."""
    interaction = Interaction.objects.filter(project_id=project_id, external_id=external_id).first()
    if interaction is None:
        raise ApplicationError(f"No interaction '{external_id}' in this project.", code="not_found", status_code=404)
    return interaction


def interaction_get(*, project_id: int, external_id: str) -> Interaction:
    """One interaction of the project with its latest feedback and its visible reviews (4 queries), else a 404."""
    interaction = interaction_of_project(project_id=project_id, external_id=external_id)
    latest_feedback = Feedback.objects.order_by("-created_at", "-id")[:DETAIL_FEEDBACK_LIMIT]
    reviews = Review.objects.select_related("error_category", "reviewer").order_by("created_at", "id")
    prefetch_related_objects(
        [interaction],
        Prefetch("feedback", queryset=latest_feedback, to_attr="latest_feedback"),
        Prefetch("reviews", queryset=reviews, to_attr="ordered_reviews"),
    )
    # Blind overlap: no verdict of an overlap item is shown while SMEs are still giving theirs.
    state = overlap_state(interaction=interaction, reviews=interaction.ordered_reviews)
    interaction.ordered_reviews = visible_reviews(reviews=interaction.ordered_reviews, state=state)
    return interaction
