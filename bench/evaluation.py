"""Evaluation benchmark: posting outputs (beside capture's /api/v1/ingest, same server, same run), scoring with the
cheap scorers and with semantic similarity (beside the raw model on the same texts), and the summary + baseline
comparison of a 100,000-example run.

    .venv/bin/python bench/evaluation.py [--outputs 20000] [--score-examples 10000] [--semantic-examples 2000]
                                         [--summary-examples 100000]

Runs on the bench database `goldloop_bench` (the one bench/ingest.py uses; BENCH_DATABASE_URL for another),
starts its own gunicorn (config/gunicorn.py, as production) for the HTTP part and stops it by pid. Versions are
made with INSERT ... SELECT generate_series and kept between runs. Targets: outputs >= 10,000/s batched; cheap
scorers >= 20,000 examples/s of scorer work; semantic >= 90% of the raw model's speed; summary < 1 s.
"""

import argparse
import os
import random
import shutil
import tempfile
import time
import uuid

from _common import django_setup, generated_version
from _stack import log_path_for, production_env, serve, stop
from ingest import batches, cpu_line, interaction_items, loop_seconds, pct, post_phase

BENCH_DB = "goldloop_bench"
ANSWERS = [
    "Refunds take 14 days once the item is back.",
    "You can change the delivery address until the order ships.",
    "Card top-ups are instant; bank transfers take a day.",
    "We ship to the EU, the UK and Switzerland.",
]
ANSWERS_SQL = "ARRAY[" + ", ".join(f"'{a}'" for a in ANSWERS) + "]"
# Per example i: stable_id, input, expected_output, metadata, split, lineage.
EXAMPLE_COLUMNS_SQL = f"""
    'ex-' || i, to_jsonb('Question ' || i || ': can you help with my order?'),
    to_jsonb(({ANSWERS_SQL})[1 + i %% 4] || ' (case ' || i || ')'), '{{}}'::jsonb,
    (ARRAY['train','train','train','train','train','train','train','train','validation','test'])[1 + i %% 10],
    '{{}}'::jsonb
"""


def version_of(project, name: str, rows: int):
    """A frozen version of `rows` examples (kept between runs): input 'question i', expected one of ANSWERS + i."""
    from examples_lib.models import Dataset

    dataset, _ = Dataset.objects.get_or_create(project=project, name=name)
    return generated_version(dataset, rows, EXAMPLE_COLUMNS_SQL)


def output_for(i: int, *, wrong: bool) -> str:
    answer = ANSWERS[i % 4]
    return f"Sorry, I do not know (case {i})." if wrong else f"{answer} (case {i})"


def bench_http(project, key: str, version, count: int, clients: int) -> list[tuple[str, str]]:
    from evaluation.services.runs import run_create

    run = run_create(dataset=version.dataset, ref=str(version.number), name="bench outputs")
    items = [{"example_id": f"ex-{i}", "output": output_for(i, wrong=i % 7 == 0), "latency_ms": 800 + i % 300,
              "metadata": {"attempt": 1}} for i in range(1, count + 1)]  # fmt: skip
    name = f"evalbench-{uuid.uuid4().hex[:6]}"
    interactions = interaction_items(name, count)
    options = argparse.Namespace(workers=None, threads=None, worker_class=None)
    server, port = serve(production_env(), options, log_path_for(name))  # DATABASE_URL: django_setup's
    figures = []
    try:
        phases = (
            ("outputs, POST /api/v1/runs/{id}/outputs", f"/api/v1/runs/{run.pk}/outputs", batches("outputs", items)),
            ("interactions, POST /api/v1/ingest", "/api/v1/ingest", batches("interactions", interactions)),
        )
        for label, path, bodies in phases:
            elapsed, latencies, errors, cpu = post_phase(server, port, key, path, bodies, 207, clients)
            rate = count / elapsed
            figures.append((f"batched {label}", f"{rate:,.0f} /s"))
            print(
                f"batched {label}: {count:,} in {elapsed:.2f} s = {rate:,.0f} items/s (1,000 per request, "
                f"{clients} clients); p50 {pct(latencies, 0.5):.0f} ms, p99 {pct(latencies, 0.99):.0f} ms; "
                f"errors {errors}; {cpu_line(cpu, count, 'item')}",
                flush=True,
            )
    finally:
        stop(server)
        print(f"stopped gunicorn (pid {server.pid})")
    return figures


