"""The rules of feedback/rules.py give the same answer on every path: capture (one INSERT ... SELECT), a
threshold change (re-judging stored feedback) and the refresh after a review (recomputing the interaction)."""

import pytest
from django.contrib.auth import get_user_model
from django.db.models import JSONField, Value

from feedback.models import Feedback, Interaction, Review, ScoreThreshold
from feedback.services.capture import capture_ingest
from feedback.services.failures import interactions_refresh_state
from feedback.services.projects import score_thresholds_apply
from feedback.services.reviews import review_create, review_supersede
from tests.factories import FeedbackFactory, InteractionFactory

pytestmark = pytest.mark.django_db

CASES = [
    {"name": "thumbs", "value": "down"},
    {"name": "thumbs", "value": "up"},
    {"name": "helpfulness", "value": 2},
    {"name": "helpfulness", "value": 3},
    {"name": "accuracy", "value": 0.1},
    {"name": "tone", "value": "rude"},
    {"comment": "nice"},
    {"correction": "Refunds take 14 days."},
    {"name": "thumbs", "value": "up", "correction": {"text": "14 days"}},
]


def _state(project):
    feedback = dict(Feedback.objects.filter(project=project).values_list("external_id", "is_negative"))
    interactions = {
        i.external_id: (i.feedback_count, i.negative_count, i.is_failure)
        for i in Interaction.objects.filter(project=project)
    }
    return feedback, interactions


def test_capture_threshold_change_and_refresh_agree(project):
    ScoreThreshold.objects.create(project=project, name="helpfulness", threshold=3)
    capture_ingest(
        project_id=project.pk,
        interactions=[{"id": f"chat-{n}", "input": "q", "output": "a"} for n in range(len(CASES))],
        feedback=[{"id": f"fb-{n}", "interaction_id": f"chat-{n}", **fields} for n, fields in enumerate(CASES)],
    )
    captured = _state(project)
    assert sum(captured[0].values()) == 4 and sum(f for _, _, f in captured[1].values()) == 4

    names = sorted({fields.get("name", "") for fields in CASES})
    assert score_thresholds_apply(project_id=project.pk, names=names) == []
    ids = list(Interaction.objects.filter(project=project).values_list("pk", flat=True))
    assert interactions_refresh_state(interaction_ids=ids) == []
    assert _state(project) == captured


def test_a_json_null_correction_is_no_correction_on_every_path(project):
    """Stored feedback whose correction is JSON null (not SQL NULL): a threshold change used to call it negative
    while the refresh of its interaction did not."""
    interaction = InteractionFactory(project=project)
    FeedbackFactory(
        interaction=interaction, name="helpfulness", data_type="NUMERIC", value_number=5.0, is_negative=True,
        correction=Value(None, JSONField()),
    )  # fmt: skip
    assert Feedback.objects.filter(correction__isnull=True).count() == 0  # stored as JSON null, not SQL NULL
    score_thresholds_apply(project_id=project.pk, names=["helpfulness"])
    assert Feedback.objects.get().is_negative is False
    interactions_refresh_state(interaction_ids=[interaction.pk])
    interaction.refresh_from_db()
    assert (interaction.negative_count, interaction.is_failure) == (0, False)


def test_a_withdrawn_corrected_verdict_makes_no_failure_on_any_path(project, django_capture_on_commit_callbacks):
    """Capture used to read the latest review even when it was withdrawn, so negative feedback on an interaction
    whose 'corrected' verdict had been withdrawn was not reported as a new failure (and never embedded)."""
    sme = get_user_model().objects.create_user("sme", password="x")
    interaction = InteractionFactory(project=project, external_id="chat-w")
    review = review_create(interaction=interaction, verdict=Review.Verdict.CORRECTED, correction="fixed", reviewer=sme)
    interaction.refresh_from_db()
    assert interaction.is_failure

    review_supersede(review=review, user=sme)
    interaction.refresh_from_db()
    assert not interaction.is_failure  # the refresh path skips the withdrawn verdict

    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = capture_ingest(
            project_id=project.pk,
            interactions=[],
            feedback=[{"id": "fb-w", "interaction_id": "chat-w", "name": "thumbs", "value": "down"}],
        )
    assert result.new_failure_ids == [interaction.pk] and len(callbacks) == 1
    interaction.refresh_from_db()
    assert (interaction.negative_count, interaction.is_failure) == (1, True)


def test_positive_feedback_keeps_a_current_corrected_verdict_a_failure(project):
    sme = get_user_model().objects.create_user("sme", password="x")
    interaction = InteractionFactory(project=project, external_id="chat-c")
    review_create(interaction=interaction, verdict=Review.Verdict.CORRECTED, correction="fixed", reviewer=sme)
    result = capture_ingest(
        project_id=project.pk,
        interactions=[],
        feedback=[{"id": "fb-c", "interaction_id": "chat-c", "name": "thumbs", "value": "up"}],
    )
    assert result.new_failure_ids == []
    interaction.refresh_from_db()
    assert (interaction.feedback_count, interaction.negative_count, interaction.is_failure) == (1, 0, True)
