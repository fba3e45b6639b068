"""Scoring: each chunk of a run's examples is scored by every scorer and upserted (re-running a chunk changes
nothing); the chunk that completes the set enqueues the summary. Missing outputs fail every scorer."""

import json

from django.db import connection, transaction
from django.utils import timezone

from evaluation.gates import gates_verdict
from evaluation.models import Run, RunScore
from evaluation.scorers import MISSING_OUTPUT, Result, scorer_build
from evaluation.selectors.scoring import chunk_items
from evaluation.selectors.summary import run_summary
from evaluation.services.regressions import regressions_feed
from evaluation.services.runs import run_complete

# The rows travel as one JSON array of arrays: json.dumps (C) and the server's JSON parser are several times
# cheaper than adapting five Python lists to PostgreSQL arrays, which dominated the client's time per chunk.
_UPSERT_SQL = f"""
INSERT INTO {RunScore._meta.db_table} (run_id, example_id, scorer, score, passed, error)
SELECT %s, (r->>0)::bigint, r->>1, (r->>2)::float8, (r->>3)::bool, r->>4
FROM json_array_elements(%s::json) AS r
ON CONFLICT (run_id, example_id, scorer) DO UPDATE
SET score = EXCLUDED.score, passed = EXCLUDED.passed, error = EXCLUDED.error
"""

# Marks a chunk done at most once (a set, not a counter) and says how many are done: the row lock serialises
# concurrent chunks, and the one whose update completes the set sees it complete.
_MARK_SQL = f"""
UPDATE {Run._meta.db_table}
SET chunks_done = ARRAY(SELECT DISTINCT c FROM unnest(chunks_done || %s::integer) AS c ORDER BY c)
WHERE id = %s AND status = %s
RETURNING cardinality(chunks_done), cardinality(chunk_starts)
"""


def scorers_of(run: Run) -> list:
    scorers = []
    for config in run.scorers:
        scorer = scorer_build(config)
        if hasattr(scorer, "bind"):
            scorer.bind(run_id=run.pk, secret=run.judge_secret)
        scorers.append(scorer)
    return scorers


def run_score_chunk(*, run_id: int, chunk: int) -> bool:
    """Score one chunk; True when it was the last one (and the summary was enqueued)."""
    from evaluation.tasks import finish_run

    run = Run.objects.filter(pk=run_id).first()
    if run is None or run.status != Run.Status.SCORING or not 0 <= chunk < len(run.chunk_starts):
        return False
    scorers = scorers_of(run)
    rows = chunk_items(run=run, chunk=chunk, with_input=any(s.reads_input for s in scorers))
    present = [item for _, item in rows if item is not None]
    scores: list[tuple] = []
    for scorer in scorers:
        scored = iter(scorer.score_batch(present))
        for pk, item in rows:
            result = next(scored) if item is not None else Result(0.0, False, MISSING_OUTPUT)
            scores.append((pk, scorer.name, result.score, result.passed, result.error))
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(_UPSERT_SQL, [run.pk, json.dumps(scores)])
        cursor.execute(_MARK_SQL, [chunk, run.pk, Run.Status.SCORING])
        marked = cursor.fetchone()
        last = marked is not None and marked[0] == marked[1]
        if last:
            transaction.on_commit(lambda: finish_run.delay(run_id))
    return last


@transaction.atomic
def run_finish(*, run_id: int) -> Run | None:
    """Summarise, compare with the baseline, apply the gates, and feed regressions back; once per run."""
    run = Run.objects.select_for_update().filter(pk=run_id).first()
    if run is None or run.status != Run.Status.SCORING:
        return run
    if len(run.chunks_done) != len(run.chunk_starts):
        return run  # an early duplicate: the last chunk enqueues the summary again
    run.summary = run_summary(run=run)
    run.verdict = gates_verdict(run.gates, run.summary)
    run.status, run.finished_at = Run.Status.SUCCEEDED, timezone.now()
    run.save(update_fields=["summary", "verdict", "status", "finished_at"])
    if run.feed_regressions and run.baseline_id:
        regressions_feed(run=run)
    return run


def run_score_inline(*, run_id: int) -> Run | None:
    """Score every chunk and summarise in this process (the demo loader and tests; workers use the tasks)."""
    run = Run.objects.get(pk=run_id)
    if run.status == Run.Status.COLLECTING:
        run = run_complete(run=run, enqueue=False)
    for chunk in range(len(run.chunk_starts)):
        run_score_chunk(run_id=run_id, chunk=chunk)
    return run_finish(run_id=run_id)
