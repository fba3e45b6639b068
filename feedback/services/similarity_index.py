"""Per-project HNSW indexes for the similar endpoint, built once a project has enough embeddings.

Below SIMILARITY_INDEX_MIN_EMBEDDINGS a project's nearest failures are found by an exact scan of its embeddings
(the `embedding_project` btree finds them; 3,000 take about 4 ms). Above it the project gets a partial HNSW index of
its own (`WHERE project_id = ... AND embedder = ...`). Only that project's inserts pay for its graph, and a query
searches no other project's vectors. One global index made every insert walk every project's graph: it cost the
embedding path 0.5-1.6 ms of server CPU per failure, growing with all projects' vectors
(docs/decisions/per-project-hnsw.md).
"""

import hashlib
import logging
import time

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Count
from psycopg import sql

from feedback.models import Embedding, Project
from feedback.selectors.clusters import (
    SIMILARITY_INDEX_PREFIX,
    similarity_index_name,
    similarity_index_state,
    similarity_indexes,
)

logger = logging.getLogger(__name__)


def _lock_key(name: str) -> int:
    """A signed 64-bit advisory lock key for this index name: one builder per index at a time."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def similarity_index_ensure(*, project: Project, embedder: str) -> float | None:
    """Build the project's HNSW index when it has enough embeddings and none is valid yet; returns the seconds
    the build took, or None when there was nothing to build (or another process is building it).

    Outside a transaction the index is built CONCURRENTLY, so inserts and queries go on meanwhile; a build that
    died left an invalid index, which is dropped and built again. Safe to call from several workers at once.
    """
    embeddings = Embedding.objects.filter(project=project, embedder=embedder).count()
    name = similarity_index_name(project_id=project.pk, embedder=embedder)
    if embeddings < settings.SIMILARITY_INDEX_MIN_EMBEDDINGS or similarity_index_state(name=name) == "valid":
        return None
    concurrently = sql.SQL("" if connection.in_atomic_block else "CONCURRENTLY")
    index = sql.Identifier(name)
    key = _lock_key(name)
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_try_advisory_lock(%s)", [key])
        if not cursor.fetchone()[0]:
            return None  # another worker is building it
        try:
            if similarity_index_state(name=name) == "invalid":  # a build that died; only the lock holder builds
                cursor.execute(_sql(sql.SQL("DROP INDEX {} IF EXISTS {}").format(concurrently, index)))
            started = time.perf_counter()
            if connection.in_atomic_block:
                # Inside a transaction: CREATE INDEX refuses to run while deferred foreign-key checks are pending.
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute("SET maintenance_work_mem = %s", [settings.SIMILARITY_INDEX_BUILD_MEMORY])
            # Literals, not parameters: the planner matches a query to a partial index by its predicate's values.
            create = sql.SQL(
                "CREATE INDEX {} IF NOT EXISTS {} ON feedback_embedding USING hnsw (vector vector_cosine_ops) "
                "WITH (m = 16, ef_construction = 64) WHERE project_id = {} AND embedder = {}"
            ).format(concurrently, index, sql.Literal(int(project.pk)), sql.Literal(embedder))
            cursor.execute(_sql(create))
            seconds = time.perf_counter() - started
            # Fresh statistics, or the planner may keep scanning exactly: right after a bulk load it did, and the
            # similar lookup over 100,000 vectors took 229 ms against 30 ms once autovacuum had analyzed the table.
            cursor.execute("ANALYZE feedback_embedding")
        finally:
            cursor.execute("RESET maintenance_work_mem")
            if connection.in_atomic_block:
                cursor.execute("SET CONSTRAINTS ALL DEFERRED")
            cursor.execute("SELECT pg_advisory_unlock(%s)", [key])
    logger.info("Built %s over %s embeddings in %.1f s", name, embeddings, seconds)
    return seconds


def _sql(statement: sql.Composable) -> str:
    """A composed statement as text, quoted by psycopg for this connection (Django's cursor takes strings)."""
    return statement.as_string(connection.connection)


def similarity_indexes_prune() -> list[str]:
    """Drop the indexes of projects that no longer exist (their rows went with the project); returns their names."""
    live = set(Project.objects.values_list("pk", flat=True))
    gone = [name for name in similarity_indexes() if _project_id(name) not in live]
    with connection.cursor() as cursor:
        for name in gone:
            cursor.execute(_sql(sql.SQL("DROP INDEX IF EXISTS {}").format(sql.Identifier(name))))
    return gone


def _project_id(name: str) -> int | None:
    """The project id in an index name made by similarity_index_name (p<id>_<hash>)."""
    head = name.removeprefix(SIMILARITY_INDEX_PREFIX).split("_", 1)[0]
    return int(head) if head.isdigit() else None


def similarity_indexes_schedule() -> list[tuple[int, str]]:
    """Queue a build for each (project, embedder) with enough embeddings and no valid index, after dropping the
    indexes of deleted projects (beat calls this); returns the pairs queued."""
    similarity_indexes_prune()
    due = (
        Embedding.objects.values_list("project_id", "embedder")
        .annotate(n=Count("id"))
        .filter(n__gte=settings.SIMILARITY_INDEX_MIN_EMBEDDINGS)
        .order_by("project_id", "embedder")
    )
    valid = {name for name, is_valid in similarity_indexes().items() if is_valid}
    queued = [
        (project_id, embedder)
        for project_id, embedder, _ in due
        if similarity_index_name(project_id=project_id, embedder=embedder) not in valid
    ]
    if queued:
        from feedback.tasks.clustering import build_similarity_index

        for project_id, embedder in queued:
            transaction.on_commit(lambda p=project_id, e=embedder: build_similarity_index.delay(p, e))
    return queued
