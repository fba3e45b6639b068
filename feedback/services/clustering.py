"""Clustering runs: embed what is missing, cluster a project's failures, keep cluster ids stable, label them.

The algorithm itself (feedback/clustering/) is pure numpy; this module moves data in and out of PostgreSQL with
set-based statements and records the run's progress where the admin and the API can see it.

A running run holds a lease: the worker renews `heartbeat_at` every third of CLUSTERING_RUN_LEASE_SECONDS (from a
thread, so a long numpy stage renews it too). A run whose lease expired lost its worker (killed, out of memory, its
machine gone): the next run request, or the beat schedule, marks it failed and a new run can start. A worker that
was only slow and finds its run taken away stops before saving anything.
"""

import logging
import threading
import time
from collections.abc import Callable
from datetime import timedelta

import numpy as np
from django.conf import settings
from django.db import IntegrityError, InterfaceError, OperationalError, connection, transaction
from django.utils import timezone

from core.embedder import embedder_name
from feedback.models import ClusteringRun, Project
from feedback.selectors.clusters import clustering_run_in_flight, failure_ids_unembedded, failure_vectors
from feedback.services.cluster_store import clusters_save
from feedback.services.embeddings import embedder_wait_ready, embeddings_compute

__all__ = ["clustering_run_execute", "clustering_run_start", "clustering_runs_fail_lost", "clustering_runs_schedule"]

logger = logging.getLogger(__name__)

# Share of the progress bar each stage takes (embedding dominates when many failures are new).
_STAGES = {"embedding": (0.0, 0.45), "loading": (0.45, 0.5), "clustering": (0.5, 0.85), "saving": (0.85, 1.0)}
_PROGRESS_WRITE_SECONDS = 0.5

Progress = Callable[[float, str], None]


def clustering_run_start(*, project: Project, enqueue: bool = True) -> tuple[ClusteringRun, bool]:
    """Queue a reclustering of the project, or return the run already queued or running: (run, created)."""
    running = clustering_run_in_flight(project=project)
    if running is not None and _lost_reason(running) is None:
        return running, False
    if running is not None:
        _fail_lost(running)
    try:
        with transaction.atomic():
            run = ClusteringRun.objects.create(project=project)
    except IntegrityError:
        # Another request created one between our check and our insert (the partial unique constraint).
        return clustering_run_in_flight(project=project), False
    if enqueue:
        from feedback.tasks.clustering import recluster_project

        transaction.on_commit(lambda: recluster_project.delay(run.pk))
    return run, True


# Projects with at least `min_waiting` failures that are embedded, in no cluster and newer than the project's
# latest clustering run (failures the last run left out as noise do not count again).
_DUE_SQL = """
SELECT e.project_id
FROM feedback_embedding e
JOIN feedback_interaction i ON i.id = e.interaction_id
LEFT JOIN LATERAL (
    SELECT max(r.created_at) AS last_run FROM feedback_clusteringrun r WHERE r.project_id = e.project_id
) r ON true
WHERE e.embedder = %s AND i.is_failure AND i.cluster_id IS NULL
  AND (r.last_run IS NULL OR e.created_at > r.last_run)
GROUP BY e.project_id
HAVING count(*) >= %s
ORDER BY e.project_id
"""


def clustering_runs_schedule(*, min_waiting: int | None = None) -> list[ClusteringRun]:
    """Queue a clustering run for every project where enough new failures wait for a cluster (beat calls this).

    A project with a run in flight keeps it (clustering_run_start returns it); returns the runs queued now."""
    if min_waiting is None:
        min_waiting = settings.CLUSTERING_AUTO_MIN_WAITING
    clustering_runs_fail_lost()
    with connection.cursor() as cursor:
        cursor.execute(_DUE_SQL, [embedder_name(), max(1, min_waiting)])
        project_ids = [row[0] for row in cursor.fetchall()]
    queued = []
    for project in Project.objects.filter(pk__in=project_ids).order_by("pk"):
        run, created = clustering_run_start(project=project)
        if created:
            queued.append(run)
    return queued


