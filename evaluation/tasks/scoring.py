import logging

from celery import shared_task

from evaluation.services.runs import run_fail
from evaluation.services.scoring import run_finish, run_score_chunk

logger = logging.getLogger(__name__)


@shared_task(acks_late=True, reject_on_worker_lost=True)
def score_run_chunk(run_id: int, chunk: int) -> None:
    """Score one chunk of a run. Safe to run twice: scores are upserted and a chunk is marked done once."""
    try:
        run_score_chunk(run_id=run_id, chunk=chunk)
    except Exception as exc:
        # A scorer that raises (rather than reporting a per-example error) would fail every retry the same way:
        # the run fails with the reason, instead of waiting in `scoring` for ever.
        logger.exception("Scoring chunk %s of run %s failed", chunk, run_id)
        run_fail(run_id=run_id, error=f"Scoring chunk {chunk} failed: {exc}")
        raise


@shared_task(acks_late=True, reject_on_worker_lost=True)
def finish_run(run_id: int) -> None:
    """Summarise a run once every chunk is scored (a no-op when it is summarised already)."""
    try:
        run_finish(run_id=run_id)
    except Exception as exc:
        logger.exception("Summarising run %s failed", run_id)
        run_fail(run_id=run_id, error=f"Summarising failed: {exc}")
        raise
