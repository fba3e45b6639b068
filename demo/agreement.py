"""The agreement part of the demo: a review policy, a second SME and an adjudicator, double-reviewed items (mostly
agreeing, a few not, one adjudicated) spread over two weeks, and two automated judges' scores.

Runs after demo.reviews (it second-guesses the verdicts of the demo SME). Idempotent: a second run adds nothing.
"""

import random
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from demo.reviews import users_ensure
from feedback.models import Interaction, Project, Review, ReviewPolicy
from feedback.services.adjudication import adjudication_create
from feedback.services.capture import capture_ingest
from feedback.services.reviews import review_create
from feedback.services.roles import ADJUDICATOR, SME

DOUBLE_REVIEWED = 40
DISAGREE_SHARE = 0.15
USERS = (
    ("sme2", SME, "DEMO_SME2_PASSWORD", "goldloop-sme2"),
    ("adjudicator", ADJUDICATOR, "DEMO_ADJUDICATOR_PASSWORD", "goldloop-adj"),
)
# name, data type, how often the judge matches the SMEs
JUDGES = (("faithfulness", "NUMERIC", 0.85), ("llm_correct", "BOOLEAN", 0.65))


def _other_verdict(rng: random.Random, review: Review) -> tuple[str, object]:
    if review.verdict == Review.Verdict.CORRECTED:
        return rng.choice([(Review.Verdict.CORRECT, None), (Review.Verdict.INVALID, None)])
    return Review.Verdict.INVALID if review.verdict == Review.Verdict.CORRECT else Review.Verdict.CORRECT, None


def _second_opinions(*, project: Project, first_sme, second_sme, adjudicator, stdout) -> None:
    if Review.objects.filter(project=project, reviewer=second_sme).exists():
        return
    rng = random.Random(19)
    firsts = list(
        Review.objects.filter(project=project, reviewer=first_sme, superseded_at__isnull=True, is_adjudication=False)
        .select_related("interaction", "error_category")
        .order_by("id")
    )
    picked = rng.sample(firsts, min(DOUBLE_REVIEWED, len(firsts)))
    now, disagreements = timezone.now(), []
    for index, first in enumerate(picked):
        if rng.random() < DISAGREE_SHARE:
            verdict, correction = _other_verdict(rng, first)
            category = None
            disagreements.append(first)
        else:
            verdict, correction, category = first.verdict, first.correction, first.error_category
        review_create(
            interaction=first.interaction,
            verdict=verdict,
            correction=correction,
            error_category=category,
            reviewer=second_sme,
        )
        # Spread the pairs over two weeks, so that the agreement page has a trend to show.
        day = now - timedelta(days=index % 14, hours=rng.randint(0, 8))
        Review.objects.filter(interaction=first.interaction, superseded_at__isnull=True).update(created_at=day)
    if disagreements:
        settled = disagreements[0]
        adjudication_create(
            interaction=settled.interaction,
            verdict=settled.verdict,
            correction=settled.correction,
            error_category=settled.error_category,
            notes="Checked against the policy page: the first verdict stands.",
            adjudicator=adjudicator,
        )
    stdout.write(
        f"demo: {len(picked)} items reviewed twice ({len(disagreements)} disagreements, "
        f"{1 if disagreements else 0} adjudicated)\n"
    )


def _judges(*, project: Project, stdout) -> None:
    rng = random.Random(23)
    reviewed = list(
        Interaction.objects.filter(project=project, reviews__superseded_at__isnull=True)
        .exclude(reviews__verdict=Review.Verdict.INVALID)
        .distinct()
        .values_list("external_id", "reviews__verdict")
        .order_by("id")
    )
    settled = dict(reviewed)  # one verdict per item is enough to score a judge against
    feedback = []
    for external_id, verdict in settled.items():
        passes = verdict == Review.Verdict.CORRECT
        for name, data_type, accuracy in JUDGES:
            judged_pass = passes if rng.random() < accuracy else not passes
            if data_type == "NUMERIC":
                value = round(rng.uniform(0.7, 1.0) if judged_pass else rng.uniform(0.0, 0.49), 2)
            else:
                value = judged_pass
            feedback.append(
                {
                    "id": f"demo-judge-{name}-{external_id}",
                    "interaction_id": external_id,
                    "name": name,
                    "value": value,
                    "source": "automated",
                    "author": "llm-judge-gpt-4o",
                    "comment": "",
                }
            )
    result = capture_ingest(project_id=project.pk, interactions=[], feedback=feedback)
    created = sum(1 for item in result.feedback if item.status == 201)
    stdout.write(f"demo: {created} judge scores ({', '.join(name for name, _, _ in JUDGES)})\n")


@transaction.atomic
def load(*, project: Project, stdout) -> None:
    ReviewPolicy.objects.get_or_create(project=project, defaults={"reviewers_per_item": 2, "overlap_share": 0.10})
    users = users_ensure(USERS, stdout=stdout)
    first_sme = get_user_model().objects.filter(username="sme").first()
    if first_sme is not None:
        _second_opinions(
            project=project,
            first_sme=first_sme,
            second_sme=users["sme2"],
            adjudicator=users["adjudicator"],
            stdout=stdout,
        )
    _judges(project=project, stdout=stdout)
