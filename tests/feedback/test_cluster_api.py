"""GET /clusters, GET /clusters/{id} with members, POST and GET /clustering/runs."""

import pytest

from core.embedder import get_model
from feedback.models import Cluster, ClusteringRun
from feedback.services.clustering import clustering_run_execute, clustering_run_start
from feedback.services.projects import project_get_or_create
from tests.feedback.cluster_fixtures import make_failures


@pytest.fixture(scope="module", autouse=True)
def model():
    return get_model()


@pytest.fixture
def clustered(project):
    make_failures(project)
    run, _ = clustering_run_start(project=project, enqueue=False)
    return clustering_run_execute(run_id=run.pk)


def test_clusters_are_listed_largest_first_with_labels_and_representatives(
    api, clustered, django_assert_max_num_queries
):
    with django_assert_max_num_queries(4):  # key, clusters, representatives (+ last_used_at)
        response = api.get("/api/v1/clusters?limit=1")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"results", "next"} and len(body["results"]) == 1 and body["next"]
    first = body["results"][0]
    assert {"id", "label", "keywords", "size", "first_seen", "last_seen", "representatives", "growth"} <= set(first)
    assert 1 <= len(first["representatives"]) <= 3 and all(isinstance(r, str) for r in first["representatives"])
    rest = api.get(body["next"].replace("limit=1", "limit=50")).json()["results"]
    assert first["size"] >= rest[0]["size"]
    ids = [c["id"] for c in body["results"] + rest]
    assert len(ids) == len(set(ids)) == Cluster.objects.filter(is_active=True).count()


def test_a_cluster_shows_its_members_page_by_page(api, clustered):
    cluster = Cluster.objects.filter(is_active=True).order_by("-size").first()
    body = api.get(f"/api/v1/clusters/{cluster.pk}?limit=5").json()
    assert body["id"] == cluster.pk and body["label"] == cluster.label
    members = body["members"]
    assert len(members["results"]) == 5 and members["next"]
    assert all(m["cluster"] == cluster.pk for m in members["results"])
    more = api.get(members["next"]).json()["members"]["results"]
    assert not {m["id"] for m in more} & {m["id"] for m in members["results"]}


def test_another_projects_cluster_is_not_found(make_client, clustered):
    other = project_get_or_create(slug="other-bot", name="Other")
    client = make_client(other, scopes=["read"])
    cluster = Cluster.objects.first()
    assert client.get(f"/api/v1/clusters/{cluster.pk}").status_code == 404
    assert client.get("/api/v1/clusters").json()["results"] == []
    assert client.get(f"/api/v1/clustering/runs/{clustered.pk}").status_code == 404


def test_starting_a_run_needs_curate_and_reuses_the_run_in_flight(api, project, make_client):
    assert make_client(project, scopes=["read"]).post("/api/v1/clustering/runs").status_code == 403
    first = api.post("/api/v1/clustering/runs")
    second = api.post("/api/v1/clustering/runs")
    assert first.status_code == second.status_code == 202
    assert first.json()["id"] == second.json()["id"] and first.json()["status"] == "queued"
    assert ClusteringRun.objects.filter(project=project).count() == 1


def test_a_run_reports_status_progress_and_counts(api, clustered):
    body = api.get(f"/api/v1/clustering/runs/{clustered.pk}").json()
    assert body["status"] == "succeeded" and body["progress"] == 1.0
    assert body["counts"]["failures"] == 48 and body["counts"]["clusters"] >= 2
    assert api.get("/api/v1/clustering/runs/999999").status_code == 404