def _lost_reason(run: ClusteringRun) -> str | None:
    """Why an in-flight run is lost, or None while it is alive (or waits in the queue for a worker)."""
    now = timezone.now()
    if run.status == ClusteringRun.Status.RUNNING:
        lease = settings.CLUSTERING_RUN_LEASE_SECONDS
        last = run.heartbeat_at or run.started_at or run.created_at
        if now - last > timedelta(seconds=lease):
            return f"Worker lost: no heartbeat for {(now - last).total_seconds():.0f} s (lease {lease} s)."
    elif now - run.created_at > timedelta(seconds=settings.CELERY_TASK_TIME_LIMIT * 2):
        return "Abandoned: queued and never started within twice the task time limit."
    return None


def _fail_lost(run: ClusteringRun) -> bool:
    reason = _lost_reason(run)
    if reason is None:
        return False
    logger.warning("Clustering run %s of project %s: %s", run.pk, run.project_id, reason)
    # Only if it is still as we saw it: a heartbeat that came in meanwhile keeps it alive.
    lost = ClusteringRun.objects.filter(pk=run.pk, status=run.status, heartbeat_at=run.heartbeat_at)
    return bool(lost.update(status=ClusteringRun.Status.FAILED, error=reason, finished_at=timezone.now()))


def clustering_runs_fail_lost() -> int:
    """Mark failed every in-flight run whose worker is gone (beat calls this through clustering_runs_schedule)."""
    in_flight = ClusteringRun.objects.filter(status__in=[ClusteringRun.Status.QUEUED, ClusteringRun.Status.RUNNING])
    return sum(_fail_lost(run) for run in in_flight)


def _finish(run: ClusteringRun, *, status: str, error: str = "") -> None:
    ClusteringRun.objects.filter(pk=run.pk).update(status=status, error=error, finished_at=timezone.now())


class RunLost(Exception):
    """This run was declared lost (its lease expired) and another may have started: stop without saving."""


class _Heartbeat(threading.Thread):
    """Renews the run's lease from its own thread (and database connection) until stopped."""

    def __init__(self, run_id: int):
        super().__init__(name=f"clustering-run-{run_id}-heartbeat", daemon=True)
        self.run_id, self.stopped = run_id, threading.Event()
        self.interval = max(settings.CLUSTERING_RUN_LEASE_SECONDS / 3, 0.2)

    def run(self) -> None:
        try:
            while not self.stopped.wait(self.interval):
                try:
                    running = ClusteringRun.objects.filter(pk=self.run_id, status=ClusteringRun.Status.RUNNING)
                    if not running.update(heartbeat_at=timezone.now()):
                        return  # finished, or declared lost: nothing left to renew
                except (OperationalError, InterfaceError):
                    connection.close()  # the database went away; try again on a new connection next time
        finally:
            connection.close()

    def stop(self) -> None:
        self.stopped.set()
        self.join(timeout=10)


class _Reporter:
    """Writes progress to the run row at most twice a second, and forwards it to an optional callback."""

    def __init__(self, run: ClusteringRun, callback: Progress | None):
        self.run, self.callback, self.written_at = run, callback, 0.0

    def __call__(self, stage: str, fraction: float, *, force: bool = False) -> None:
        low, high = _STAGES[stage]
        progress = round(low + (high - low) * min(max(fraction, 0.0), 1.0), 4)
        if self.callback is not None:
            self.callback(progress, stage)
        now = time.monotonic()
        if force or now - self.written_at >= _PROGRESS_WRITE_SECONDS:
            running = ClusteringRun.objects.filter(pk=self.run.pk, status=ClusteringRun.Status.RUNNING)
            if not running.update(progress=progress, stage=stage, heartbeat_at=timezone.now()):
                raise RunLost(f"Clustering run {self.run.pk} is no longer running (declared lost).")
            self.written_at = now


def _claim(run_id: int) -> ClusteringRun | None:
    """Mark the run running; None when it already finished (a redelivered task has nothing to do)."""
    claimable = [ClusteringRun.Status.QUEUED, ClusteringRun.Status.RUNNING]
    now = timezone.now()
    claimed = ClusteringRun.objects.filter(pk=run_id, status__in=claimable).update(
        status=ClusteringRun.Status.RUNNING, started_at=now, heartbeat_at=now, progress=0.0, error=""
    )
    return ClusteringRun.objects.select_related("project").get(pk=run_id) if claimed else None


