"""Golden datasets benchmark: freeze a 100,000-example draft, export 1,000,000 frozen rows.

    .venv/bin/python bench/golden.py [--freeze-rows 100000] [--export-rows 1000000]

Runs on its own database (goldloop_bench_golden on the embedded server, or BENCH_DATABASE_URL), migrated on first
use; rows are made with INSERT ... SELECT generate_series, and the 1M-row version is kept between runs.
Targets: freeze <= 5 s; JSONL export >= 100,000 rows/s with peak memory <= 300 MB.
"""

import argparse
import hashlib
import os
import resource
import tempfile
import time
import tracemalloc
from pathlib import Path

from _common import django_setup, generated_version

BENCH_DB = "goldloop_bench_golden"


# Realistic-sized rows: chat input, a corrected answer, metadata and a lineage snapshot (~600 bytes of JSONL).
EXAMPLE_COLUMNS_SQL = """
    jsonb_build_array(jsonb_build_object('role', 'user', 'content',
        'Can I get a refund for order ' || i || ' placed ' || (i %% 90) || ' days ago?')),
    to_jsonb('Refunds take 14 days; order ' || i || ' qualifies if it was unused.'),
    jsonb_build_object('locale', 'en', 'channel', 'chat'),
    (ARRAY['train','train','train','train','train','train','train','train','validation','test'])[1 + i %% 10],
    jsonb_build_object('source', 'interaction', 'interaction_id', 'chat-' || i, 'interaction_pk', i,
        'feedback_ids', jsonb_build_array('fb-' || i), 'review_id', i, 'reviewer', 'sme-jane',
        'verdict', 'corrected', 'error_category', 'wrong_policy', 'cluster', 'refund window',
        'model', 'gpt-4o-mini', 'prompt_version', 'refunds-v3', 'original_output', 'Refunds take 30 days.')
"""


def fill_draft(dataset, rows: int) -> None:
    from django.db import connection

    from examples_lib.models import Example

    Example.objects.filter(dataset=dataset).delete()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            INSERT INTO {Example._meta.db_table}
                (dataset_id, stable_id, input, expected_output, metadata, split, lineage, content_hash,
                 created_at, updated_at)
            SELECT %s, md5('ex' || i), {EXAMPLE_COLUMNS_SQL}, md5('c' || i) || md5('h' || i), now(), now()
            FROM generate_series(1, %s) AS i
            """,
            [dataset.pk, rows],
        )


def big_version(dataset, rows: int):
    """A version of `rows` frozen rows, inserted directly (freezing 1M through a draft is not what is measured)."""
    return generated_version(dataset, rows, f"md5('ex' || i), {EXAMPLE_COLUMNS_SQL}", vacuum=True)


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def backend_cpu_seconds() -> float:
    """CPU time of this connection's PostgreSQL backend (the server runs here: /proc), 0 when unreadable."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def export_once(version, fmt: str, *, trace: bool = False) -> tuple[float, int, str, float, float]:
    from examples_lib.exports import export_stream

    rows = 0

    def count(n: int) -> None:
        nonlocal rows
        rows += n

    digest = hashlib.sha256()
    if trace:
        tracemalloc.start()
    started, cpu_started, backend_started = time.perf_counter(), cpu_seconds(), backend_cpu_seconds()
    with tempfile.TemporaryFile() as sink:
        for chunk in export_stream(version_id=version.pk, fmt=fmt, on_rows=count):
            digest.update(chunk)
            sink.write(chunk)
        size = sink.tell()
    elapsed, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    cpu += backend_cpu_seconds() - backend_started
    peak = tracemalloc.get_traced_memory()[1] / 2**20 if trace else 0.0
    if trace:
        tracemalloc.stop()
    return elapsed, rows, digest.hexdigest(), peak if trace else size / 2**20, cpu


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--freeze-rows", type=int, default=100_000)
    parser.add_argument("--export-rows", type=int, default=1_000_000)
    parser.add_argument("--formats", default="jsonl,openai-chat,csv,parquet")
    args = parser.parse_args()
    django_setup(BENCH_DB)

    from examples_lib.models import Dataset
    from examples_lib.services.datasets import dataset_delete
    from examples_lib.services.versions import version_create
    from feedback.services.projects import project_get_or_create

    project = project_get_or_create(slug="bench", name="Bench")
    print(f"RSS after start-up {rss_mb():.0f} MB")
    print(f"cpu count {os.cpu_count()}; load average {os.getloadavg()[0]:.2f} (figures are noisy under load)")

    # Freeze: a fresh dataset per run, so the draft is never "unchanged"; the last run's goes through the one
    # service allowed to delete frozen rows.
    old = Dataset.objects.filter(project=project, name="bench-freeze").first()
    if old is not None:
        started = time.perf_counter()
        dataset_delete(dataset=old)
        print(f"deleted the previous run's dataset (with its frozen version) in {time.perf_counter() - started:.2f} s")
    freeze_ds = Dataset.objects.create(project=project, name="bench-freeze")
    fill_draft(freeze_ds, args.freeze_rows)
    started, cpu_started, backend_started = time.perf_counter(), cpu_seconds(), backend_cpu_seconds()
    version = version_create(dataset=freeze_ds, note="bench")
    freeze_s = time.perf_counter() - started
    freeze_cpu = cpu_seconds() - cpu_started + backend_cpu_seconds() - backend_started
    print(
        f"freeze {args.freeze_rows:,} examples: {freeze_s:.2f} s (target <= 5 s; {freeze_cpu:.2f} s of CPU in Python "
        f"and its PostgreSQL backend) -> v{version.number}, sha256 {version.sha256[:12]}…, counts {version.counts}"
    )

    export_ds, _ = Dataset.objects.get_or_create(project=project, name="bench-export")
    started = time.perf_counter()
    big = big_version(export_ds, args.export_rows)
    print(f"prepared a {big.example_count:,}-row version in {time.perf_counter() - started:.1f} s")

    rss_before = rss_mb()
    elapsed, rows, sha, size_mb, cpu = export_once(big, "jsonl")
    print(
        f"export jsonl {rows:,} rows: {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s (target >= 100,000), "
        f"{size_mb:.0f} MB; {cpu:.2f} s of CPU in Python and its PostgreSQL backend together "
        f"({rows / cpu:,.0f} rows per CPU second; the rest of the wall time is waiting for a core)"
    )
    print(
        f"  peak RSS of the process {rss_mb():.0f} MB (was {rss_before:.0f} MB before the export; target <= 300 MB); "
        f"hash {'matches' if sha == big.sha256 else 'DOES NOT MATCH'} the manifest"
    )
    traced = export_once(big, "jsonl", trace=True)[3]
    print(f"export jsonl, tracemalloc peak of Python allocations: {traced:.1f} MB")
    for fmt in [f for f in args.formats.split(",") if f != "jsonl"]:
        elapsed, rows, _, size_mb, cpu = export_once(big, fmt)
        print(
            f"export {fmt} {rows:,} rows: {elapsed:.2f} s = {rows / elapsed:,.0f} rows/s, {size_mb:.0f} MB, "
            f"{cpu:.1f} s CPU (Python + backend); peak RSS {rss_mb():.0f} MB"
        )
    print("for comparison: Arize Phoenix exported 5,000 examples as JSONL in about 1 s here (~5,000 rows/s)")


if __name__ == "__main__":
    main()
