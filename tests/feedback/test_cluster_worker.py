"""End to end on a real Celery worker: failures captured over the API are embedded, clustered and stay stable."""

from collections import Counter

import pytest
from django.db import connection
from django.test import override_settings

from core.embedder import embedder_name
from feedback.models import Cluster, Embedding, Interaction
from tests.feedback.cluster_fixtures import TOPICS

pytestmark = pytest.mark.usefixtures("transactional_db")

SLOW = 240  # the worker loads the model on its first task; the machine is shared


def ingest(api, items: dict[str, str]) -> None:
    body = {
        "interactions": [
            {"id": ext_id, "input": [{"role": "user", "content": text}], "output": "Sorry, I cannot help."}
            for ext_id, text in items.items()
        ],
        "feedback": [
            {"id": f"fb-{ext_id}", "interaction_id": ext_id, "name": "thumbs", "value": "down"} for ext_id in items
        ],
    }
    response = api.post("/api/v1/ingest", body, format="json")
    assert response.status_code == 207, response.content
    assert all(r["status"] == 201 for r in response.json()["feedback"]), response.json()


def run_to_the_end(api, wait_until) -> dict:
    response = api.post("/api/v1/clustering/runs")
    assert response.status_code == 202
    run_id = response.json()["id"]
    run = wait_until(
        lambda: (
            (body := api.get(f"/api/v1/clustering/runs/{run_id}").json())["status"] in ("succeeded", "failed") and body
        ),
        timeout=SLOW,
        interval=0.5,
    )
    assert run and run["status"] == "succeeded", run
    return run


def test_a_worker_embeds_clusters_and_keeps_cluster_ids(celery_worker, api, project, wait_until):
    texts = {f"{topic}-{n}": text for topic, group in TOPICS.items() for n, text in enumerate(group)}
    ingest(api, texts)
    # The capture service enqueued embed_interactions on commit; the worker embeds them shortly after.
    assert wait_until(lambda: Embedding.objects.filter(project=project).count() == 48, timeout=SLOW, interval=0.5)

    first = run_to_the_end(api, wait_until)
    assert first["counts"]["failures"] == 48 and first["counts"]["embedded_now"] == 0
    members = dict(Interaction.objects.filter(project=project).values_list("external_id", "cluster_id"))
    clusters = api.get("/api/v1/clusters").json()["results"]
    assert len(clusters) >= 2 and sum(c["size"] for c in clusters) == sum(1 for v in members.values() if v)
    for cluster in clusters:  # each cluster is one topic
        assert len({k.rsplit("-", 1)[0] for k, v in members.items() if v == cluster["id"]}) == 1, members

    # A rerun on the same data: the same clusters under the same ids.
    second = run_to_the_end(api, wait_until)
    assert second["id"] != first["id"]
    assert dict(Interaction.objects.filter(project=project).values_list("external_id", "cluster_id")) == members
    assert second["counts"]["clusters_new"] == 0 and second["counts"]["memberships_changed"] == 0

    # A new failure close to a cluster joins it as soon as the worker has embedded it.
    biggest = clusters[0]["id"]
    example = next(k for k, v in members.items() if v == biggest)
    ingest(api, {"again-1": f"Again: {texts[example]}"})
    assert wait_until(
        lambda: Interaction.objects.get(project=project, external_id="again-1").cluster_id == biggest,
        timeout=SLOW,
        interval=0.5,
    )
    assert Cluster.objects.get(pk=biggest).size == Counter(members.values())[biggest] + 1


def test_embedding_the_same_failures_twice_on_the_worker_changes_nothing(celery_worker, project, wait_until):
    from feedback.tasks import embed_interactions
    from tests.factories import FailureFactory

    failures = [FailureFactory(project=project, input=f"Where is my parcel {n}?") for n in range(3)]
    ids = [f.pk for f in failures]
    embed_interactions.delay(ids)
    assert wait_until(lambda: Embedding.objects.filter(interaction_id__in=ids).count() == 3, timeout=SLOW)
    before = list(Embedding.objects.filter(interaction_id__in=ids).order_by("id").values_list("id", "created_at"))
    embed_interactions.delay(ids)
    embed_interactions.delay(ids[:1])
    # A marker task queued behind them tells when the worker got through both.
    marker = FailureFactory(project=project, input="marker")
    embed_interactions.delay([marker.pk])
    assert wait_until(lambda: Embedding.objects.filter(interaction=marker).exists(), timeout=SLOW)
    after = list(Embedding.objects.filter(interaction_id__in=ids).order_by("id").values_list("id", "created_at"))
    assert after == before


@override_settings(SIMILARITY_INDEX_MIN_EMBEDDINGS=40)  # as the worker has it (conftest)
def test_beat_has_the_worker_build_a_large_projects_own_index(celery_worker, api, project, wait_until):
    from feedback.selectors.clusters import similarity_index_name, similarity_index_state
    from feedback.tasks import schedule_similarity_indexes

    ingest(api, {f"{topic}-{n}": text for topic, group in TOPICS.items() for n, text in enumerate(group)})
    assert wait_until(lambda: Embedding.objects.filter(project=project).count() == 48, timeout=SLOW, interval=0.5)
    name = similarity_index_name(project_id=project.pk, embedder=embedder_name())
    assert similarity_index_state(name=name) is None

    schedule_similarity_indexes.delay()  # what beat sends; the worker queues the build and runs it
    try:
        assert wait_until(lambda: similarity_index_state(name=name) == "valid", timeout=SLOW, interval=0.5)
        results = api.get("/api/v1/interactions/card-0/similar?k=5").json()["results"]
        assert [row["id"].split("-")[0] for row in results] == ["card"] * 5
    finally:
        with connection.cursor() as cursor:  # the test database outlives this test's rows
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
