"""Clustering runs in process: clusters follow the topics, ids survive reruns, new failures join, gone ones end."""

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext

from core.chat import user_text
from core.embedder import get_model
from feedback.models import Cluster, ClusteringRun, Interaction
from feedback.services.clustering import clustering_run_execute, clustering_run_start
from feedback.services.embeddings import embeddings_compute
from tests.factories import FailureFactory, FeedbackFactory
from tests.feedback.cluster_fixtures import TOPICS, make_failures


@pytest.fixture(scope="module", autouse=True)
def model():
    return get_model()


def recluster(project) -> ClusteringRun:
    run, created = clustering_run_start(project=project, enqueue=False)
    assert created
    return clustering_run_execute(run_id=run.pk)


def memberships(project) -> dict[str, int | None]:
    return dict(Interaction.objects.filter(project=project, is_failure=True).values_list("external_id", "cluster_id"))


@pytest.fixture
def clustered(project):
    made = make_failures(project)
    run = recluster(project)
    assert run.status == "succeeded", run.error
    return made, run


def topic_of(external_id: str) -> str:
    return external_id.rsplit("-", 1)[0]


def test_clusters_are_pure_topics_with_readable_labels(project, clustered):
    made, run = clustered
    assert run.counts["failures"] == 48 and run.counts["embedded_now"] == 48
    clusters = list(Cluster.objects.filter(project=project, is_active=True))
    assert run.counts["clusters"] == len(clusters) >= 2
    assert run.counts["unclustered"] == Interaction.objects.filter(project=project, cluster=None).count()
    words = {"card": ("card", "declin"), "password": ("password", "login", "log"), "delivery": ("parcel", "deliver",
             "package"), "refund": ("refund", "money")}  # fmt: skip
    for cluster in clusters:
        members = list(Interaction.objects.filter(cluster=cluster).values_list("external_id", flat=True))
        topics = {topic_of(m) for m in members}
        assert len(topics) == 1, (cluster.label, members)  # one error pattern per cluster
        (topic,) = topics
        assert cluster.label and any(w in " ".join(cluster.keywords) for w in words[topic]), cluster.keywords
        assert cluster.size == len(members) >= 3
        assert cluster.first_seen <= cluster.last_seen and cluster.members_last_24h == cluster.size
        assert 1 <= len(cluster.representative_ids) <= 3
        assert Interaction.objects.filter(pk__in=cluster.representative_ids, cluster=cluster).count() == len(
            cluster.representative_ids
        )
        assert -1.0 <= cluster.join_threshold <= 1.0
    assert {"embedding", "embedding.model_load", "loading", "clustering", "saving", "saving.writing"} <= set(
        run.timings
    )
    assert run.timings["embedding.model_load"] < 1.0  # loaded by the module's fixture: no load inside the stage


def test_a_rerun_on_the_same_data_keeps_every_cluster_id_and_changes_nothing(project, clustered):
    before = memberships(project)
    clusters_before = dict(Cluster.objects.filter(project=project).values_list("pk", "label"))
    run = recluster(project)
    assert run.status == "succeeded"
    assert memberships(project) == before
    assert dict(Cluster.objects.filter(project=project).values_list("pk", "label")) == clusters_before
    assert run.counts["clusters_new"] == 0 and run.counts["clusters_vanished"] == 0
    assert run.counts["memberships_changed"] == 0 and run.counts["embedded_now"] == 0
    assert all(c.growth == 0 for c in Cluster.objects.filter(project=project, is_active=True))


def test_running_the_same_run_twice_does_nothing_the_second_time(project, clustered):
    _, run = clustered
    assert clustering_run_execute(run_id=run.pk) is None


def test_a_new_failure_joins_the_nearest_cluster_when_it_is_close_enough(project, clustered):
    cluster = Cluster.objects.filter(project=project, is_active=True).order_by("-size").first()
    member = Interaction.objects.filter(cluster=cluster).first()
    size = cluster.size
    # The same question again, in other words: it belongs to that cluster.
    near = FailureFactory(project=project, input=[{"role": "user", "content": f"Again: {user_text(member.input)}"}])
    far = FailureFactory(project=project, input=[{"role": "user", "content": "Quantum chromodynamics of gluons"}])
    FeedbackFactory(interaction=near)
    assert embeddings_compute(interaction_ids=[near.pk, far.pk])
    near.refresh_from_db()
    far.refresh_from_db()
    assert near.cluster_id == cluster.pk
    assert far.cluster_id is None  # waits for the next run
    cluster.refresh_from_db()
    assert cluster.size == size + 1 and cluster.last_seen >= near.occurred_at


def test_a_cluster_whose_failures_are_gone_becomes_inactive(project, clustered):
    refund_id = Cluster.objects.filter(project=project, is_active=True).order_by("size", "id").first().pk
    # Its failures stop being failures (e.g. the feedback was withdrawn).
    Interaction.objects.filter(cluster_id=refund_id).update(is_failure=False)
    run = recluster(project)
    assert run.counts["clusters_vanished"] >= 1
    assert Cluster.objects.get(pk=refund_id).is_active is False
    assert not Interaction.objects.filter(cluster_id=refund_id).exists()


def test_a_second_start_reuses_the_run_in_flight(project):
    first, created = clustering_run_start(project=project, enqueue=False)
    second, created_again = clustering_run_start(project=project, enqueue=False)
    assert created and not created_again and first.pk == second.pk


def test_the_recluster_command_runs_every_project_with_failures(project, capsys):
    make_failures(project, topics={k: v[:6] for k, v in TOPICS.items()})
    call_command("recluster", "--project", project.slug)
    out = capsys.readouterr()
    assert "succeeded" in out.out and "24 failures" in out.out
    assert ClusteringRun.objects.get(project=project).status == "succeeded"


def test_a_tiny_project_gets_no_clusters_and_no_error(project):
    FeedbackFactory(interaction=FailureFactory(project=project))
    run = recluster(project)
    assert run.status == "succeeded" and run.counts["clusters"] == 0 and run.counts["unclustered"] == 1


def test_progress_reaches_the_run_row(project):
    make_failures(project, topics={k: v[:5] for k, v in TOPICS.items()})
    run, _ = clustering_run_start(project=project, enqueue=False)
    seen = []
    with CaptureQueriesContext(connection):
        clustering_run_execute(run_id=run.pk, progress=lambda fraction, stage: seen.append((stage, fraction)))
    stages = [stage for stage, _ in seen]
    assert stages[0] == "embedding" and "clustering" in stages and stages[-1] == "saving"
    assert [f for _, f in seen] == sorted(f for _, f in seen)
    run.refresh_from_db()
    assert run.progress == 1.0 and run.stage == "done" and run.finished_at is not None
