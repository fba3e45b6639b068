"""GET /interactions (filters, cursor pages, fixed query count) and GET /interactions/{id}."""

from datetime import timedelta

import pytest
from django.utils import timezone

from feedback.models import Cluster, Review
from tests.factories import FailureFactory, FeedbackFactory, InteractionFactory

pytestmark = pytest.mark.django_db


def ids(response) -> list[str]:
    assert response.status_code == 200, response.json()
    return [row["id"] for row in response.json()["results"]]


@pytest.fixture
def rows(project):
    now = timezone.now()
    cluster = Cluster.objects.create(project=project, label="refunds")
    return {
        "old": InteractionFactory(project=project, external_id="old", occurred_at=now - timedelta(days=10)),
        "plain": InteractionFactory(project=project, external_id="plain", occurred_at=now - timedelta(hours=3)),
        "liked": InteractionFactory(
            project=project, external_id="liked", occurred_at=now - timedelta(hours=2), feedback_count=1,
            model="claude-haiku", prompt_version="v2",
        ),
        "failed": FailureFactory(
            project=project, external_id="failed", occurred_at=now - timedelta(hours=1), cluster=cluster,
            review_status="reviewed",
        ),
    }  # fmt: skip


def test_list_is_newest_first_and_filters(api, rows):
    assert ids(api.get("/api/v1/interactions")) == ["failed", "liked", "plain", "old"]
    assert ids(api.get("/api/v1/interactions", {"model": "claude-haiku"})) == ["liked"]
    assert ids(api.get("/api/v1/interactions", {"prompt_version": "v1"})) == ["failed", "plain", "old"]
    assert ids(api.get("/api/v1/interactions", {"feedback": "negative"})) == ["failed"]
    assert ids(api.get("/api/v1/interactions", {"feedback": "positive"})) == ["liked"]
    assert ids(api.get("/api/v1/interactions", {"feedback": "none"})) == ["plain", "old"]
    assert ids(api.get("/api/v1/interactions", {"review_status": "reviewed"})) == ["failed"]
    assert ids(api.get("/api/v1/interactions", {"cluster": rows["failed"].cluster_id})) == ["failed"]
    since = (timezone.now() - timedelta(days=1)).isoformat()
    until = (timezone.now() - timedelta(minutes=90)).isoformat()
    assert ids(api.get("/api/v1/interactions", {"since": since, "until": until})) == ["liked", "plain"]


@pytest.mark.parametrize(
    "params", [{"feedback": "bad"}, {"review_status": "x"}, {"since": "yesterday"}, {"cluster": "abc"}]
)
def test_bad_filters_are_400(api, params):
    response = api.get("/api/v1/interactions", params)
    assert response.status_code == 400
    assert set(response.json()["error"]["fields"]) == set(params)


def test_cursor_pages_walk_every_row_once(api, project):
    InteractionFactory.create_batch(7, project=project)
    seen, url = [], "/api/v1/interactions?limit=3"
    while url:
        body = api.get(url).json()
        seen += [row["id"] for row in body["results"]]
        url = body["next"]
    assert len(seen) == len(set(seen)) == 7


@pytest.mark.parametrize("size", [5, 60])
def test_list_query_count_does_not_grow_with_the_page(api, project, size, django_assert_max_num_queries):
    for interaction in InteractionFactory.create_batch(size, project=project):
        FeedbackFactory(interaction=interaction)
    api.get("/api/v1/interactions")  # warm the key's last_used_at write
    with django_assert_max_num_queries(3):
        response = api.get(f"/api/v1/interactions?limit={size}")
    assert len(response.json()["results"]) == size


def test_detail_has_feedback_and_reviews(api, project, django_assert_max_num_queries, django_user_model):
    interaction = FailureFactory(project=project, external_id="chat-8812")
    FeedbackFactory(interaction=interaction, external_id="fb-1", comment="wrong", correction="14 days")
    FeedbackFactory(interaction=interaction, external_id="fb-2", name="helpfulness", data_type="NUMERIC",
                    value_number=2, is_negative=True)  # fmt: skip
    jane = django_user_model.objects.create_user("sme-jane")
    Review.objects.create(project=project, interaction=interaction, reviewer=jane, verdict="corrected",
                          correction="Refunds take 14 days.", notes="policy")  # fmt: skip
    api.get("/api/v1/interactions")
    with django_assert_max_num_queries(5):
        response = api.get("/api/v1/interactions/chat-8812")
    assert response.status_code == 200
    body = response.json()
    assert body["id"] == "chat-8812"
    assert body["feedback_count"] == 1  # the stored count (the factory sets it)
    assert {f["id"]: f["value"] for f in body["feedback"]} == {"fb-1": "down", "fb-2": 2.0}
    assert body["reviews"][0]["verdict"] == "corrected"
    assert body["reviews"][0]["reviewer"] == "sme-jane"
    assert body["reviews"][0]["correction"] == "Refunds take 14 days."


def test_detail_shows_at_most_the_latest_100_feedback(api, project):
    interaction = InteractionFactory(project=project, external_id="busy")
    FeedbackFactory.create_batch(105, interaction=interaction)
    body = api.get("/api/v1/interactions/busy").json()
    assert len(body["feedback"]) == 100


def test_schema_documents_the_capture_endpoints(client):
    response = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json() if response["Content-Type"].startswith("application/json") else None
    if schema is None:
        import yaml

        schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    create = paths["/api/v1/interactions"]["post"]
    assert "InteractionIn" in str(create["requestBody"])
    assert {"200", "201", "409"} <= set(create["responses"])
    assert "207" in paths["/api/v1/ingest"]["post"]["responses"]
    assert "FeedbackIn" in str(paths["/api/v1/feedback"]["post"]["requestBody"])
    assert "InteractionDetail" in str(paths["/api/v1/interactions/{external_id}"]["get"]["responses"])
