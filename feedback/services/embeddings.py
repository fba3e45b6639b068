"""Embedding failures: the text that stands for a failure, batched model calls, one INSERT per chunk."""

import json
import logging
import os
import string
import threading
import time
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

from django.conf import settings
from django.db import connection

from core.chat import content_text, user_text
from core.embedder import backend_in_use, default_batch_size, embed_texts, embedder_name, get_model
from feedback.models import Feedback, Interaction
from feedback.rules import has_correction_sql
from feedback.selectors.clusters import failure_ids_unembedded, vector_cursor
from feedback.services.cluster_store import clusters_join

logger = logging.getLogger(__name__)

# Each field is cut to this many characters: the model reads only its first 256 word pieces anyway.
_FIELD_MAX_CHARS = 2000


def render_template(template: str, values: dict[str, str]) -> str:
    """Fill the template line by line, dropping lines whose placeholders are all empty."""
    lines = []
    for line in template.split("\n"):
        names = [name for _, name, _, _ in string.Formatter().parse(line) if name]
        if names and not any(values.get(name) for name in names):
            continue
        lines.append(line.format_map({name: values.get(name, "") for name in names}))
    return "\n".join(lines).strip()


def embedding_text(*, interaction: Interaction, negative_feedback: list[Feedback] = (), template: str | None = None):
    """The text embedded for a failure (settings.EMBEDDING_TEXT_TEMPLATE); feedback newest first."""
    comment = next((fb.comment for fb in negative_feedback if fb.comment), "")
    correction = next((fb.correction for fb in negative_feedback if fb.correction not in (None, "")), None)
    return _text(interaction.input, interaction.output, comment, correction, template)


def _text(input_value: Any, output: Any, comment: str, correction: Any, template: str | None = None) -> str:
    values = {
        "user": user_text(input_value),
        "output": content_text(output),
        "comment": comment or "",
        "correction": content_text(correction),
    }
    values = {key: value.strip()[:_FIELD_MAX_CHARS] for key, value in values.items()}
    return render_template(template or settings.EMBEDDING_TEXT_TEMPLATE, values)


# The failures among the ids without an embedding by this embedder, with the newest comment and the newest
# correction of their negative (or correcting) feedback: what embedding_text reads, in one statement. The ORM's
# objects and prefetch took 0.1-0.3 s per 1,000 failures before the model could start.
_TO_EMBED_SQL = f"""
SELECT i.id, i.project_id, i.input, i.output,
    (SELECT f.comment FROM feedback_feedback f
     WHERE f.interaction_id = i.id AND f.is_negative AND f.comment <> ''
     ORDER BY f.created_at DESC LIMIT 1),
    (SELECT f.correction FROM feedback_feedback f
     WHERE f.interaction_id = i.id AND {has_correction_sql("f.correction")}
     ORDER BY f.created_at DESC LIMIT 1)
FROM feedback_interaction i
WHERE i.id = ANY(%s) AND i.is_failure
  AND NOT EXISTS (SELECT 1 FROM feedback_embedding e WHERE e.interaction_id = i.id AND e.embedder = %s)
ORDER BY i.id
"""


def _failures_to_embed(interaction_ids: list[int], embedder: str) -> list[tuple[int, int, str]]:
    """(id, project id, embedded text) of the failures among these ids that have no embedding by this embedder."""
    with connection.cursor() as cursor:
        cursor.execute(_TO_EMBED_SQL, [list(interaction_ids), embedder])
        rows = cursor.fetchall()
    # Django's connections load jsonb as its text, for JSONField to parse: parse it here likewise.
    return [
        (pk, project_id, _text(_json(input_value), _json(output), comment, _json(correction)))
        for pk, project_id, input_value, output, comment, correction in rows
    ]


