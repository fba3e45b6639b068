"""Claims on review-queue items: one SME at a time per item, guaranteed by the database, and lapsing by themselves.

Two SMEs never hold the same item because every claim is a conditional UPDATE ("still free, or mine, or expired")
and "next" locks its candidate with SELECT ... FOR UPDATE SKIP LOCKED, so concurrent "next" calls skip each
other's rows instead of waiting for them.
"""

from collections.abc import Iterable
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Case, Exists, OuterRef, Q, QuerySet, Value, When
from django.utils import timezone

from core.errors import ApplicationError
from feedback.models import ClaimEvent, Interaction, Review
from feedback.selectors.overlap import open_overlap_condition, verdicts
from feedback.selectors.reviews import QUEUE_ORDERING

ReviewStatus = Interaction.ReviewStatus


def claim_expiry(now: datetime) -> datetime:
    return now + timedelta(minutes=settings.REVIEW_CLAIM_MINUTES)


def _free_or_mine(*, user, now: datetime) -> Q:
    return Q(claimed_by__isnull=True) | Q(claim_expires_at__lte=now) | Q(claimed_by=user)


def _status_while_claimed() -> Case:
    # A reviewed item claimed again (a second opinion) stays reviewed; anything else is now in review.
    return Case(
        When(review_status=ReviewStatus.REVIEWED, then=Value(ReviewStatus.REVIEWED)),
        default=Value(ReviewStatus.IN_REVIEW),
    )


def _status_when_free() -> Case:
    return Case(
        When(review_status=ReviewStatus.REVIEWED, then=Value(ReviewStatus.REVIEWED)),
        default=Value(ReviewStatus.UNREVIEWED),
    )


def _take(*, interaction_id: int, user, now: datetime, previous: dict | None) -> Interaction | None:
    """Claim one row if it is still free (or ours, or expired); records the audit events. None if lost."""
    expires_at = claim_expiry(now)
    updated = (
        Interaction.objects.filter(pk=interaction_id)
        .filter(_free_or_mine(user=user, now=now))
        .update(claimed_by=user, claim_expires_at=expires_at, review_status=_status_while_claimed())
    )
    if not updated:
        return None
    events = []
    held_before = previous and previous["claimed_by_id"]
    if held_before and held_before != user.pk:
        # The previous holder's claim had lapsed: say so in the trail, at the moment it was taken over.
        events.append(
            ClaimEvent(
                interaction_id=interaction_id,
                user_id=held_before,
                action=ClaimEvent.Action.EXPIRED,
                expires_at=previous["claim_expires_at"],
            )
        )
    if not (held_before == user.pk and previous["claim_expires_at"] and previous["claim_expires_at"] > now):
        events.append(
            ClaimEvent(
                interaction_id=interaction_id, user=user, action=ClaimEvent.Action.CLAIMED, expires_at=expires_at
            )
        )
    ClaimEvent.objects.bulk_create(events)
    return Interaction.objects.select_related("project", "claimed_by").get(pk=interaction_id)


def _holder_state(interaction_id: int) -> dict | None:
    return Interaction.objects.filter(pk=interaction_id).values("claimed_by_id", "claim_expires_at").first()


@transaction.atomic
def claim(*, interaction_id: int, user) -> Interaction:
    """Claim (or extend the claim on) one item; 409 when another SME holds it and the claim has not lapsed."""
    now = timezone.now()
    previous = _holder_state(interaction_id)
    if previous is None:
        raise ApplicationError("This interaction does not exist.", code="not_found", status_code=404)
    interaction = _take(interaction_id=interaction_id, user=user, now=now, previous=previous)
    if interaction is None:
        holder = Interaction.objects.select_related("claimed_by").get(pk=interaction_id)
        raise ApplicationError(
            f"{holder.claimed_by} is reviewing this item until "
            f"{timezone.localtime(holder.claim_expires_at):%H:%M}; take another one.",
            code="claimed",
            status_code=409,
        )
    return interaction


