"""Celery tasks of the feedback app: thin, idempotent, ids in. One module per concern."""

from feedback.tasks.clustering import (  # noqa: F401
    build_similarity_index,
    recluster_project,
    schedule_clustering_runs,
    schedule_similarity_indexes,
)
from feedback.tasks.embeddings import embed_interactions, sweep_unembedded_failures  # noqa: F401
from feedback.tasks.reviews import expire_review_claims  # noqa: F401
