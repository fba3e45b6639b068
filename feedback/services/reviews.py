"""Reviews: an SME's verdict on an interaction, from the admin or the API, under the same rules.

Every write goes through django-simple-history (`Review.history`), so each verdict, correction change and
supersession keeps who did it and when.
"""

import json
import re

from django.db import transaction
from django.db.models import Case, Exists, OuterRef, Q, Value, When
from django.utils import timezone
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from core.errors import ApplicationError
from feedback.models import ErrorCategory, Interaction, Project, Review
from feedback.services.claims import claims_complete

Verdict = Review.Verdict
ReviewStatus = Interaction.ReviewStatus
_SLUG = re.compile(r"^[-a-zA-Z0-9_]+$")


def _invalid(message: str, field: str, code: str = "invalid", status_code: int = 400) -> ApplicationError:
    return ApplicationError(message, code=code, status_code=status_code, fields={field: [message]})


def correction_parse(*, interaction: Interaction, text: str) -> object:
    """The correction as stored: text for a text output, JSON for a JSON output (the SME edits it as text)."""
    if isinstance(interaction.output, str):
        return text
    try:
        return json.loads(text)
    except ValueError as exc:
        raise _invalid(f"The output is JSON, so the correction must be valid JSON: {exc}.", "correction") from exc


def _is_blank(value: object) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def review_validate(*, interaction: Interaction, verdict: str, correction: object, error_category) -> None:
    if verdict not in Verdict.values:
        raise _invalid(f"The verdict must be one of {', '.join(Verdict.values)}.", "verdict")
    if verdict == Verdict.CORRECTED:
        if _is_blank(correction):
            raise _invalid("A 'corrected' verdict needs the corrected output.", "correction")
        if correction == interaction.output:
            raise _invalid("The correction is the same as the output; use the 'correct' verdict.", "correction")
    elif not _is_blank(correction):
        raise _invalid("Only a 'corrected' verdict carries a correction; drop it or change the verdict.", "correction")
    if error_category is not None and error_category.project_id != interaction.project_id:
        raise _invalid("This error category belongs to another project.", "error_category")


def error_category_resolve(*, project: Project, name: str, create: bool) -> ErrorCategory:
    """The project's category of that name; created only when `create` (an API key with the curate scope)."""
    name = name.strip()
    if not _SLUG.match(name):
        raise _invalid("An error category is a slug: letters, digits, '-' and '_'.", "error_category")
    category = ErrorCategory.objects.filter(project=project, name=name).first()
    if category is not None:
        return category
    if not create:
        raise _invalid(
            f"The project has no error category '{name}'; an API key with the 'curate' scope creates it.",
            "error_category",
        )
    category, _ = ErrorCategory.objects.get_or_create(project=project, name=name)
    return category


def interactions_review_status_refresh(*, interaction_ids: list[int]) -> None:
    """Derive the stored review status: reviewed (an active review), in review (a live claim), else unreviewed."""
    now = timezone.now()
    has_active = Exists(Review.objects.filter(interaction=OuterRef("pk"), superseded_at__isnull=True))
    Interaction.objects.filter(pk__in=interaction_ids).update(
        review_status=Case(
            When(has_active, then=Value(ReviewStatus.REVIEWED)),
            When(Q(claimed_by__isnull=False, claim_expires_at__gt=now), then=Value(ReviewStatus.IN_REVIEW)),
            default=Value(ReviewStatus.UNREVIEWED),
        )
    )


def failure_state_refresh(*, interaction_ids: list[int]) -> None:
    """A 'corrected' verdict makes a failure: refresh is_failure and embed the interactions that became one."""
    from feedback.services.failures import failures_enqueue_embedding, interactions_refresh_state

    new_failures = interactions_refresh_state(interaction_ids=interaction_ids)
    failures_enqueue_embedding(interaction_ids=new_failures)


def _after_reviews(*, interaction_ids: list[int], user) -> None:
    if user is not None:
        claims_complete(interaction_ids=interaction_ids, user=user)
    interactions_review_status_refresh(interaction_ids=interaction_ids)
    failure_state_refresh(interaction_ids=interaction_ids)


def _supersede(reviews: list[Review], *, now, user) -> None:
    for review in reviews:
        review.superseded_at = now
    if reviews:
        bulk_update_with_history(reviews, Review, ["superseded_at"], default_user=user)


