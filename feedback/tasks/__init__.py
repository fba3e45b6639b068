"""Celery tasks of the feedback app: thin, idempotent, ids in. One module per concern."""

from feedback.tasks.embeddings import embed_interactions  # noqa: F401