def fill_outputs(run, rows: int, wrong_every: int) -> None:
    from django.db import connection

    from evaluation.models import RunOutput
    from examples_lib.models import VersionExample

    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {RunOutput._meta.db_table} (run_id, example_id, output, output_hash, metadata, created_at)
            SELECT %s, ve.id,
                   to_jsonb(CASE WHEN ve.ordinal %% %s = 0 THEN 'Sorry, I do not know (case ' || ve.ordinal || ').'
                                 ELSE ({ANSWERS_SQL})[1 + ve.ordinal %% 4] || ' (case ' || ve.ordinal || ')' END),
                   md5(ve.id::text), '{{}}'::jsonb, now()
            FROM {VersionExample._meta.db_table} ve WHERE ve.version_id = %s AND ve.ordinal <= %s
            """,
            [run.pk, wrong_every, run.version_id, rows],
        )


def scored_run(version, scorers: list[dict], rows: int):
    """A completed run (chunks planned, tasks left in a throwaway broker) with outputs for every example."""
    from evaluation.services.runs import run_complete, run_create

    run = run_create(dataset=version.dataset, ref=str(version.number), name="bench scoring", scorers=scorers)
    fill_outputs(run, rows, wrong_every=7)
    return run_complete(run=run)


def score_all(run) -> float:
    from evaluation.services.scoring import run_score_chunk

    started = time.perf_counter()
    for chunk in range(len(run.chunk_starts)):
        run_score_chunk(run_id=run.pk, chunk=chunk)
    return time.perf_counter() - started


def bench_scoring(project, examples: int, semantic_examples: int) -> list[tuple[str, str]]:
    from core.embedder import embed_texts
    from evaluation.selectors.scoring import chunk_items

    version = version_of(project, f"bench-eval-{examples}", examples)
    cheap = [{"kind": "exact"}, {"kind": "contains", "value": "case"}, {"kind": "regex", "pattern": r"\(case \d+\)"},
             {"kind": "json_valid"}, {"kind": "numeric", "tolerance": 0.5}]  # fmt: skip
    run = scored_run(version, cheap, examples)
    elapsed = min(score_all(run) for _ in range(3))  # the first inserts, the next two upsert the same rows
    work = examples * len(cheap)
    # The scorers alone, on the same items read beforehand: what a faster database would leave.
    from evaluation.services.scoring import scorers_of

    chunks = [[item for _, item in chunk_items(run=run, chunk=c, with_input=False) if item is not None]
              for c in range(len(run.chunk_starts))]  # fmt: skip
    scorers = scorers_of(run)
    alone = float("inf")
    for _ in range(3):
        started = time.perf_counter()
        for items in chunks:
            for scorer in scorers:
                scorer.score_batch([type(i)(i.example_id, None, i.expected, i.output) for i in items])
        alone = min(alone, time.perf_counter() - started)
    print(
        f"cheap scorers ({', '.join(c['kind'] for c in cheap)}) on {examples:,} examples in "
        f"{len(run.chunk_starts)} chunks, best of 3: end to end (read, score, upsert, commit) {elapsed:.2f} s = "
        f"{work / elapsed:,.0f} examples/s of scorer work ({examples / elapsed:,.0f} examples/s with all "
        f"{len(cheap)}); the scorers alone {alone:.2f} s = {work / alone:,.0f} examples/s of scorer work",
        flush=True,
    )
    figures = [
        ("cheap scorers, examples/s of scorer work, end to end", f"{work / elapsed:,.0f} /s"),
        ("cheap scorers, examples/s of scorer work, scorers alone", f"{work / alone:,.0f} /s"),
    ]

    small = version_of(project, f"bench-eval-{semantic_examples}", semantic_examples)
    semantic_run = scored_run(small, [{"kind": "semantic", "threshold": 0.85}], semantic_examples)
    items = [item for chunk in range(len(semantic_run.chunk_starts)) for _, item in
             chunk_items(run=semantic_run, chunk=chunk)]  # fmt: skip
    texts = list(dict.fromkeys([i.output_text for i in items] + [i.expected_text for i in items]))
    embed_texts(texts[:64])  # load and warm the model
    raw, scorer = [], []
    for _ in range(2):  # re-scoring the same run is allowed (scores are upserted): the same work each time
        started = time.perf_counter()
        embed_texts(texts)
        raw.append(time.perf_counter() - started)
        scorer.append(score_all(semantic_run))
    best_raw, best_scorer = min(raw), min(scorer)
    print(
        f"semantic on {semantic_examples:,} examples ({len(texts):,} distinct texts): raw model {best_raw:.2f} s "
        f"({len(texts) / best_raw:,.0f} texts/s), scorer end to end {best_scorer:.2f} s "
        f"({semantic_examples / best_scorer:,.0f} examples/s) = {best_raw / best_scorer:.0%} of the raw model's speed "
        f"(best of 2 each; target >= 90%)",
        flush=True,
    )
    figures.append(("semantic scorer, share of the raw model's speed", f"{best_raw / best_scorer:.0%}"))
    return figures


def bench_summary(project, examples: int) -> list[tuple[str, str]]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from evaluation.gates import gates_verdict
    from evaluation.models import Run, RunScore
    from evaluation.selectors.results import run_results
    from evaluation.selectors.summary import run_summary
    from evaluation.services.runs import run_create

    version = version_of(project, f"bench-eval-{examples}", examples)
    runs = []
    for name, wrong in (("bench summary baseline (random)", 0.10), ("bench summary candidate (random)", 0.12)):
        run = Run.objects.filter(dataset=version.dataset, version=version, name=name, status="succeeded").first()
        if run is None:
            baseline = runs[0] if runs else None
            run = run_create(dataset=version.dataset, ref=str(version.number), name=name,
                             scorers=[{"kind": "exact"}, {"kind": "semantic"}],
                             baseline=str(baseline.pk) if baseline else None)  # fmt: skip
            with connection.cursor() as cursor:
                cursor.execute(
                    f"""
                    INSERT INTO {RunScore._meta.db_table} (run_id, example_id, scorer, score, passed, error)
                    SELECT %s, x.id, x.scorer, CASE WHEN x.scorer = 'exact' THEN (x.r > %s)::int ELSE x.r END,
                           x.r > %s, ''
                    FROM (
                        SELECT ve.id, s.scorer, random() AS r
                        FROM {version.examples.model._meta.db_table} ve
                        CROSS JOIN (VALUES ('exact'), ('semantic')) AS s(scorer)
                        WHERE ve.version_id = %s
                    ) x
                    """,
                    [run.pk, wrong, wrong, version.pk],
                )
                cursor.execute(f"ANALYZE {RunScore._meta.db_table}")
            Run.objects.filter(pk=run.pk).update(status="succeeded")
            run.status = "succeeded"
        runs.append(run)
    candidate = runs[1]
    gates = [
        {"scorer": "exact", "max_drop": 0.02},
        {"max_regressions": 100},
        {"scorer": "semantic", "min_pass_rate": 0.9},
    ]
    timings = []
    for _ in range(3):
        with CaptureQueriesContext(connection) as queries:
            started = time.perf_counter()
            summary = run_summary(run=candidate)
            verdict = gates_verdict(gates, summary)
            timings.append(time.perf_counter() - started)
    exact = summary["scorers"]["exact"]
    print(
        f"summary + baseline comparison of a {examples:,}-example run (2 scorers, {2 * examples:,} scores per run): "
        f"{min(timings) * 1000:.0f} ms best of 3 (runs: {', '.join(f'{t * 1000:.0f}' for t in timings)} ms), "
        f"{len(queries)} queries; exact pass rate {exact['pass_rate']:.3f} vs {exact['baseline']['pass_rate']:.3f}, "
        f"{exact['baseline']['regressions']:,} regressions, p = {exact['baseline']['p_value']:.2g}; "
        f"verdict {verdict['result']} (target < 1 s)",
        flush=True,
    )
    started = time.perf_counter()
    page = run_results(run=candidate, filter="regressed", limit=50)
    print(f"first page of regressed examples (50 of them): {(time.perf_counter() - started) * 1000:.0f} ms")
    assert len(page) == 50
    return [(f"summary + comparison, {examples:,} examples", f"{min(timings) * 1000:.0f} ms")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--outputs", type=int, default=20_000)
    parser.add_argument("--clients", type=int, default=3)
    parser.add_argument("--score-examples", type=int, default=10_000)
    parser.add_argument("--semantic-examples", type=int, default=500)
    parser.add_argument("--summary-examples", type=int, default=100_000)
    parser.add_argument("--skip-http", action="store_true")
    options = parser.parse_args()
    broker = tempfile.mkdtemp(prefix="goldloop-evalbench-broker-")
    os.environ["CELERY_FILESYSTEM_BROKER_DIR"] = broker  # tasks that runs enqueue land here, never in a dev queue
    try:
        django_setup(BENCH_DB)
        from feedback.services.api_keys import api_key_create
        from feedback.services.projects import project_get_or_create

        random.seed(7)
        project = project_get_or_create(slug="bench-evaluation", name="Bench evaluation")
        _, key = api_key_create(project=project, scopes=["ingest", "read", "curate"])
        figures = []
        if not options.skip_http:
            version = version_of(project, f"bench-eval-{options.outputs}", options.outputs)
            figures += bench_http(project, key, version, options.outputs, options.clients)
        figures += bench_scoring(project, options.score_examples, options.semantic_examples)
        figures += bench_summary(project, options.summary_examples)
        print("\nfigure                                                          value")
        for name, value in figures:
            print(f"{name:<63} {value}")
        print(
            f"\n{os.cpu_count()} CPUs shared by server, PostgreSQL and the load generator; load average "
            f"{os.getloadavg()[0]:.2f}; a 10M-iteration Python loop takes {loop_seconds():.2f} s."
        )
    finally:
        shutil.rmtree(broker, ignore_errors=True)


if __name__ == "__main__":
    main()
