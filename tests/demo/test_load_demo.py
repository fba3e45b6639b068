"""load_demo builds the support-bot project through the ingest service; --once leaves an existing one alone."""

import pytest
from django.core.management import call_command

from feedback.models import Feedback, Interaction, Project, ScoreThreshold

# The parts after capture add interactions of their own (Connect's spans, the regressions of the demo's runs);
# these assertions are capture's, whose ids all start so.
CAPTURED = "demo-chat-"

pytestmark = pytest.mark.django_db


def test_load_demo_builds_a_realistic_project_and_is_a_retry_the_second_time(capsys):
    call_command("load_demo")
    output = capsys.readouterr().out
    assert "CC BY 4.0" in output and "Casanueva" in output
    project = Project.objects.get(slug="support-bot")
    assert "CC BY 4.0" in project.description
    assert ScoreThreshold.objects.get(project=project).threshold == 3
    interactions = Interaction.objects.filter(project=project).filter(external_id__startswith=CAPTURED)
    assert interactions.count() == 2000
    assert set(interactions.values_list("model", flat=True)) == {"gpt-4o-mini", "claude-haiku"}
    assert set(interactions.values_list("prompt_version", flat=True)) == {"v1", "v2"}
    feedback = Feedback.objects.filter(project=project).filter(interaction__external_id__startswith=CAPTURED)
    assert set(feedback.values_list("data_type", flat=True)) == {"BOOLEAN", "NUMERIC", "CATEGORICAL", ""}
    assert feedback.exclude(correction=None).exists() and feedback.exclude(comment="").exists()
    failures = interactions.filter(is_failure=True).count()
    assert 200 < failures < 1200
    first = interactions.order_by("external_id").first()
    assert first.input[-1]["role"] == "user" and first.input[-1]["content"]

    # The counters kept incrementally by capture agree with a full recompute from the rows.
    from feedback.services.failures import interactions_refresh_state

    state = list(interactions.order_by("id").values_list("feedback_count", "negative_count", "is_failure"))
    assert interactions_refresh_state(interaction_ids=list(interactions.values_list("id", flat=True))) == []
    assert list(interactions.order_by("id").values_list("feedback_count", "negative_count", "is_failure")) == state

    total = feedback.count()
    call_command("load_demo")
    assert "x 200" in capsys.readouterr().out and "x 201" not in capsys.readouterr().out
    assert (interactions.count(), feedback.count()) == (2000, total)

    call_command("load_demo", "--once")
    assert "nothing to do" in capsys.readouterr().out
