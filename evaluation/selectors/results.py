"""Per-example results of a run beside its baseline's, filtered, in the version's order (keyset by ordinal)."""

import json

from django.db import connection

from evaluation.models import Run, RunOutput, RunScore
from examples_lib.models import VersionExample

FILTERS = ("all", "regressed", "improved", "failed")

_CONDITIONS = {
    "all": "true",
    "failed": "EXISTS (SELECT 1 FROM {scores} s WHERE s.run_id = %(run)s AND s.example_id = ve.id AND NOT s.passed)",
    "regressed": """EXISTS (SELECT 1 FROM {scores} s JOIN {scores} b ON b.run_id = %(baseline)s
                    AND b.example_id = be.id AND b.scorer = s.scorer
                    WHERE s.run_id = %(run)s AND s.example_id = ve.id AND b.passed AND NOT s.passed)""",
    "improved": """EXISTS (SELECT 1 FROM {scores} s JOIN {scores} b ON b.run_id = %(baseline)s
                   AND b.example_id = be.id AND b.scorer = s.scorer
                   WHERE s.run_id = %(run)s AND s.example_id = ve.id AND s.passed AND NOT b.passed)""",
}


def run_results(
    *,
    run: Run,
    filter: str = "all",
    after: int = 0,
    limit: int = 50,
    regressions_first: bool = False,
    offset: int = 0,
) -> list[dict]:
    """One page of examples: input, expected, output, each scorer's result and the baseline's; at most `limit`.

    `after` is the last ordinal of the previous page (the API's cursor); the admin pages by `offset` instead, with
    regressions first."""
    scores, examples, outputs = RunScore._meta.db_table, VersionExample._meta.db_table, RunOutput._meta.db_table
    baseline_version = None
    if run.baseline_id:
        baseline_version = Run.objects.only("version_id").get(pk=run.baseline_id).version_id
    params = {
        "run": run.pk,
        "version": run.version_id,
        "split": run.split,
        "after": after,
        "baseline": run.baseline_id or 0,
        "baseline_version": baseline_version or 0,
        "limit": limit,
        "offset": offset,
    }
    condition = _CONDITIONS[filter].format(scores=scores)
    regressed = _CONDITIONS["regressed"].format(scores=scores)
    order = f"({regressed}) DESC, ve.ordinal" if regressions_first else "ve.ordinal"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT ve.ordinal, ve.stable_id, ve.split, ve.input::text, ve.expected_output::text,
                   o.output::text, o.latency_ms,
                   (SELECT jsonb_object_agg(s.scorer, jsonb_build_object(
                        'score', s.score, 'passed', s.passed, 'error', s.error))::text
                    FROM {scores} s WHERE s.run_id = %(run)s AND s.example_id = ve.id),
                   (SELECT jsonb_object_agg(b.scorer, jsonb_build_object(
                        'score', b.score, 'passed', b.passed, 'error', b.error))::text
                    FROM {scores} b WHERE b.run_id = %(baseline)s AND b.example_id = be.id)
            FROM {examples} ve
            LEFT JOIN {outputs} o ON o.run_id = %(run)s AND o.example_id = ve.id
            LEFT JOIN LATERAL (
                SELECT x.id FROM {examples} x
                WHERE x.version_id = %(baseline_version)s AND x.stable_id = ve.stable_id
            ) be ON true
            WHERE ve.version_id = %(version)s AND (%(split)s = '' OR ve.split = %(split)s)
              AND ve.ordinal > %(after)s AND {condition}
            ORDER BY {order}
            LIMIT %(limit)s OFFSET %(offset)s
            """,
            params,
        )
        rows = cursor.fetchall()
    results = []
    for ordinal, stable_id, split, input_, expected, output, latency, own, base in rows:
        own, base = json.loads(own or "{}"), json.loads(base or "{}") if run.baseline_id else None
        results.append(
            {
                "ordinal": ordinal,
                "example_id": stable_id,
                "split": split,
                "input": json.loads(input_),
                "expected": json.loads(expected),
                "output": None if output is None else json.loads(output),
                "missing": output is None,
                "latency_ms": latency,
                "scores": own,
                "baseline": base,
                "regressed": _changed(own, base, was=True),
                "improved": _changed(own, base, was=False),
            }
        )
    return results


def _changed(own: dict, base: dict | None, *, was: bool) -> list[str]:
    """Scorers that passed in the baseline and fail now (was=True), or the reverse."""
    if not base:
        return []
    return sorted(k for k, v in own.items() if k in base and base[k]["passed"] is was and v["passed"] is not was)