@transaction.atomic
def review_create(
    *,
    interaction: Interaction,
    verdict: str,
    correction: object = None,
    error_category: ErrorCategory | None = None,
    notes: str = "",
    reviewer=None,
    reviewer_name: str = "",
) -> Review:
    """Record a verdict; it supersedes the same reviewer's earlier verdict on the item and ends their claim."""
    review_validate(interaction=interaction, verdict=verdict, correction=correction, error_category=error_category)
    now = timezone.now()
    locked = Interaction.objects.select_for_update().get(pk=interaction.pk)
    held_by_other = locked.claimed_by_id is not None and reviewer is not None and locked.claimed_by_id != reviewer.pk
    if held_by_other and locked.claim_expires_at is not None and locked.claim_expires_at > now:
        raise ApplicationError(
            "Another SME holds this item; wait until their claim lapses or take another one.",
            code="claimed",
            status_code=409,
        )
    if reviewer is not None:
        same_reviewer = Q(reviewer=reviewer)
    else:
        same_reviewer = Q(reviewer__isnull=True, reviewer_name=reviewer_name)
    earlier = list(
        Review.objects.filter(same_reviewer, interaction=interaction, superseded_at__isnull=True, is_adjudication=False)
    )
    if reviewer is None and not reviewer_name:
        earlier = []  # anonymous API verdicts are independent opinions
    _supersede(earlier, now=now, user=reviewer)

    review = Review(
        project_id=interaction.project_id,
        interaction=interaction,
        reviewer=reviewer,
        reviewer_name=reviewer_name or (reviewer.get_username() if reviewer is not None else ""),
        verdict=verdict,
        correction=correction if verdict == Verdict.CORRECTED else None,
        error_category=error_category,
        notes=notes or "",
    )
    if reviewer is not None:
        review._history_user = reviewer
    review.save()
    _after_reviews(interaction_ids=[interaction.pk], user=reviewer)
    return review


@transaction.atomic
def reviews_mark_invalid(*, interaction_ids: list[int], user, notes: str = "") -> tuple[int, int]:
    """Bulk verdict 'invalid' by `user`, set-based. Returns (reviewed, skipped: held by another SME)."""
    now = timezone.now()
    held_by_other = Q(claimed_by__isnull=False) & ~Q(claimed_by=user) & Q(claim_expires_at__gt=now)
    rows = list(
        Interaction.objects.filter(pk__in=interaction_ids)
        .exclude(held_by_other)
        .select_for_update(of=("self",))
        .values_list("pk", "project_id")
    )
    ids = [pk for pk, _ in rows]
    _supersede(
        list(
            Review.objects.filter(
                interaction_id__in=ids, reviewer=user, superseded_at__isnull=True, is_adjudication=False
            )
        ),
        now=now,
        user=user,
    )
    reviews = [
        Review(
            project_id=project_id,
            interaction_id=pk,
            reviewer=user,
            reviewer_name=user.get_username(),
            verdict=Verdict.INVALID,
            notes=notes,
        )
        for pk, project_id in rows
    ]
    bulk_create_with_history(reviews, Review, default_user=user, default_date=now)
    if ids:
        _after_reviews(interaction_ids=ids, user=user)
    return len(ids), len(set(interaction_ids)) - len(ids)


@transaction.atomic
def reviews_set_category(*, interaction_ids: list[int], category: ErrorCategory, user) -> tuple[int, int]:
    """Put the active reviews of these items in `category`. Returns (items updated, items skipped).

    Items without an active review, or of another project than the category's, are skipped.
    """
    reviews = list(
        Review.objects.filter(
            interaction_id__in=interaction_ids, superseded_at__isnull=True, project_id=category.project_id
        ).exclude(error_category=category)
    )
    for review in reviews:
        review.error_category = category
    if reviews:
        bulk_update_with_history(reviews, Review, ["error_category"], default_user=user)
    already = Review.objects.filter(
        interaction_id__in=interaction_ids, superseded_at__isnull=True, error_category=category
    ).values_list("interaction_id", flat=True)
    updated = len(set(already))
    return updated, len(set(interaction_ids)) - updated


@transaction.atomic
def review_supersede(*, review: Review, user) -> Review:
    """Withdraw a verdict (e.g. a mistaken one); the item goes back to the queue when no verdict is left."""
    if review.superseded_at is None:
        _supersede([review], now=timezone.now(), user=user)
        interactions_review_status_refresh(interaction_ids=[review.interaction_id])
        failure_state_refresh(interaction_ids=[review.interaction_id])
    return review


@transaction.atomic
def review_import(
    *,
    interaction: Interaction,
    verdict: str,
    correction: object = None,
    error_category_name: str | None = None,
    create_category: bool = False,
    notes: str = "",
    reviewer_name: str = "",
) -> Review:
    """A verdict from an API client: the category is found by name (created when `create_category`)."""
    category = None
    if error_category_name:
        category = error_category_resolve(project=interaction.project, name=error_category_name, create=create_category)
    return review_create(
        interaction=interaction,
        verdict=verdict,
        correction=correction,
        error_category=category,
        notes=notes,
        reviewer_name=reviewer_name,
    )
