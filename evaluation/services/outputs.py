"""A run's outputs (API.md, Evaluate): batches of items, one result each, one set-based INSERT per batch.

Like capture (feedback/services/capture.py): every item is cleaned in plain Python, the batch is written by one
INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING, and the stored hash of an example that already had an
output tells a retry (200) from a different output (409). The same statement finds which example ids are not in
the pinned version (404) or not in the run's split.
"""

import hashlib
import json
import math
from dataclasses import dataclass
from typing import Any

import psycopg
from django.db import connection

from core.errors import ApplicationError
from evaluation.models import Run, RunOutput
from examples_lib.models import VersionExample
from feedback.services.capture_items import encodable


@dataclass(slots=True)
class OutputRow:
    example_id: str
    output: str  # JSON text
    output_hash: str
    latency_ms: int | None
    metadata: str  # JSON text


def _error(code: str, message: str, fields: dict | None = None) -> dict:
    return {"code": code, "message": message, "fields": fields or {}}


def _dump(value: Any, field: str, errors: dict) -> str:
    text = json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
    if "\\u0000" in text:
        errors.setdefault(field, []).append("NUL characters (\\u0000) are not allowed.")
    elif not encodable(text):
        errors.setdefault(field, []).append("Contains an unpaired UTF-16 surrogate.")
    return text


def output_clean(item: Any) -> OutputRow | dict:
    """A row, or the field errors of an invalid item."""
    if not isinstance(item, dict):
        return {"non_field_errors": ["Each output must be a JSON object."]}
    errors: dict[str, list[str]] = {}
    example_id = item.get("example_id")
    if not isinstance(example_id, str) or not example_id or len(example_id) > 255 or not encodable(example_id):
        errors["example_id"] = ["Required: the example's id (the `id` of the version's JSONL export)."]
    if item.get("output") is None:
        errors["output"] = ["Required: the candidate's output, a string or JSON."]
    output = _dump(item.get("output"), "output", errors)
    latency = item.get("latency_ms")
    if latency is not None:
        if isinstance(latency, bool) or not isinstance(latency, int | float) or not math.isfinite(latency):
            errors["latency_ms"] = ["Must be a number of milliseconds."]
        elif not 0 <= latency < 2**31:
            errors["latency_ms"] = ["Must be between 0 and 2147483647."]
        else:
            latency = round(latency)
    metadata = item.get("metadata") if item.get("metadata") is not None else {}
    if not isinstance(metadata, dict):
        errors["metadata"] = ["Must be a JSON object."]
    metadata_text = _dump(metadata, "metadata", errors)
    unknown = sorted(set(item) - {"example_id", "output", "latency_ms", "metadata"})
    if unknown:
        errors["non_field_errors"] = [f"Unknown field(s): {', '.join(unknown)}."]
    if errors:
        return errors
    digest = hashlib.sha256(f"{output}\x1f{latency}\x1f{metadata_text}".encode()).hexdigest()
    return OutputRow(example_id, output, digest, latency, metadata_text)


_INSERT_SQL = f"""
WITH t AS (
    SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::int[], %s::text[])
        AS t(stable_id, output, output_hash, latency_ms, metadata)
),
ex AS (
    SELECT ve.id, ve.stable_id, ve.split FROM {VersionExample._meta.db_table} ve
    WHERE ve.version_id = %s AND ve.stable_id = ANY(%s::text[])
),
ins AS (
    INSERT INTO {RunOutput._meta.db_table} (run_id, example_id, output, output_hash, latency_ms, metadata, created_at)
    SELECT %s, ex.id, t.output::jsonb, t.output_hash, t.latency_ms, t.metadata::jsonb, now()
    FROM t JOIN ex ON ex.stable_id = t.stable_id
    WHERE %s = '' OR ex.split = %s
    ORDER BY ex.id
    ON CONFLICT (run_id, example_id) DO NOTHING
    RETURNING example_id
)
SELECT ex.stable_id, ex.split, ins.example_id IS NOT NULL, o.output_hash
FROM ex
LEFT JOIN ins ON ins.example_id = ex.id
LEFT JOIN {RunOutput._meta.db_table} o ON o.run_id = %s AND o.example_id = ex.id
"""


