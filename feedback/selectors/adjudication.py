"""Disagreements and their settlement: which items the adjudication queue holds, and which verdict of an item
counts (for promotion and for the judges' comparison)."""

from dataclasses import dataclass

from django.db.models import Count, Exists, OuterRef, Q, QuerySet, TextField
from django.db.models.functions import Cast

from feedback.models import Interaction, Review
from feedback.selectors.overlap import OverlapState, open_overlap_condition, verdicts


def verdicts_disagree(reviews: list[Review]) -> bool:
    """SMEs disagree when their verdicts differ, or when they all corrected the output but differently."""
    if len({r.verdict for r in reviews}) > 1:
        return True
    corrections = {repr(r.correction) for r in reviews if r.verdict == Review.Verdict.CORRECTED}
    return len(corrections) > 1


def disputed_items(*, project_ids=None, base: QuerySet | None = None) -> QuerySet:
    """Items whose SME verdicts disagree, with no adjudication yet, and no longer collecting verdicts; queue order."""
    disagreeing = (
        Review.objects.filter(verdicts())
        .order_by()
        .values("interaction")
        .annotate(
            verdict_kinds=Count("verdict", distinct=True),
            corrections=Count(
                Cast("correction", TextField()), distinct=True, filter=Q(verdict=Review.Verdict.CORRECTED)
            ),
        )
        .filter(Q(verdict_kinds__gt=1) | Q(corrections__gt=1))
        .values("interaction")
    )
    if project_ids is not None:
        disagreeing = disagreeing.filter(project_id__in=list(project_ids))
    adjudicated = Review.objects.filter(interaction=OuterRef("pk"), is_adjudication=True, superseded_at__isnull=True)
    items = (
        (base if base is not None else Interaction.objects.all())
        .filter(pk__in=disagreeing)
        .exclude(Exists(adjudicated))
    )
    still_open = open_overlap_condition(project_ids=project_ids)
    if still_open is not None:
        items = items.exclude(still_open)
    return items.select_related("project", "cluster").order_by("-negative_count", "-occurred_at", "-id")


def active_verdicts_of(*, interaction_ids: list[int]) -> dict[int, list[Review]]:
    """{interaction id: its active SME verdicts, oldest first} in one query (the adjudication queue's rows)."""
    found: dict[int, list[Review]] = {pk: [] for pk in interaction_ids}
    rows = (
        Review.objects.filter(verdicts(), interaction_id__in=interaction_ids)
        .select_related("error_category", "reviewer")
        .order_by("created_at", "id")
    )
    for review in rows:
        found[review.interaction_id].append(review)
    return found


@dataclass(frozen=True)
class Settlement:
    """Which verdict of an item counts. status: unreviewed, single, agreed, adjudicated, pending, disputed."""

    status: str
    review: Review | None
    reason: str = ""


def settlement(*, reviews: list[Review], state: OverlapState) -> Settlement:
    """`reviews`: the item's reviews, latest first. An adjudication always wins; an overlap item needs its verdicts
    in and agreeing (or adjudicated); any other item keeps its latest verdict."""
    active = [r for r in reviews if r.superseded_at is None]
    adjudications = [r for r in active if r.is_adjudication]
    if adjudications:
        return Settlement("adjudicated", adjudications[0])
    sme = [r for r in active if not r.is_adjudication]
    if not sme:
        return Settlement("unreviewed", None, "Not reviewed by an SME yet; review it before promoting.")
    if state.is_open:
        return Settlement(
            "pending",
            None,
            f"An overlap item needs {state.required} SME verdicts and has {state.given}; "
            "promote it once the other SMEs have judged it.",
        )
    if len(sme) > 1 and verdicts_disagree(sme):
        if state.is_overlap:
            return Settlement(
                "disputed", None, "The SMEs disagree on this overlap item; an adjudicator must settle it first."
            )
        return Settlement("disputed", sme[0])
    return Settlement("agreed" if len(sme) > 1 else "single", sme[0])