def clustering_run_execute(*, run_id: int, progress: Progress | None = None) -> ClusteringRun | None:
    """Run a queued clustering run to the end (the task and `manage.py recluster` call this)."""
    run = _claim(run_id)
    if run is None:
        return None
    heartbeat = _Heartbeat(run.pk)
    heartbeat.start()
    try:
        _execute(run, _Reporter(run, progress))
    except RunLost:
        logger.warning("Clustering run %s was declared lost while it worked; stopped without saving", run.pk)
        return None
    except (OperationalError, InterfaceError):
        raise  # the database went away; the task retries and the run, still "running", is claimed again
    except Exception as exc:
        logger.exception("Clustering run %s failed", run.pk)
        _finish(run, status=ClusteringRun.Status.FAILED, error=f"{type(exc).__name__}: {exc}")
        raise
    finally:
        heartbeat.stop()
    run.refresh_from_db()
    return run


def _execute(run: ClusteringRun, report: _Reporter) -> None:
    from feedback.clustering.algorithm import cluster_embeddings

    project, embedder, timings, counts = run.project, embedder_name(), {}, {}

    started = time.perf_counter()
    pending = failure_ids_unembedded(project=project, embedder=embedder, limit=10_000_000)
    # Large slices, each embedded in one call: the call orders its texts canonically (by length, then text) before
    # batching, so a text's batch mates (which move a qint8 vector a little) do not depend on the arrival order.
    batch = max(settings.EMBEDDING_SWEEP_BATCH, settings.CLUSTERING_EMBED_SLICE)
    embedded = 0
    report("embedding", 0.0, force=True)
    if pending:
        # Part of the stage, and said apart: the model's load, when the worker had not loaded it yet (it does when it
        # starts; see feedback/tasks/embeddings.py). Not embedding speed, but a wait the user sees all the same.
        timings["embedding.model_load"] = embedder_wait_ready()
    for start in range(0, len(pending), batch):
        embedded += len(
            embeddings_compute(
                interaction_ids=pending[start : start + batch],
                join_clusters=False,
                progress=lambda done, _total, start=start: report("embedding", (start + done) / len(pending)),
            )
        )
    timings["embedding"] = time.perf_counter() - started
    counts["embedded_now"] = embedded

    started = time.perf_counter()
    report("loading", 0.0, force=True)
    days = settings.CLUSTERING_WINDOW_DAYS
    ids, vectors, texts = failure_vectors(
        project=project,
        embedder=embedder,
        limit=settings.CLUSTERING_MAX_FAILURES or None,
        since=timezone.now() - timedelta(days=days) if days else None,
    )
    timings["loading"] = time.perf_counter() - started
    counts["failures"] = len(ids)

    started = time.perf_counter()
    report("clustering", 0.0, force=True)
    if len(ids) >= 2:
        result = cluster_embeddings(vectors, seed=0, progress=lambda f: report("clustering", f))
        labels, centroids, params = np.asarray(result.labels), np.asarray(result.centroids), dict(result.params)
    else:
        labels, centroids, params = np.full(len(ids), -1), np.zeros((0, vectors.shape[-1] or 1)), {}
    timings["clustering"] = time.perf_counter() - started

    started = time.perf_counter()
    report("saving", 0.0, force=True)
    steps: dict[str, float] = {}
    saved = clusters_save(
        run=run,
        embedder=embedder,
        ids=ids,
        vectors=vectors,
        texts=texts,
        labels=labels,
        centroids=centroids,
        timings=steps,
    )
    timings["saving"] = time.perf_counter() - started
    timings.update({f"saving.{step}": seconds for step, seconds in steps.items()})
    counts.update(saved)
    ClusteringRun.objects.filter(pk=run.pk, status=ClusteringRun.Status.RUNNING).update(
        status=ClusteringRun.Status.SUCCEEDED,
        progress=1.0,
        stage="done",
        counts=counts,
        params=_jsonable(params),
        timings={stage: round(seconds, 3) for stage, seconds in timings.items()},
        finished_at=timezone.now(),
    )


def _jsonable(value):
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (str, int, float, bool)) or value is None:
        return value
    return str(value)
