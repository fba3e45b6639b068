"""Failures kept on the row so that queries stay cheap: the interaction's counts and is_failure, derived from its
feedback and reviews by the failure rule (feedback/rules.py), for a set of interactions at once.

Feedback.is_negative is decided when the feedback is written (services/capture_sql.py) and again when a threshold
changes (services/projects.py), by the same rule.
"""

from functools import partial

from django.conf import settings
from django.db import connection, transaction

from core.coalesce import Coalescer
from feedback.rules import is_failure_sql

_LOCK_SQL = """
SELECT id, is_failure FROM feedback_interaction WHERE id = ANY(%s) ORDER BY id FOR NO KEY UPDATE
"""

_REFRESH_SQL = f"""
UPDATE feedback_interaction AS i
SET feedback_count = s.feedback_count, negative_count = s.negative_count, is_failure = s.is_failure
FROM (
    SELECT x.id, coalesce(f.feedback_count, 0) AS feedback_count, coalesce(f.negative_count, 0) AS negative_count,
           {is_failure_sql(negative_count="f.negative_count", interaction_id="x.id")} AS is_failure
    FROM unnest(%s::bigint[]) AS x(id)
    LEFT JOIN LATERAL (
        SELECT count(*) AS feedback_count, count(*) FILTER (WHERE fb.is_negative) AS negative_count
        FROM feedback_feedback fb WHERE fb.interaction_id = x.id
    ) f ON true
) AS s
WHERE i.id = s.id
  AND (i.feedback_count, i.negative_count, i.is_failure)
      IS DISTINCT FROM (s.feedback_count, s.negative_count, s.is_failure)
RETURNING i.id, i.is_failure
"""


@transaction.atomic(savepoint=False)  # callers are mostly inside a transaction; a savepoint costs 2 round trips
def interactions_refresh_state(*, interaction_ids: list[int]) -> list[int]:
    """Recompute feedback_count, negative_count and is_failure of these interactions; return those that BECAME
    failures (the caller enqueues their embedding, e.g. with failures_enqueue_embedding)."""
    ids = sorted({int(pk) for pk in interaction_ids})
    if not ids:
        return []
    with connection.cursor() as cursor:
        # Lock first, in id order (no deadlocks between batches), then aggregate in a NEW statement: under READ
        # COMMITTED its snapshot includes feedback committed by whoever held the lock before us, so concurrent
        # writers never lose each other's counts. NO KEY UPDATE does not conflict with the KEY SHARE locks that
        # the foreign keys of concurrent feedback inserts take.
        cursor.execute(_LOCK_SQL, [ids])
        was_failure = dict(cursor.fetchall())
        cursor.execute(_REFRESH_SQL, [ids])
        changed = cursor.fetchall()
    return sorted(pk for pk, is_failure in changed if is_failure and not was_failure.get(pk, False))


def _send_embedding_task(interaction_ids: list[int]) -> None:
    from feedback.tasks.embeddings import embed_interactions  # late: tasks import services, not the reverse

    embed_interactions.delay(sorted(set(interaction_ids)))


# The failures that commits of this process made within settings.EMBEDDING_ENQUEUE_WINDOW_MS, sent as one task.
embedding_queue = Coalescer(
    _send_embedding_task,
    window=lambda: settings.EMBEDDING_ENQUEUE_WINDOW_MS / 1000,
    max_items=256,
    name="embeddings",
)


def failures_enqueue_embedding(*, interaction_ids: list[int]) -> None:
    """Embed new failures once the transaction that made them commits (never for a rolled-back write), together
    with the other new failures of this process's next fraction of a second (embedding_queue)."""
    if not interaction_ids:
        return
    transaction.on_commit(partial(embedding_queue.add, list(interaction_ids)))
