"""The review part of the demo: an SME and an ML engineer to log in as, error categories, and ~150 verdicts."""

import os
import random

from django.contrib.auth import get_user_model
from django.db import transaction
from simple_history.utils import bulk_create_with_history

from demo.capture import topic_answer
from feedback.models import ErrorCategory, Interaction, Project, Review
from feedback.services.reviews import failure_state_refresh, interactions_review_status_refresh
from feedback.services.roles import ML_ENGINEER, SME, roles_ensure

REVIEWS = 150
CATEGORIES = {
    "wrong_policy": "States a policy, fee, limit or delay that is not ours.",
    "hallucination": "Invents a feature, a place in the app or a fact.",
    "incomplete": "A generic non-answer: does not address the question.",
    "tone": "Right content, wrong tone (curt, over-apologetic, salesy).",
    "wrong_intent": "Answers another question than the one asked.",
}
USERS = (
    ("sme", SME, "DEMO_SME_PASSWORD", "goldloop-sme"),
    ("mlengineer", ML_ENGINEER, "DEMO_ML_PASSWORD", "goldloop-ml"),
)


def users_ensure(logins, *, stdout) -> dict:
    """The demo's logins: (username, group, password variable, default password) each; the password is printed."""
    groups = roles_ensure()
    users = {}
    for username, group, variable, default in logins:
        user, _ = get_user_model().objects.get_or_create(username=username, defaults={"is_staff": True})
        user.is_staff = True
        user.set_password(os.environ.get(variable) or default)
        user.save()
        user.groups.add(groups[group])
        users[username] = user
        stdout.write(f"demo: user '{username}' ({group}) password: {os.environ.get(variable) or default}\n")
    return users


def _verdict(rng: random.Random, interaction: Interaction) -> tuple[str, object, str | None, str]:
    quality = (interaction.metadata or {}).get("demo_quality", "generic")
    intent = (interaction.metadata or {}).get("intent", "")
    if rng.random() < 0.1:
        return Review.Verdict.INVALID, None, None, rng.choice(("Not a support question.", "Duplicate of a test chat."))
    if quality == "good":
        return Review.Verdict.CORRECT, None, None, "The answer is right; the thumbs down was about something else."
    if quality == "wrong":
        category = rng.choice(("wrong_policy", "wrong_policy", "hallucination"))
    else:
        category = rng.choice(("incomplete", "incomplete", "wrong_intent", "tone"))
    return Review.Verdict.CORRECTED, topic_answer(intent), category, ""


@transaction.atomic
def load(*, project: Project, stdout) -> None:
    """Idempotent: reviews only failures without a verdict, up to REVIEWS by the demo SME in total."""
    users = users_ensure(USERS, stdout=stdout)
    sme = users["sme"]
    categories = {
        name: ErrorCategory.objects.get_or_create(project=project, name=name, defaults={"description": text})[0]
        for name, text in CATEGORIES.items()
    }
    todo = REVIEWS - Review.objects.filter(project=project, reviewer=sme).count()
    if todo <= 0:
        return
    rng = random.Random(4)
    candidates = list(
        Interaction.objects.filter(project=project, is_failure=True, reviews__isnull=True).order_by("id")[:2000]
    )
    picked = rng.sample(candidates, min(todo, len(candidates)))
    reviews = []
    for interaction in picked:
        verdict, correction, category, notes = _verdict(rng, interaction)
        if correction == interaction.output:
            verdict, correction, category = Review.Verdict.CORRECT, None, None
        reviews.append(
            Review(
                project=project,
                interaction=interaction,
                reviewer=sme,
                reviewer_name=sme.username,
                verdict=verdict,
                correction=correction,
                error_category=categories.get(category),
                notes=notes,
            )
        )
    bulk_create_with_history(reviews, Review, default_user=sme)
    ids = [interaction.pk for interaction in picked]
    interactions_review_status_refresh(interaction_ids=ids)
    failure_state_refresh(interaction_ids=ids)
    stdout.write(f"demo: {len(reviews)} reviews by '{sme.username}'\n")
