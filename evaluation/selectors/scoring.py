import json

from django.db import connection

from evaluation.models import Run, RunOutput, RunScore
from evaluation.scorers import Item
from examples_lib.models import VersionExample


def chunk_items(*, run: Run, chunk: int, with_input: bool = True) -> list[tuple[int, Item | None]]:
    """The examples of one chunk with their outputs: (example pk, Item, or None when the output is missing).
    Without `with_input` the items' input is None (most scorers never read it; decoding it is a third of the work)."""
    starts = run.chunk_starts
    upper = starts[chunk + 1] if chunk + 1 < len(starts) else None
    where = ["ve.version_id = %s", "ve.ordinal >= %s"]
    params: list = [run.pk, run.version_id, starts[chunk]]
    if upper is not None:
        where.append("ve.ordinal < %s")
        params.append(upper)
    if run.split:
        where.append("ve.split = %s")
        params.append(run.split)
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT ve.id, ve.stable_id, {"ve.input::text" if with_input else "NULL"}, ve.expected_output::text,
                   o.output::text, o.id IS NOT NULL
            FROM {VersionExample._meta.db_table} ve
            LEFT JOIN {RunOutput._meta.db_table} o ON o.run_id = %s AND o.example_id = ve.id
            WHERE {" AND ".join(where)}
            ORDER BY ve.ordinal
            """,
            [params[0], *params[1:]],
        )
        rows = cursor.fetchall()
    items = []
    for pk, stable_id, input_, expected, output, present in rows:
        # Raw cursors hand jsonb over as text (Django's JSONField decodes it; here we do).
        if not present:
            items.append((pk, None))
            continue
        item = Item(stable_id, json.loads(input_) if with_input else None, json.loads(expected), json.loads(output))
        items.append((pk, item))
    return items


def regressed_pairs(*, run: Run) -> list[tuple[str, str, object, object, object, bool]]:
    """(stable id, scorer, input, expected, output or None, output present) of every example that passed in the
    baseline and fails in the run, by example then scorer."""
    if not run.baseline_id:
        return []
    baseline = Run.objects.only("version_id").get(pk=run.baseline_id)
    scores, examples, outputs = RunScore._meta.db_table, VersionExample._meta.db_table, RunOutput._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT ce.stable_id, c.scorer, ce.input::text, ce.expected_output::text, o.output::text, o.id IS NOT NULL
            FROM {scores} c
            JOIN {examples} ce ON ce.id = c.example_id
            JOIN {examples} be ON be.version_id = %s AND be.stable_id = ce.stable_id
            JOIN {scores} b ON b.run_id = %s AND b.example_id = be.id AND b.scorer = c.scorer
            LEFT JOIN {outputs} o ON o.run_id = c.run_id AND o.example_id = c.example_id
            WHERE c.run_id = %s AND b.passed AND NOT c.passed
            ORDER BY ce.ordinal, c.scorer
            """,
            [baseline.version_id, run.baseline_id, run.pk],
        )
        rows = cursor.fetchall()
    return [
        (stable_id, scorer, json.loads(input_), json.loads(expected), json.loads(output) if present else None, present)
        for stable_id, scorer, input_, expected, output, present in rows
    ]
