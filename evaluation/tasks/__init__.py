"""Celery tasks of the evaluation app: thin, idempotent, ids in."""

from evaluation.tasks.scoring import finish_run, score_run_chunk  # noqa: F401