def _json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def _insert(rows: list[tuple[int, int, str]], vectors, embedder: str) -> list[int]:
    """One INSERT for the chunk; rows another worker embedded meanwhile are skipped, not duplicated."""
    with vector_cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO feedback_embedding (interaction_id, project_id, embedder, text, vector, created_at)
            SELECT u.interaction_id, u.project_id, %s, u.text, u.vector, now()
            FROM unnest(%s::bigint[], %s::bigint[], %s::text[], %b::vector[])
                AS u(interaction_id, project_id, text, vector)
            ON CONFLICT (interaction_id, embedder) DO NOTHING
            RETURNING interaction_id
            """,
            [embedder, [r[0] for r in rows], [r[1] for r in rows], [r[2] for r in rows], list(vectors)],
        )
        return [row[0] for row in cursor.fetchall()]


_encoder: tuple[int, ThreadPoolExecutor] | None = None
_encoder_lock = threading.Lock()


def _encoder_thread() -> ThreadPoolExecutor:
    """The process's one encoding thread, kept across calls: a new thread per task would also make torch start a new
    OpenMP team and warm it up again. Made after fork (keyed by pid), as a forked child has none of its threads."""
    global _encoder
    with _encoder_lock:
        if _encoder is None or _encoder[0] != os.getpid():
            _encoder = (os.getpid(), ThreadPoolExecutor(max_workers=1, thread_name_prefix="embedder"))
        return _encoder[1]


def embedder_warm_up() -> Future:
    """Load the model and run it once on the encoding thread, in the background; returns at once.

    A worker process calls this when it starts (feedback/tasks/embeddings.py): loading torch and
    sentence-transformers takes 5-8 s of one core, which a run would otherwise count as embedding time. Work queued
    on the encoding thread meanwhile waits for the warm-up to finish, and no longer."""
    return _encoder_thread().submit(_warm_up)


def _warm_up() -> float:
    started = time.perf_counter()
    try:
        embed_texts(["warm up"])
    except Exception:
        # Nobody waits for the warm-up: say here why the model did not load (the first task will fail the same way).
        logger.exception("Embedder warm-up failed")
        raise
    seconds = time.perf_counter() - started
    logger.info("Embedder %s (%s) loaded and warmed up in %.1f s", embedder_name(), backend_in_use(), seconds)
    return seconds


def embedder_wait_ready() -> float:
    """Seconds spent waiting for the model on the encoding thread: its load (or the warm-up under way), else ~0."""
    started = time.perf_counter()
    _encoder_thread().submit(get_model).result()
    return time.perf_counter() - started


def _encoded_ahead(chunks: list[list[tuple[int, int, str]]]) -> Iterator[tuple[list, Any]]:
    """(chunk, vectors) in order, the model already encoding the next chunk while the caller writes this one.

    The model runs in a helper thread (torch releases the GIL), the database work stays on the caller's thread and
    connection, inside its transaction if it has one. Inserting into the HNSW index costs the database a tenth to a
    fifth of the model's time (0.56-1.5 s per 1,000 failures against 5-7 s of encoding, growing with the index);
    overlapped, the two share the cores instead of taking turns.
    """
    pool = _encoder_thread()
    upcoming = pool.submit(embed_texts, [text for _, _, text in chunks[0]])
    try:
        for n, chunk in enumerate(chunks):
            vectors = upcoming.result()
            if n + 1 < len(chunks):
                upcoming = pool.submit(embed_texts, [text for _, _, text in chunks[n + 1]])
            yield chunk, vectors
    finally:
        upcoming.cancel()  # a caller that stopped early (an insert failed) leaves no encoding queued


def embeddings_compute(*, interaction_ids: list[int], join_clusters: bool = True, progress=None) -> list[int]:
    """Embed those of these interactions that are failures without an embedding; returns the ids embedded.

    Safe to repeat: embedded failures are skipped before the model runs and again by ON CONFLICT. Newly embedded
    failures then join their nearest active cluster when they are close enough to it, chunk by chunk.
    `progress(done, total)` is called after each chunk written.
    """
    embedder = embedder_name()
    rows = _failures_to_embed(list(interaction_ids), embedder)
    if not rows:
        return []
    # Longest first, as model.encode orders the texts of one call: cut into chunks of whole model batches, the
    # batches (and their padding) are those of a single call on all the texts.
    rows.sort(key=lambda row: (-len(row[2]), row[2]))  # ties by text: the same batches whatever the arrival order
    model_batch = default_batch_size()
    size = max(settings.EMBEDDING_CHUNK_SIZE // model_batch, 1) * model_batch
    chunks = [rows[start : start + size] for start in range(0, len(rows), size)]
    inserted: list[int] = []
    # The model runs outside any transaction of ours, and each chunk is written as soon as it is encoded.
    done = 0
    for chunk, vectors in _encoded_ahead(chunks):
        written = _insert(chunk, vectors, embedder)
        if join_clusters and written:
            clusters_join(interaction_ids=written)
        inserted += written
        done += len(chunk)
        if progress is not None:
            progress(done, len(rows))
    return sorted(inserted)


def embeddings_sweep(*, project=None, batch_size: int | None = None, limit: int | None = None, progress=None) -> int:
    """Embed failures that have no embedding yet (lost tasks, a new embedder), batch by batch; returns the count.

    `progress(done, total)` is called after each batch.
    """
    batch_size = batch_size or settings.EMBEDDING_SWEEP_BATCH
    pending = failure_ids_unembedded(project=project, limit=limit or 10_000_000)
    done = 0
    for start in range(0, len(pending), batch_size):
        done += len(embeddings_compute(interaction_ids=pending[start : start + batch_size]))
        if progress is not None:
            progress(min(start + batch_size, len(pending)), len(pending))
    return done
