"""Embedding tasks: a failure is embedded shortly after it arrives; a periodic sweep catches any that were missed."""

from celery import shared_task
from django.db import OperationalError

from feedback.services.embeddings import embeddings_compute, embeddings_sweep


@shared_task(
    name="feedback.tasks.embed_interactions",
    acks_late=True,  # a worker killed mid-batch leaves the message to be redelivered...
    reject_on_worker_lost=True,  # ...and the batch is safe to redo: embedded failures are skipped
    autoretry_for=(OperationalError,),  # only the database going away is worth retrying; bad data is not
    retry_backoff=True,
    max_retries=5,
    ignore_result=True,
)
def embed_interactions(interaction_ids: list[int]) -> None:
    """Embed these failures (those already embedded are skipped) and let them join their nearest cluster."""
    embeddings_compute(interaction_ids=interaction_ids)


@shared_task(
    name="feedback.tasks.sweep_unembedded_failures",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=(OperationalError,),
    retry_backoff=True,
    max_retries=3,
    expires=300,  # the next beat tick sends a fresh one; a backlog of stale sweeps would only repeat it
    ignore_result=True,
)
def sweep_unembedded_failures() -> None:
    embeddings_sweep()
