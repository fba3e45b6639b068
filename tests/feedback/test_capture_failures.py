"""The failure rule: thumbs down, a score under the project's threshold, a correction, an SME 'corrected'."""

import pytest
from django.test import override_settings

from feedback.models import Feedback, Interaction, Review, ScoreThreshold
from feedback.services.capture import capture_ingest
from feedback.services.failures import interactions_refresh_state
from tests.factories import FeedbackFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def post_feedback(api, external_id: str, **fields):
    body = {"id": external_id, "interaction_id": "chat-1", **fields}
    response = api.post("/api/v1/feedback", body, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


@pytest.fixture
def chat(api, project):
    api.post("/api/v1/interactions", {"id": "chat-1", "input": "Refund?", "output": "30 days."}, format="json")
    ScoreThreshold.objects.create(project=project, name="helpfulness", threshold=3)
    return Interaction.objects.get(external_id="chat-1")


@pytest.mark.parametrize(
    ("fields", "negative"),
    [
        ({"name": "thumbs", "value": "down"}, True),
        ({"name": "thumbs", "value": False}, True),
        ({"name": "thumbs", "value": 0}, True),
        ({"name": "thumbs", "value": "up"}, False),
        ({"name": "helpfulness", "value": 2}, True),
        ({"name": "helpfulness", "value": 2.99}, True),
        ({"name": "helpfulness", "value": 3}, False),
        ({"name": "accuracy", "value": 0.1}, False),  # no threshold for this name
        ({"name": "tone", "value": "rude"}, False),
        ({"comment": "nice"}, False),
        ({"correction": "Refunds take 14 days."}, True),
        ({"name": "thumbs", "value": "up", "correction": {"text": "14 days"}}, True),
    ],
)
def test_the_failure_rule_per_feedback(api, chat, fields, negative):
    assert post_feedback(api, "fb-1", **fields)["is_negative"] is negative
    chat.refresh_from_db()
    assert (chat.feedback_count, chat.negative_count, chat.is_failure) == (1, int(negative), negative)


def test_values_are_stored_with_langfuse_data_types(api, chat):
    post_feedback(api, "fb-1", name="thumbs", value="up")
    post_feedback(api, "fb-2", name="helpfulness", value=4)
    post_feedback(api, "fb-3", name="tone", value="friendly")
    post_feedback(api, "fb-4", name="resolved", value=True, source="automated", author="judge-v2")
    stored = {f.external_id: (f.data_type, f.value_number, f.value_string) for f in Feedback.objects.all()}
    assert stored == {
        "fb-1": ("BOOLEAN", 1.0, ""),
        "fb-2": ("NUMERIC", 4.0, ""),
        "fb-3": ("CATEGORICAL", None, "friendly"),
        "fb-4": ("BOOLEAN", 1.0, ""),
    }


def test_counts_add_up_over_several_feedback(api, chat):
    post_feedback(api, "fb-1", name="thumbs", value="up")
    post_feedback(api, "fb-2", name="helpfulness", value=5)
    chat.refresh_from_db()
    assert (chat.feedback_count, chat.negative_count, chat.is_failure) == (2, 0, False)
    post_feedback(api, "fb-3", name="helpfulness", value=1)
    chat.refresh_from_db()
    assert (chat.feedback_count, chat.negative_count, chat.is_failure) == (3, 1, True)


def test_a_latest_review_corrected_makes_a_failure_and_refresh_reports_it_once(project):
    interaction = InteractionFactory(project=project)
    FeedbackFactory(interaction=interaction, is_negative=False, value_number=1.0)
    assert interactions_refresh_state(interaction_ids=[interaction.pk]) == []
    Review.objects.create(project=project, interaction=interaction, verdict="corrected", correction="fixed")
    assert interactions_refresh_state(interaction_ids=[interaction.pk]) == [interaction.pk]
    assert interactions_refresh_state(interaction_ids=[interaction.pk]) == []  # already a failure
    interaction.refresh_from_db()
    assert (interaction.feedback_count, interaction.negative_count, interaction.is_failure) == (1, 0, True)


def test_refresh_recomputes_from_the_rows(project):
    interaction = InteractionFactory(project=project, feedback_count=9, negative_count=9, is_failure=True)
    FeedbackFactory(interaction=interaction, is_negative=False, value_number=1.0)
    assert interactions_refresh_state(interaction_ids=[interaction.pk, interaction.pk]) == []
    interaction.refresh_from_db()
    assert (interaction.feedback_count, interaction.negative_count, interaction.is_failure) == (1, 0, False)


@override_settings(EMBEDDING_ENQUEUE_WINDOW_MS=0)  # each commit's task at once (core/coalesce.py has the windows)
def test_new_failures_are_enqueued_for_embedding_on_commit(project, django_capture_on_commit_callbacks):
    from unittest import mock

    capture_ingest(
        project_id=project.pk,
        interactions=[{"id": f"chat-{n}", "input": "q", "output": "a"} for n in range(3)],
        feedback=[],
    )
    ids = dict(Interaction.objects.values_list("external_id", "id"))
    feedback = [
        {"id": "fb-1", "interaction_id": "chat-0", "name": "thumbs", "value": "down"},
        {"id": "fb-2", "interaction_id": "chat-1", "name": "thumbs", "value": "up"},
        {"id": "fb-3", "interaction_id": "chat-2", "correction": "better"},
        {"id": "fb-4", "interaction_id": "chat-2", "name": "thumbs", "value": "down"},
    ]
    with mock.patch("feedback.tasks.embeddings.embed_interactions.delay") as delay:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            capture_ingest(project_id=project.pk, interactions=[], feedback=feedback)
        delay.assert_not_called()  # nothing before the commit
        for callback in callbacks:
            callback()
        delay.assert_called_once_with(sorted([ids["chat-0"], ids["chat-2"]]))

        # More negative feedback on interactions that are failures already enqueues nothing.
        with django_capture_on_commit_callbacks(execute=True) as callbacks:
            capture_ingest(
                project_id=project.pk,
                interactions=[],
                feedback=[{"id": "fb-5", "interaction_id": "chat-0", "name": "thumbs", "value": "down"}],
            )
        assert callbacks == []
        assert delay.call_count == 1


def test_negative_feedback_after_a_corrected_review_is_not_a_new_failure(project, django_capture_on_commit_callbacks):
    interaction = InteractionFactory(project=project, external_id="chat-r")
    Review.objects.create(project=project, interaction=interaction, verdict="corrected", correction="fixed")
    interactions_refresh_state(interaction_ids=[interaction.pk])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        result = capture_ingest(
            project_id=project.pk,
            interactions=[],
            feedback=[{"id": "fb-r", "interaction_id": "chat-r", "name": "thumbs", "value": "down"}],
        )
    assert result.new_failure_ids == [] and callbacks == []
    interaction.refresh_from_db()
    assert (interaction.negative_count, interaction.is_failure) == (1, True)
