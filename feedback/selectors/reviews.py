"""Reads of the review workflow: the queue, one item's review page, and the choices of the queue's filters."""

import logging

from django.core.cache import cache
from django.db import connection
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from feedback.models import ClaimEvent, ErrorCategory, Feedback, Interaction, Review, ReviewItem
from feedback.selectors.clusters import similar_failures

logger = logging.getLogger(__name__)

# Failures first, the most negative feedback first, then the newest.
QUEUE_ORDERING = ("-is_failure", "-negative_count", "-occurred_at", "-id")
# Distinct values over the whole table are worth a short cache: filter sidebars show them on every page view.
_CHOICES_CACHE_SECONDS = 120
FEEDBACK_LIMIT = 100


def active_reviews() -> QuerySet:
    return Review.objects.filter(superseded_at__isnull=True)


def review_queue(*, base: QuerySet | None = None) -> QuerySet:
    """Queue rows with their relations; the latest verdicts of a page come from latest_verdicts (one query)."""
    qs = base if base is not None else ReviewItem.objects.all()
    return qs.select_related("project", "claimed_by", "cluster")


def row_estimate(*, model) -> int:
    """The planner's row estimate of a model's table (-1 before its first ANALYZE): a count that costs nothing."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT reltuples::bigint FROM pg_class WHERE oid = %s::regclass", [model._meta.db_table])
        row = cursor.fetchone()
    return int(row[0]) if row else -1


def latest_verdicts(*, interaction_ids: list[int]) -> dict[int, tuple[str, str | None]]:
    """{interaction id: (verdict, category name)} of the latest active review of each, in one query.

    Kept out of the queue query on purpose: as a subquery per row it would also run for every row an OFFSET skips.
    """
    rows = (
        active_reviews()
        .filter(interaction_id__in=interaction_ids)
        .order_by("interaction_id", "-created_at", "-id")
        .distinct("interaction_id")
        .values_list("interaction_id", "verdict", "error_category__name")
    )
    return {pk: (verdict, category) for pk, verdict, category in rows}


def filter_review_status(qs: QuerySet, status: str) -> QuerySet:
    """The status as it is now: a stored in_review whose claim lapsed counts as unreviewed."""
    now = timezone.now()
    live_claim = Q(claimed_by__isnull=False, claim_expires_at__gt=now)
    if status == Interaction.ReviewStatus.REVIEWED:
        return qs.filter(review_status=status)
    if status == Interaction.ReviewStatus.IN_REVIEW:
        return qs.exclude(review_status=Interaction.ReviewStatus.REVIEWED).filter(live_claim)
    return qs.exclude(review_status=Interaction.ReviewStatus.REVIEWED).exclude(live_claim)


def filter_feedback_kind(qs: QuerySet, kind: str) -> QuerySet:
    """kind is 'name:DATA_TYPE' (one feedback name with its type) or 'correction' (any feedback with one)."""
    feedback = Feedback.objects.filter(interaction=OuterRef("pk"))
    if kind == "correction":
        feedback = feedback.filter(correction__isnull=False)
    else:
        name, _, data_type = kind.rpartition(":")  # names may hold ":" (regression:exact); types never do
        feedback = feedback.filter(name=name, data_type=data_type)
    return qs.filter(Exists(feedback))


def filter_error_category(qs: QuerySet, category_id: str) -> QuerySet:
    return qs.filter(Exists(active_reviews().filter(interaction=OuterRef("pk"), error_category_id=category_id)))


def search_queue(qs: QuerySet, term: str) -> QuerySet:
    """Search over input, output and feedback comments (case-insensitive substring)."""
    comments = Feedback.objects.filter(interaction=OuterRef("pk"), comment__icontains=term)
    return qs.filter(Q(input__icontains=term) | Q(output__icontains=term) | Q(external_id=term) | Exists(comments))


def _cached(key: str, compute):
    value = cache.get(key)
    if value is None:
        value = compute()
        cache.set(key, value, _CHOICES_CACHE_SECONDS)
    return value


def field_choices(field: str) -> list[str]:
    """Distinct non-empty values of `model` or `prompt_version` (cached)."""
    assert field in {"model", "prompt_version"}
    return _cached(
        f"review-queue:{field}",
        lambda: sorted(v for v in Interaction.objects.order_by().values_list(field, flat=True).distinct()[:200] if v),
    )


def feedback_kind_choices() -> list[tuple[str, str]]:
    def compute():
        pairs = Feedback.objects.order_by().values_list("name", "data_type").distinct()[:100]
        kinds = [(f"{name}:{data_type}", f"{name} ({data_type.lower()})") for name, data_type in pairs if name]
        return [*sorted(kinds), ("correction", "has a correction")]

    return _cached("review-queue:feedback-kinds", compute)


def error_categories_for(*, project_id: int) -> QuerySet:
    return ErrorCategory.objects.filter(project_id=project_id).order_by("name")


def review_page(*, interaction_id: int) -> dict:
    """Everything the review page shows about one item, in a fixed number of queries."""
    interaction = Interaction.objects.select_related("project", "claimed_by", "cluster").get(pk=interaction_id)
    feedback = list(interaction.feedback.order_by("-created_at", "-id")[:FEEDBACK_LIMIT])
    reviews = list(interaction.reviews.select_related("reviewer", "error_category").order_by("-created_at", "-id"))
    claims = list(ClaimEvent.objects.filter(interaction=interaction).select_related("user")[:50])
    return {
        "interaction": interaction,
        "feedback": feedback,
        "reviews": reviews,
        "claims": claims,
        "categories": list(error_categories_for(project_id=interaction.project_id)),
        "similar": list(similar_failures(interaction=interaction, k=5)),
    }


def reviews_of(*, interaction: Interaction) -> QuerySet:
    return interaction.reviews.select_related("error_category", "reviewer").order_by("-created_at", "-id")


def reviews_visible_of(*, interaction: Interaction, reviewer_name: str = "", limit: int = 100) -> tuple[list, int]:
    """(reviews an API client may see, how many are hidden): on an open overlap item only `reviewer_name`'s."""
    from feedback.selectors.overlap import overlap_state, visible_reviews

    reviews = list(reviews_of(interaction=interaction)[:limit])
    state = overlap_state(interaction=interaction, reviews=reviews)
    shown = visible_reviews(reviews=reviews, state=state, reviewer_name=reviewer_name)
    return shown, len(reviews) - len(shown)
