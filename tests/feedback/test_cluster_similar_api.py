"""GET /api/v1/interactions/{id}/similar: the nearest failures of the same project, never another project's."""

import pytest

from core.embedder import get_model
from feedback.selectors.clusters import similar_failures
from feedback.services.embeddings import embeddings_compute
from feedback.services.projects import project_get_or_create
from tests.factories import InteractionFactory
from tests.feedback.cluster_fixtures import make_failures


@pytest.fixture(scope="module", autouse=True)
def model():
    return get_model()


@pytest.fixture
def failures(project):
    made = make_failures(project)
    embeddings_compute(interaction_ids=[f.pk for group in made.values() for f in group])
    return made


def test_the_nearest_failures_share_the_topic(api, failures):
    response = api.get("/api/v1/interactions/card-0/similar?k=5")
    assert response.status_code == 200, response.content
    results = response.json()["results"]
    assert len(results) == 5
    assert all(row["id"].startswith("card-") for row in results)
    assert "card-0" not in [row["id"] for row in results]
    distances = [row["distance"] for row in results]
    assert distances == sorted(distances) and 0 <= distances[0] < 0.5


def test_another_projects_failures_are_never_returned(api, project, make_client, failures):
    other = project_get_or_create(slug="other-bot", name="Other")
    # The other project holds the very same texts: without the project filter they would be the nearest.
    other_failures = make_failures(other)
    embeddings_compute(interaction_ids=[f.pk for group in other_failures.values() for f in group])

    results = api.get("/api/v1/interactions/card-0/similar?k=50").json()["results"]
    assert len(results) == 47
    neighbours = [pair[0] for pair in similar_failures(interaction=failures["card"][0], k=100)]
    assert {n.project_id for n in neighbours} == {project.pk}

    other_client = make_client(other, scopes=["read"])
    assert other_client.get("/api/v1/interactions/no-such-id/similar").status_code == 404


def test_an_interaction_of_another_project_is_not_found(make_client, failures):
    other = project_get_or_create(slug="other-bot", name="Other")
    response = make_client(other, scopes=["read"]).get("/api/v1/interactions/card-0/similar")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "not_found"


def test_not_embedded_yet_is_a_conflict_that_says_why(api, project):
    InteractionFactory(project=project, external_id="fine-1")
    response = api.get("/api/v1/interactions/fine-1/similar")
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "not_embedded"
    assert "embedding" in response.json()["error"]["message"]


def test_k_is_validated_and_read_scope_is_needed(api, project, make_client, failures):
    response = api.get("/api/v1/interactions/card-0/similar?k=0")
    assert response.status_code == 400 and "k" in response.json()["error"]["fields"]
    assert make_client(project, scopes=["ingest"]).get("/api/v1/interactions/card-0/similar").status_code == 403


def test_similar_failures_of_an_unembedded_interaction_is_empty(project):
    assert similar_failures(interaction=InteractionFactory(project=project), k=3) == []
