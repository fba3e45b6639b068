"""Overlap: which items go to several SMEs, how many verdicts each still needs, and whose verdicts an SME may see.

An item's overlap membership is a pure function of the project's ReviewPolicy and the item (a multiplicative hash
of its id, its cluster, its verdicts' categories), written once here as SQL conditions (for the queue) and in
Python (for one item's page), so that both paths always agree.
"""

from dataclasses import dataclass

from django.contrib.postgres.aggregates import ArrayAgg
from django.db.models import BigIntegerField, Count, Exists, F, IntegerField, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.db.models.lookups import LessThan

from feedback.models import Interaction, Review, ReviewPolicy

# Knuth's multiplicative hash: spreads consecutive ids evenly over [0, 2**32); the same in SQL and Python.
HASH_MULTIPLIER = 2_654_435_761
HASH_SPACE = 2**32


def overlap_bucket(pk: int) -> float:
    """Where an interaction id falls in [0, 1): the item is chosen for overlap when this is under the share."""
    return ((pk * HASH_MULTIPLIER) % HASH_SPACE) / HASH_SPACE


def verdicts() -> "Q":
    """Active SME verdicts (not superseded, not adjudications): the ones that count towards overlap and agreement."""
    return Q(superseded_at__isnull=True, is_adjudication=False)


@dataclass(frozen=True)
class Policy:
    project_id: int
    reviewers_per_item: int
    overlap_share: float
    category_ids: frozenset[int]
    cluster_ids: frozenset[int]

    @property
    def has_overlap(self) -> bool:
        return self.reviewers_per_item > 1 and bool(self.overlap_share or self.category_ids or self.cluster_ids)


def policies(*, project_ids=None) -> dict[int, Policy]:
    """{project id: Policy} of the projects with overlap, in one query whatever the number of projects."""
    qs = ReviewPolicy.objects.filter(reviewers_per_item__gt=1)
    if project_ids is not None:
        qs = qs.filter(project_id__in=list(project_ids))
    rows = qs.values("project_id", "reviewers_per_item", "overlap_share").annotate(
        category_ids=ArrayAgg("overlap_categories", distinct=True, default=Value([])),
        cluster_ids=ArrayAgg("overlap_clusters", distinct=True, default=Value([])),
    )
    result = {}
    for row in rows:
        policy = Policy(
            project_id=row["project_id"],
            reviewers_per_item=row["reviewers_per_item"],
            overlap_share=row["overlap_share"],
            category_ids=frozenset(pk for pk in row["category_ids"] if pk is not None),
            cluster_ids=frozenset(pk for pk in row["cluster_ids"] if pk is not None),
        )
        if policy.has_overlap:
            result[row["project_id"]] = policy
    return result


def policy_of(*, project_id: int) -> Policy | None:
    return policies(project_ids=[project_id]).get(project_id)


def _overlap_condition(policy: Policy) -> Q:
    bucket = (F("id") * Value(HASH_MULTIPLIER, output_field=BigIntegerField())) % Value(HASH_SPACE)
    chosen = Q(LessThan(bucket, Value(int(policy.overlap_share * HASH_SPACE), output_field=BigIntegerField())))
    if policy.cluster_ids:
        chosen |= Q(cluster_id__in=sorted(policy.cluster_ids))
    if policy.category_ids:
        in_category = Review.objects.filter(
            verdicts(), interaction=OuterRef("pk"), error_category_id__in=sorted(policy.category_ids)
        )
        chosen |= Q(Exists(in_category))
    return Q(project_id=policy.project_id) & chosen


def verdict_count() -> Coalesce:
    counted = (
        Review.objects.filter(verdicts(), interaction=OuterRef("pk"))
        .order_by()
        .values("interaction")
        .annotate(n=Count("*"))
        .values("n")
    )
    return Coalesce(Subquery(counted, output_field=IntegerField()), 0)


def overlap_condition(*, project_ids=None) -> Q | None:
    """SQL condition on Interaction: the overlap items of every project with a policy; None when there are none."""
    found = policies(project_ids=project_ids)
    if not found:
        return None
    condition = Q()
    for policy in found.values():
        condition |= _overlap_condition(policy)
    return condition


def open_overlap_condition(*, project_ids=None) -> Q | None:
    """SQL condition: overlap items that still need verdicts (fewer than the project's reviewers per item)."""
    found = policies(project_ids=project_ids)
    if not found:
        return None
    condition = Q()
    for policy in found.values():
        condition |= _overlap_condition(policy) & Q(LessThan(verdict_count(), Value(policy.reviewers_per_item)))
    return condition


def is_overlap_item(*, interaction: Interaction, policy: Policy | None, category_ids: set[int] = frozenset()) -> bool:
    """The Python twin of _overlap_condition; `category_ids` are the categories of the item's active verdicts."""
    if policy is None or interaction.project_id != policy.project_id:
        return False
    return (
        overlap_bucket(interaction.pk) < policy.overlap_share
        or (interaction.cluster_id is not None and interaction.cluster_id in policy.cluster_ids)
        or bool(set(category_ids) & policy.category_ids)
    )


@dataclass(frozen=True)
class OverlapState:
    is_overlap: bool
    required: int
    given: int

    @property
    def is_open(self) -> bool:
        """Still collecting verdicts: SMEs must not see each other's verdicts yet."""
        return self.is_overlap and self.given < self.required


def overlap_state(*, interaction: Interaction, reviews: list[Review] | None = None) -> OverlapState:
    """The overlap state of one item; `reviews` are its reviews when the caller already has them."""
    policy = policy_of(project_id=interaction.project_id)
    if reviews is None:
        reviews = list(Review.objects.filter(interaction=interaction))
    active = [r for r in reviews if r.superseded_at is None and not r.is_adjudication]
    categories = {r.error_category_id for r in active if r.error_category_id}
    overlap = is_overlap_item(interaction=interaction, policy=policy, category_ids=categories)
    required = policy.reviewers_per_item if overlap else 1
    return OverlapState(is_overlap=overlap, required=required, given=len(active))


def open_overlap_ids(*, interaction_ids: list[int]) -> set[int]:
    """Of these interactions, the overlap items still collecting verdicts (one query without a policy, two with)."""
    condition = open_overlap_condition() if interaction_ids else None
    if condition is None:
        return set()
    return set(Interaction.objects.filter(condition, pk__in=interaction_ids).values_list("pk", flat=True))


def visible_reviews(*, reviews: list[Review], state: OverlapState, user=None, reviewer_name: str = "") -> list[Review]:
    """The reviews a reviewer may see: all of them, except on an open overlap item, where only their own."""
    if not state.is_open:
        return reviews
    if user is not None and user.pk is not None:
        return [r for r in reviews if r.reviewer_id == user.pk]
    if reviewer_name:
        return [r for r in reviews if r.reviewer_id is None and r.reviewer_name == reviewer_name]
    return []
