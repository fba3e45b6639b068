"""A clustering run whose worker is killed is declared lost within its lease, and a new run can start."""

import os
import signal
from datetime import timedelta

import psycopg
import pytest
from django.utils import timezone

from feedback.models import ClusteringRun
from feedback.services.clustering import clustering_run_start, clustering_runs_fail_lost
from feedback.tasks.clustering import recluster_project
from tests.conftest import database_url
from tests.feedback.cluster_fixtures import make_failures
from tests.workers import worker_start, worker_stop

LEASE = 3


def test_a_run_whose_worker_is_killed_mid_run_is_lost_and_a_new_run_starts(
    transactional_db, api, project, settings, tmp_path, wait_until, monkeypatch
):
    settings.CLUSTERING_RUN_LEASE_SECONDS = LEASE
    # Runs go to a queue only this test's workers consume: the session's worker (tests/conftest.py) listens on the
    # clustering queue of the same broker, and would otherwise take the run instead of the worker this test kills.
    queue = f"lease-test-{os.getpid()}"
    monkeypatch.setattr(
        recluster_project, "delay", lambda run_id: recluster_project.apply_async((run_id,), queue=queue)
    )
    make_failures(project)
    # The clusters table stays locked until the worker is killed: a run of 48 failures may otherwise end before the
    # kill, and the run is surely mid-way when killed (its heartbeat thread still renews the lease meanwhile).
    blocker = psycopg.connect(database_url())
    blocker.execute("LOCK TABLE feedback_cluster IN ACCESS EXCLUSIVE MODE")
    worker = worker_start(tmp_path / "first.log", queues=[queue], CLUSTERING_RUN_LEASE_SECONDS=LEASE)
    try:
        response = api.post("/api/v1/clustering/runs")
        assert response.status_code == 202
        run = ClusteringRun.objects.get(pk=response.json()["id"])

        # The worker claims it and renews its lease while it works (loading the model, embedding 48 failures).
        def renewed():
            run.refresh_from_db()
            return run.status == "running" and run.heartbeat_at and run.heartbeat_at > run.started_at

        assert wait_until(renewed, timeout=60), (tmp_path / "first.log").read_text()[-2000:]
        os.kill(worker.pid, signal.SIGKILL)
        worker.wait()
        blocker.rollback()

        # Within the lease the run is still the one in flight: a request returns it.
        again = api.post("/api/v1/clustering/runs")
        assert again.json()["id"] == run.pk and again.json()["status"] == "running"
    finally:
        worker_stop(worker)
        blocker.close()

    # Past the lease, a new request marks it lost and starts a new run, which a new worker runs to the end.
    assert wait_until(
        lambda: timezone.now() - ClusteringRun.objects.get(pk=run.pk).heartbeat_at > timedelta(seconds=LEASE),
        timeout=LEASE + 2,
    )
    response = api.post("/api/v1/clustering/runs")
    assert response.status_code == 202 and response.json()["id"] != run.pk
    run.refresh_from_db()
    assert run.status == "failed" and run.error.startswith("Worker lost") and run.finished_at is not None
    second = worker_start(tmp_path / "second.log", queues=[queue], CLUSTERING_RUN_LEASE_SECONDS=LEASE)
    try:
        new_run = ClusteringRun.objects.get(pk=response.json()["id"])

        def finished():
            new_run.refresh_from_db()
            return new_run.status in ("succeeded", "failed")

        assert wait_until(finished, timeout=120, interval=0.5), (tmp_path / "second.log").read_text()[-2000:]
        assert new_run.status == "succeeded", new_run.error
    finally:
        worker_stop(second)


@pytest.mark.django_db
def test_a_run_silent_past_its_lease_is_failed_by_the_schedule_and_a_live_one_is_kept(project, settings):
    settings.CLUSTERING_RUN_LEASE_SECONDS = 90
    now = timezone.now()
    lost = ClusteringRun.objects.create(
        project=project,
        status="running",
        started_at=now - timedelta(minutes=5),
        heartbeat_at=now - timedelta(seconds=91),
    )
    other = project.__class__.objects.create(slug="other", name="Other")
    alive = ClusteringRun.objects.create(
        project=other, status="running", started_at=now - timedelta(minutes=5), heartbeat_at=now - timedelta(seconds=30)
    )
    assert clustering_runs_fail_lost() == 1
    lost.refresh_from_db()
    alive.refresh_from_db()
    assert lost.status == "failed" and "no heartbeat" in lost.error
    assert alive.status == "running"
    run, created = clustering_run_start(project=other, enqueue=False)
    assert run.pk == alive.pk and not created