@transaction.atomic
def claim_next(
    *,
    user,
    queryset: QuerySet | None = None,
    exclude_ids: Iterable[int] = (),
    failures_only: bool = True,
) -> Interaction | None:
    """Claim the next free unreviewed item in queue order (the user's own live claim first); None when done.

    Overlap items (feedback.selectors.overlap) count as unreviewed until enough distinct SMEs judged them.

    `queryset` narrows the candidates (the queue's current filters).
    """
    now = timezone.now()
    candidates = Interaction.objects.exclude(review_status=ReviewStatus.REVIEWED)
    still_open = open_overlap_condition()
    if still_open is not None:
        # Overlap items stay in the queue until enough distinct SMEs judged them, never twice for the same SME.
        mine = Review.objects.filter(verdicts(), interaction=OuterRef("pk"), reviewer=user)
        candidates = Interaction.objects.filter(~Q(review_status=ReviewStatus.REVIEWED) | still_open).exclude(
            Exists(mine)
        )
    if failures_only:
        candidates = candidates.filter(is_failure=True)
    if queryset is not None:
        candidates = candidates.filter(pk__in=queryset.order_by().values("pk"))
    exclude_ids = list(exclude_ids)
    if exclude_ids:
        candidates = candidates.exclude(pk__in=exclude_ids)

    own = candidates.filter(claimed_by=user, claim_expires_at__gt=now).order_by(*QUEUE_ORDERING).first()
    if own is not None:
        return claim(interaction_id=own.pk, user=user)

    for _attempt in range(3):
        row = (
            candidates.filter(Q(claimed_by__isnull=True) | Q(claim_expires_at__lte=now))
            .order_by(*QUEUE_ORDERING)
            .select_for_update(skip_locked=True, of=("self",))
            .values("pk", "claimed_by_id", "claim_expires_at")
            .first()
        )
        if row is None:
            return None
        interaction = _take(interaction_id=row["pk"], user=user, now=now, previous=row)
        if interaction is not None:
            return interaction
    return None


@transaction.atomic
def release(*, interaction_id: int, user) -> bool:
    """Give an item back to the queue. False when the user did not hold it."""
    released = Interaction.objects.filter(pk=interaction_id, claimed_by=user).update(
        claimed_by=None, claim_expires_at=None, review_status=_status_when_free()
    )
    if released:
        ClaimEvent.objects.create(interaction_id=interaction_id, user=user, action=ClaimEvent.Action.RELEASED)
    return bool(released)


def claims_complete(*, interaction_ids: list[int], user) -> int:
    """End the user's claims on items they just reviewed (callers run it inside their transaction)."""
    held = list(Interaction.objects.filter(pk__in=interaction_ids, claimed_by=user).values_list("pk", flat=True))
    if not held:
        return 0
    Interaction.objects.filter(pk__in=held, claimed_by=user).update(claimed_by=None, claim_expires_at=None)
    ClaimEvent.objects.bulk_create(
        [ClaimEvent(interaction_id=pk, user=user, action=ClaimEvent.Action.COMPLETED) for pk in held]
    )
    return len(held)


@transaction.atomic
def claims_expire(*, now: datetime | None = None) -> int:
    """Clear lapsed claims so that the stored review status is true again; records an `expired` event each."""
    now = now or timezone.now()
    lapsed = list(
        Interaction.objects.filter(claimed_by__isnull=False, claim_expires_at__lte=now)
        .select_for_update(skip_locked=True)
        .values_list("pk", "claimed_by_id", "claim_expires_at")
    )
    if not lapsed:
        return 0
    ids = [pk for pk, _, _ in lapsed]
    Interaction.objects.filter(pk__in=ids, claim_expires_at__lte=now).update(
        claimed_by=None, claim_expires_at=None, review_status=_status_when_free()
    )
    ClaimEvent.objects.bulk_create(
        [
            ClaimEvent(interaction_id=pk, user_id=user_id, action=ClaimEvent.Action.EXPIRED, expires_at=expires_at)
            for pk, user_id, expires_at in lapsed
        ]
    )
    return len(lapsed)
