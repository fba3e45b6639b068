"""Adjudication: an adjudicator settles the disagreeing verdicts of SMEs with a verdict of their own.

An adjudication is a Review with is_adjudication set: it goes through the same validation and audit history as any
verdict, is not counted as one more SME opinion (agreement statistics and overlap leave it out), and is what
promotion uses for the item (feedback.selectors.adjudication.settlement).
"""

from django.db import transaction
from django.utils import timezone
from simple_history.utils import bulk_update_with_history

from core.errors import ApplicationError
from feedback.models import ErrorCategory, Interaction, Review
from feedback.services.reviews import failure_state_refresh, interactions_review_status_refresh, review_validate

ADJUDICATE_PERMISSION = "feedback.adjudicate_review"


@transaction.atomic
def adjudication_create(
    *,
    interaction: Interaction,
    verdict: str,
    adjudicator,
    correction: object = None,
    error_category: ErrorCategory | None = None,
    notes: str = "",
) -> Review:
    """Record the adjudicated verdict of an item; it replaces an earlier adjudication of the same item."""
    if not adjudicator.has_perm(ADJUDICATE_PERMISSION):
        raise ApplicationError(
            "Only an adjudicator may settle disagreements; ask an admin for the Adjudicator role.",
            code="permission_denied",
            status_code=403,
        )
    review_validate(interaction=interaction, verdict=verdict, correction=correction, error_category=error_category)
    Interaction.objects.select_for_update().filter(pk=interaction.pk).first()  # one adjudication at a time
    now = timezone.now()
    earlier = list(Review.objects.filter(interaction=interaction, is_adjudication=True, superseded_at__isnull=True))
    for review in earlier:
        review.superseded_at = now
    if earlier:
        bulk_update_with_history(earlier, Review, ["superseded_at"], default_user=adjudicator)
    review = Review(
        project_id=interaction.project_id,
        interaction=interaction,
        reviewer=adjudicator,
        reviewer_name=adjudicator.get_username(),
        verdict=verdict,
        correction=correction if verdict == Review.Verdict.CORRECTED else None,
        error_category=error_category,
        notes=notes or "",
        is_adjudication=True,
    )
    review._history_user = adjudicator
    review.save()
    interactions_review_status_refresh(interaction_ids=[interaction.pk])
    failure_state_refresh(interaction_ids=[interaction.pk])
    return review