def _execute(params: list) -> list[tuple]:
    """A server-side prepared statement on Django's connection: planned once per connection, not per batch."""
    connection.ensure_connection()
    with psycopg.Cursor(connection.connection) as cursor:
        cursor.execute(_INSERT_SQL, params, prepare=True)
        return cursor.fetchall()


def outputs_add(*, run: Run, items: list[Any]) -> list[dict]:
    """Record a batch of outputs; one result per item, in order. A bad item never stops the others."""
    if run.status != Run.Status.COLLECTING:
        raise ApplicationError(
            f"Run {run.pk} is {run.status}: it no longer takes outputs. Create a new run.",
            code="run_not_collecting",
            status_code=409,
        )
    results: list[dict | None] = []
    rows: dict[str, OutputRow] = {}  # the first occurrence of each example id is the one written
    positions: list[tuple[int, OutputRow]] = []
    for item in items:
        row = output_clean(item)
        if isinstance(row, dict):
            example_id = item.get("example_id") if isinstance(item, dict) else None
            result = {"status": 400, "error": _error("invalid", "The output is invalid; see fields.", row)}
            if isinstance(example_id, str) and len(example_id) <= 255 and encodable(example_id):
                result["example_id"] = example_id
            results.append(result)
            continue
        rows.setdefault(row.example_id, row)
        positions.append((len(results), row))
        results.append(None)
    if rows:
        written = list(rows.values())
        params = [
            [r.example_id for r in written],
            [r.output for r in written],
            [r.output_hash for r in written],
            [r.latency_ms for r in written],
            [r.metadata for r in written],
            run.version_id,
            [r.example_id for r in written],
            run.pk,
            run.split,
            run.split,
            run.pk,
        ]
        found = {stable_id: (split, inserted, stored) for stable_id, split, inserted, stored in _execute(params)}
        winners = {
            stable_id: rows[stable_id].output_hash if inserted else stored
            for stable_id, (_, inserted, stored) in found.items()
        }
        raced = [stable_id for stable_id, winner in winners.items() if winner is None]
        if raced:
            winners.update(_stored_hashes(run, raced))
        seen: set[str] = set()
        for position, row in positions:
            eid = row.example_id
            results[position] = _result(run, row, found.get(eid), first=eid not in seen, winner_hash=winners.get(eid))
            seen.add(eid)
    return results  # type: ignore[return-value]


def _result(run: Run, row: OutputRow, found, *, first: bool, winner_hash: str | None) -> dict:
    example_id = row.example_id
    if found is None:
        return {
            "status": 404,
            "example_id": example_id,
            "error": _error(
                "example_not_found",
                f"Version {run.version_number} of '{run.dataset.name}' has no example '{example_id}'.",
                {"example_id": ["not in the run's version"]},
            ),
        }
    split, inserted, _ = found
    if run.split and split != run.split:
        return {
            "status": 404,
            "example_id": example_id,
            "error": _error(
                "example_not_in_split",
                f"Example '{example_id}' is in the {split} split; this run evaluates the {run.split} split.",
                {"example_id": [f"not in the {run.split} split"]},
            ),
        }
    if inserted and first:
        return {"status": 201, "example_id": example_id}
    if row.output_hash == winner_hash:
        return {"status": 200, "example_id": example_id}
    return {
        "status": 409,
        "example_id": example_id,
        "error": _error(
            "conflict",
            f"Example '{example_id}' already has a different output in this run; create a new run to change it.",
            {"output": ["differs from the output already posted"]},
        ),
    }


def _stored_hashes(run: Run, example_ids: list[str]) -> dict[str, str]:
    """Hashes written by a concurrent batch after our statement's snapshot was taken (a rare race)."""
    rows = RunOutput.objects.filter(run=run, example__stable_id__in=example_ids).values_list(
        "example__stable_id", "output_hash"
    )
    return dict(rows)
