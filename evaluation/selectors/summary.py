"""A run's summary and its comparison with the baseline: SQL aggregates, two queries whatever the run's size.

Examples are paired with the baseline's by their stable id, so a baseline on another version of the dataset is
compared on the examples both versions hold (on the same version the pairing is by row, which is cheaper).
"""

from django.db import connection

from evaluation.models import Run, RunScore
from evaluation.statistics import mcnemar, wilcoxon, wilson
from examples_lib.models import VersionExample

SCORES, EXAMPLES = RunScore._meta.db_table, VersionExample._meta.db_table


def _baseline_join(same_version: bool) -> str:
    """The baseline's score of the same example and scorer, and the pairing key of the example."""
    if same_version:
        return f"""
            LEFT JOIN {SCORES} b ON b.run_id = %(baseline)s AND b.example_id = c.example_id AND b.scorer = c.scorer
            CROSS JOIN LATERAL (SELECT c.example_id::text AS key) k
        """
    return f"""
        JOIN {EXAMPLES} ce ON ce.id = c.example_id
        LEFT JOIN {EXAMPLES} be ON be.version_id = %(baseline_version)s AND be.stable_id = ce.stable_id
        LEFT JOIN {SCORES} b ON b.run_id = %(baseline)s AND b.example_id = be.id AND b.scorer = c.scorer
        CROSS JOIN LATERAL (SELECT ce.stable_id AS key) k
    """


def run_summary(*, run: Run) -> dict:
    """{"scorers": {name: {n, mean, pass_rate, passed, errors, ci95, baseline?}}, "regressions": <examples>}

    One pass over the run's scores, each joined with the baseline's score of the same example and scorer: the
    run's own figures over every row, the comparison over the rows the baseline also scored."""
    params = {"run": run.pk, "baseline": run.baseline_id, "baseline_version": None}
    join = ""
    if run.baseline_id:
        baseline = Run.objects.only("version_id").get(pk=run.baseline_id)
        params["baseline_version"] = baseline.version_id
        join = _baseline_join(baseline.version_id == run.version_id)
    else:
        join = f"LEFT JOIN {SCORES} b ON false CROSS JOIN LATERAL (SELECT NULL::text AS key) k"
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT c.scorer, count(*), avg(c.score), count(*) FILTER (WHERE c.passed),
                   count(*) FILTER (WHERE c.error <> '' AND NOT c.passed),
                   count(b.passed),
                   count(*) FILTER (WHERE b.passed AND NOT c.passed),
                   count(*) FILTER (WHERE c.passed AND NOT b.passed),
                   avg(c.passed::int) FILTER (WHERE b.passed IS NOT NULL) - avg(b.passed::int),
                   avg(c.score - b.score),
                   array_agg(c.score - b.score) FILTER (WHERE c.score <> b.score),
                   bool_and(c.score IN (0, 1) AND b.score IN (0, 1)) IS NOT FALSE,
                   avg(b.passed::int),
                   array_agg(k.key) FILTER (WHERE b.passed AND NOT c.passed)
            FROM {SCORES} c {join}
            WHERE c.run_id = %(run)s
            GROUP BY c.scorer
            """,
            params,
        )
        rows = cursor.fetchall()
    scorers, regressed = {}, set()
    order = {config["name"]: i for i, config in enumerate(run.scorers)}
    for name, n, mean, passed, errors, *paired in sorted(rows, key=lambda row: order.get(row[0], len(order))):
        entry = {
            "n": n,
            "mean": None if mean is None else round(float(mean), 6),
            "pass_rate": round(passed / n, 6) if n else None,
            "passed": passed,
            "errors": errors,
            "ci95": wilson(passed, n),
        }
        if run.baseline_id:
            entry["baseline"] = _comparison(run.baseline_id, paired[:-1])
            regressed.update(paired[-1] or [])
        scorers[name] = entry
    return {"scorers": scorers, "regressions": len(regressed)}


def _comparison(baseline_id: int, row) -> dict:
    n, regressions, improvements, delta, score_delta, differences, binary, baseline_rate = row
    if not n:
        return {"run": str(baseline_id), "n": 0, "delta": None, "p_value": None, "regressions": 0, "improvements": 0}
    comparison = {
        "run": str(baseline_id),
        "n": n,
        "pass_rate": round(float(baseline_rate), 6),
        "delta": round(float(delta), 6),
        "score_delta": None if score_delta is None else round(float(score_delta), 6),
        "p_value": mcnemar(regressions, improvements),
        "regressions": regressions,
        "improvements": improvements,
    }
    if not binary:
        comparison["score_p_value"] = wilcoxon([float(d) for d in differences or []])
    return comparison
