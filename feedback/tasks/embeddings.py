"""Embedding tasks: a failure is embedded shortly after it arrives; a periodic sweep catches any that were missed.

Recovery of lost work (docs/operations.md, "What heals by itself"):
- the database going away: `embed_interactions` retries with exponential backoff and jitter over about half an
  hour (15 s doubling to 10 min between attempts), so a restart or failover of minutes leaves nothing behind;
- a worker killed mid-task: with the filesystem broker the message in flight is lost (Redis redelivers it), so
  every worker, when it starts (the supervisor restarts a killed one within seconds), sends one sweep, which embeds
  whatever is still unembedded instead of leaving it for the next periodic sweep (EMBEDDING_SWEEP_SECONDS).
"""

from celery import current_app, shared_task
from celery.signals import worker_process_init, worker_ready
from django.conf import settings
from django.db import InterfaceError, OperationalError

from feedback.services.embeddings import embedder_warm_up, embeddings_compute, embeddings_sweep

# The queues whose tasks run the model: embedding tasks, and clustering runs (their embedding stage).
MODEL_QUEUES = {"embeddings", "clustering"}

# Only the database going away is worth retrying; bad data is not.
DATABASE_GONE = (OperationalError, InterfaceError)


@shared_task(
    name="feedback.tasks.embed_interactions",
    acks_late=True,  # a worker killed mid-batch leaves the message to be redelivered (Redis)...
    reject_on_worker_lost=True,  # ...and the batch is safe to redo: embedded failures are skipped
    autoretry_for=DATABASE_GONE,
    retry_backoff=15,  # seconds before the first retry, doubled each time (full jitter: a random share of it)...
    retry_backoff_max=600,  # ...up to 10 minutes: 8 retries span about half an hour
    retry_jitter=True,  # so that a burst of tasks failed together does not come back together
    max_retries=8,
    ignore_result=True,
)
def embed_interactions(interaction_ids: list[int]) -> None:
    """Embed these failures (those already embedded are skipped) and let them join their nearest cluster."""
    embeddings_compute(interaction_ids=interaction_ids)


@shared_task(
    name="feedback.tasks.sweep_unembedded_failures",
    acks_late=True,
    reject_on_worker_lost=True,
    autoretry_for=DATABASE_GONE,
    retry_backoff=15,
    retry_backoff_max=120,
    max_retries=3,
    expires=300,  # the next beat tick sends a fresh one; a backlog of stale sweeps would only repeat it
    ignore_result=True,
)
def sweep_unembedded_failures() -> None:
    embeddings_sweep()


@worker_ready.connect
def sweep_on_worker_start(sender=None, **kwargs) -> None:
    """A worker that starts may replace one killed with a task in hand: sweep now, not at the next beat tick."""
    if settings.EMBEDDING_SWEEP_ON_WORKER_START:
        sweep_unembedded_failures.delay()


@worker_process_init.connect
def warm_up_embedder_on_process_start(sender=None, **kwargs) -> None:
    """A prefork child that takes embedding or clustering tasks loads the model when it starts, in the background.

    Lazily, the first run after a worker (re)start counted torch's 5-8 s of imports as its embedding stage: 0.31x raw
    torch's speed on Banking77 test, where the loaded model runs at about 1x (docs/clustering-quality.md). The parent
    still never loads it (its children would inherit torch state across fork); the solo pool loads on first use.
    """
    consumed = set(current_app.amqp.queues.consume_from)
    if settings.EMBEDDER_WARM_UP_ON_WORKER_START and consumed & MODEL_QUEUES:
        embedder_warm_up()
