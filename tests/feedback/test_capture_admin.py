"""Admin: API keys shown once and revocable, thresholds that re-judge feedback, read-only capture pages."""

import re

import pytest
from rest_framework.test import APIClient

from feedback.models import ApiKey, Feedback, Interaction, ScoreThreshold
from feedback.services.api_keys import api_key_create
from tests.factories import FeedbackFactory, InteractionFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(client, django_user_model):
    user = django_user_model.objects.create_superuser("root", "root@example.com", "pw")
    client.force_login(user)
    return client


def test_creating_a_key_in_the_admin_shows_it_once_and_it_works(staff, project):
    response = staff.post(
        "/admin/feedback/apikey/add/",
        {"project": project.pk, "name": "chat backend", "scopes": ["ingest", "read"]},
        follow=True,
    )
    assert response.status_code == 200
    raw_key = re.search(r"not shown again: (gl_[A-Za-z0-9_-]+)", response.content.decode()).group(1)
    api_key = ApiKey.objects.get()
    assert api_key.scopes == ["ingest", "read"]
    assert api_key.name == "chat backend"
    assert raw_key not in (api_key.secret_hash, api_key.prefix) and raw_key.startswith(api_key.prefix)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {raw_key}")
    assert (
        client.post("/api/v1/interactions", {"id": "a", "input": "q", "output": "a"}, format="json").status_code == 201
    )
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None
    # The change page shows it without the secret, and last_used_at.
    page = staff.get(f"/admin/feedback/apikey/{api_key.pk}/change/").content.decode()
    assert raw_key not in page and api_key.prefix in page

    staff.post(
        "/admin/feedback/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]}, follow=True
    )  # fmt: skip
    api_key.refresh_from_db()
    assert api_key.revoked_at is not None
    assert client.get("/api/v1/interactions").status_code == 401


def test_a_new_threshold_in_the_project_admin_rejudges_its_feedback(staff, project, django_capture_on_commit_callbacks):
    interaction = InteractionFactory(project=project)
    FeedbackFactory(
        interaction=interaction, name="helpfulness", data_type="NUMERIC", value_number=2, is_negative=False
    )  # fmt: skip
    data = {
        "slug": project.slug,
        "name": project.name,
        "description": "",
        "score_thresholds-TOTAL_FORMS": "1",
        "score_thresholds-INITIAL_FORMS": "0",
        "score_thresholds-0-name": "helpfulness",
        "score_thresholds-0-threshold": "3",
    }
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        response = staff.post(f"/admin/feedback/project/{project.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:2000]
    assert ScoreThreshold.objects.get().threshold == 3
    assert Feedback.objects.get().is_negative is True
    interaction.refresh_from_db()
    assert interaction.is_failure and interaction.negative_count == 1
    assert len(callbacks) == 1  # its embedding is enqueued


def test_capture_changelists_are_read_only_and_query_count_is_flat(staff, project, django_assert_max_num_queries):
    for item in InteractionFactory.create_batch(30, project=project):
        FeedbackFactory(interaction=item)
    for url in ("/admin/feedback/interaction/", "/admin/feedback/feedback/"):
        with django_assert_max_num_queries(12):
            response = staff.get(url, {"project__id__exact": project.pk})
        assert response.status_code == 200
    interaction = Interaction.objects.first()
    assert staff.get("/admin/feedback/interaction/add/").status_code == 403
    page = staff.get(f"/admin/feedback/interaction/{interaction.pk}/change/")
    assert page.status_code == 200 and b"Save" not in page.content


@pytest.mark.parametrize("seconds, says", [(5, "answer 401 within 5 s"), (0, "answer 401 from now on")])
def test_the_revoke_message_says_when_the_key_stops_working(staff, project, settings, seconds, says):
    settings.API_KEY_CACHE_SECONDS = seconds
    api_key, _ = api_key_create(project=project, scopes=["read"])
    page = staff.post(
        "/admin/feedback/apikey/", {"action": "revoke", "_selected_action": [api_key.pk]}, follow=True
    ).content.decode()  # fmt: skip
    assert says in page
