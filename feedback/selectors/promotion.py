"""Reviewed interactions as the golden-dataset app needs them: what was asked, what the model said, and the
latest SME verdict. Reads only; examples_lib decides what to do with them."""

from typing import Any

from django.db.models import Prefetch, QuerySet

from feedback.models import Feedback, Interaction, Project, Review
from feedback.selectors.adjudication import Settlement, settlement
from feedback.selectors.overlap import OverlapState, is_overlap_item, policy_of


def _review_summary(review: Review | None) -> dict[str, Any] | None:
    if review is None:
        return None
    reviewer = review.reviewer.get_username() if review.reviewer_id else ""
    return {
        "id": review.pk,
        "verdict": review.verdict,
        "correction": review.correction,
        "error_category": review.error_category.name if review.error_category_id else None,
        "reviewer": reviewer or review.reviewer_name,
        "created_at": review.created_at,
        "adjudicated": review.is_adjudication,
    }


def promotion_candidates(
    *, project: Project, external_ids: list[str] | None = None, interactions: QuerySet | None = None
) -> list[dict[str, Any]]:
    """Interactions of `project` (by client id, or from a queryset) with the verdict that counts, in a fixed order.

    Each item: pk, external_id, input, output, model, prompt_version, cluster (label or None), feedback_ids
    (the clients' ids), review (the verdict that counts, feedback.selectors.adjudication.settlement: the
    adjudication, else the latest verdict; None when unreviewed, or for an overlap item still collecting verdicts or
    whose SMEs disagree: id, verdict, correction, error_category, reviewer, created_at, adjudicated), settlement
    (its status) and refusal (why there is no review to use). Five queries whatever the number of interactions.
    """
    queryset = interactions if interactions is not None else Interaction.objects.all()
    queryset = queryset.filter(project=project)
    if external_ids is not None:
        queryset = queryset.filter(external_id__in=external_ids)
    queryset = (
        queryset.select_related("cluster")
        .prefetch_related(
            Prefetch(
                "reviews",
                queryset=Review.objects.filter(superseded_at__isnull=True)
                .select_related("reviewer", "error_category")
                .order_by("-created_at", "-id"),
                to_attr="reviews_latest_first",
            ),
            Prefetch(
                "feedback",
                queryset=Feedback.objects.only("id", "interaction_id", "external_id").order_by("id"),
                to_attr="feedback_oldest_first",
            ),
        )
        .order_by("id")
    )
    policy = policy_of(project_id=project.pk)
    result = []
    for interaction in queryset:
        reviews = interaction.reviews_latest_first
        sme = [r for r in reviews if not r.is_adjudication]
        categories = {r.error_category_id for r in sme if r.error_category_id}
        overlap = is_overlap_item(interaction=interaction, policy=policy, category_ids=categories)
        state = OverlapState(is_overlap=overlap, required=policy.reviewers_per_item if overlap else 1, given=len(sme))
        settled = settlement(reviews=reviews, state=state)
        result.append(_candidate(interaction, settled))
    return result


def _candidate(interaction: Interaction, settled: Settlement) -> dict[str, Any]:
    return {
        "pk": interaction.pk,
        "external_id": interaction.external_id,
        "input": interaction.input,
        "output": interaction.output,
        "model": interaction.model,
        "prompt_version": interaction.prompt_version,
        "cluster": interaction.cluster.label if interaction.cluster_id else None,
        "feedback_ids": [item.external_id for item in interaction.feedback_oldest_first],
        "review": _review_summary(settled.review),
        "settlement": settled.status,
        "refusal": settled.reason,
    }
