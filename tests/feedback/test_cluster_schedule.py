"""Beat reclusters a project by itself once enough new failures wait for a cluster, and only then.

Transactional: "new since the last run" compares commit-time timestamps, as separate transactions make them."""

import pytest

from core.embedder import get_model
from feedback.models import ClusteringRun, Interaction
from feedback.services.clustering import clustering_run_execute, clustering_runs_schedule
from feedback.services.embeddings import embeddings_compute
from feedback.tasks.clustering import recluster_project
from tests.factories import ProjectFactory
from tests.feedback.cluster_fixtures import TOPICS, make_failures


@pytest.fixture(scope="module", autouse=True)
def model():
    return get_model()


def embed_all(project, *, join_clusters: bool = True) -> None:
    ids = list(Interaction.objects.filter(project=project, is_failure=True).values_list("pk", flat=True))
    embeddings_compute(interaction_ids=ids, join_clusters=join_clusters)


def test_a_project_is_reclustered_when_enough_new_failures_wait(transactional_db, project, monkeypatch):
    quiet = ProjectFactory(slug="quiet")
    make_failures(project)  # 48 failures
    make_failures(quiet, topics={"card": TOPICS["card"][:5]})
    embed_all(project)
    embed_all(quiet)

    sent = []
    monkeypatch.setattr(recluster_project, "delay", sent.append)  # no worker here: record what beat would send
    queued = clustering_runs_schedule(min_waiting=40)
    assert [run.project_id for run in queued] == [project.pk]
    assert sent == [queued[0].pk]
    assert clustering_runs_schedule(min_waiting=40) == []  # the run in flight is kept, no second one

    run = clustering_run_execute(run_id=queued[0].pk)
    assert run.status == ClusteringRun.Status.SUCCEEDED, run.error
    # Nothing new since that run (failures it left out as noise do not count again); quiet has 5 < 6.
    assert clustering_runs_schedule(min_waiting=6) == []

    # 24 new failures that did not join a cluster between runs: due again.
    make_failures(project, prefix="new-", topics={"card": TOPICS["card"], "refund": TOPICS["refund"]})
    embed_all(project, join_clusters=False)
    assert clustering_runs_schedule(min_waiting=25) == []
    assert [run.project_id for run in clustering_runs_schedule(min_waiting=24)] == [project.pk]
    assert len(sent) == 2
