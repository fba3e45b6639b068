"""demo/connect.py: spans, scores (one before its trace) and a token, loaded twice as a retry."""

import io

import pytest

from demo import connect
from feedback.models import Feedback, FeedbackToken, Interaction, PendingScore
from feedback.services.projects import project_get_or_create


@pytest.mark.django_db
def test_the_connect_demo_loads_and_reloads():
    project = project_get_or_create(slug="support-bot", name="Support bot")
    for _ in range(2):
        out = io.StringIO()
        connect.load(project=project, stdout=out)
    interactions = {i.external_id: i for i in Interaction.objects.filter(project=project)}
    assert set(interactions) == {span for span, *_ in connect.CHATS}
    refund = interactions["a1b2c3d4e5f60003"]
    assert refund.trace_id == connect.TRACE_ID and refund.prompt_version == "support-answer@3"
    assert refund.is_failure and refund.feedback_count == 2
    assert Feedback.objects.filter(project=project).count() == 5
    assert not PendingScore.objects.exists()
    assert FeedbackToken.objects.filter(project=project).count() == 1
    assert "data-goldloop-url" in out.getvalue() and "thumbs.js" in out.getvalue()
