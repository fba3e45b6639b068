"""The clustering task: one run of one project, on the "clustering" queue (settings.CELERY_TASK_ROUTES)."""

from celery import shared_task
from django.db import OperationalError

from feedback.models import Project
from feedback.services.clustering import clustering_run_execute, clustering_runs_schedule
from feedback.services.similarity_index import similarity_index_ensure, similarity_indexes_schedule


@shared_task(
    name="feedback.tasks.recluster_project",
    acks_late=True,  # a run lost with its worker is redelivered and starts over; a finished run is not redone
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    ignore_result=True,
)
def recluster_project(run_id: int) -> None:
    clustering_run_execute(run_id=run_id)


@shared_task(name="feedback.tasks.schedule_clustering_runs", ignore_result=True)
def schedule_clustering_runs() -> None:
    """Beat: recluster the projects where enough new failures wait for a cluster."""
    clustering_runs_schedule()


@shared_task(name="feedback.tasks.schedule_similarity_indexes", ignore_result=True)
def schedule_similarity_indexes() -> None:
    """Beat: give each project that has grown enough embeddings its own HNSW index."""
    similarity_indexes_schedule()


@shared_task(
    name="feedback.tasks.build_similarity_index",
    acks_late=True,  # a build lost with its worker leaves an invalid index, which the redelivered task replaces
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    ignore_result=True,
)
def build_similarity_index(project_id: int, embedder: str) -> None:
    project = Project.objects.filter(pk=project_id).first()
    if project is not None:  # deleted since it was queued: nothing to index
        similarity_index_ensure(project=project, embedder=embedder)
