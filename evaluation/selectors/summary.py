"""A run's summary and its comparison with the baseline: SQL aggregates, three queries whatever the run's size.

Examples are paired with the baseline's by their stable id, so a baseline on another version of the dataset is
compared on the examples both versions hold (on the same version the pairing is by row, which is cheaper).
"""

from django.db import connection

from evaluation.models import Run, RunScore
from evaluation.statistics import mcnemar, wilcoxon, wilson
from examples_lib.models import VersionExample

SCORES, EXAMPLES = RunScore._meta.db_table, VersionExample._meta.db_table


def _pairs_sql(same_version: bool) -> str:
    """Rows (scorer, key, c_score, c_passed, b_score, b_passed) of the examples scored in both runs."""
    if same_version:
        return f"""
            SELECT c.scorer, c.example_id AS key, c.score AS c_score, c.passed AS c_passed,
                   b.score AS b_score, b.passed AS b_passed
            FROM {SCORES} c JOIN {SCORES} b
              ON b.run_id = %(baseline)s AND b.example_id = c.example_id AND b.scorer = c.scorer
            WHERE c.run_id = %(run)s
        """
    return f"""
        SELECT c.scorer, ce.stable_id AS key, c.score AS c_score, c.passed AS c_passed,
               b.score AS b_score, b.passed AS b_passed
        FROM {SCORES} c
        JOIN {EXAMPLES} ce ON ce.id = c.example_id
        JOIN {EXAMPLES} be ON be.version_id = %(baseline_version)s AND be.stable_id = ce.stable_id
        JOIN {SCORES} b ON b.run_id = %(baseline)s AND b.example_id = be.id AND b.scorer = c.scorer
        WHERE c.run_id = %(run)s
    """


def run_summary(*, run: Run) -> dict:
    """{"scorers": {name: {n, mean, pass_rate, passed, errors, ci95, baseline?}}, "regressions": <examples>}"""
    with connection.cursor() as cursor:
        cursor.execute(
            f"""
            SELECT scorer, count(*), avg(score), count(*) FILTER (WHERE passed),
                   count(*) FILTER (WHERE error <> '' AND NOT passed)
            FROM {SCORES} WHERE run_id = %s GROUP BY scorer
            """,
            [run.pk],
        )
        own = cursor.fetchall()
        paired, regressed_examples = {}, 0
        if run.baseline_id:
            baseline = Run.objects.only("version_id").get(pk=run.baseline_id)
            params = {"run": run.pk, "baseline": run.baseline_id, "baseline_version": baseline.version_id}
            pairs = _pairs_sql(baseline.version_id == run.version_id)
            cursor.execute(
                f"""
                WITH p AS MATERIALIZED ({pairs})
                SELECT scorer, count(*),
                       count(*) FILTER (WHERE b_passed AND NOT c_passed),
                       count(*) FILTER (WHERE c_passed AND NOT b_passed),
                       avg(c_passed::int) - avg(b_passed::int),
                       avg(c_score - b_score),
                       array_agg(c_score - b_score) FILTER (WHERE c_score <> b_score),
                       bool_and(c_score IN (0, 1) AND b_score IN (0, 1)) IS NOT FALSE,
                       avg(b_passed::int)
                FROM p GROUP BY scorer
                UNION ALL
                SELECT NULL, count(DISTINCT key), NULL, NULL, NULL, NULL, NULL, NULL, NULL
                FROM p WHERE b_passed AND NOT c_passed
                """,
                params,
            )
            for row in cursor.fetchall():
                if row[0] is None:
                    regressed_examples = row[1]
                else:
                    paired[row[0]] = row[1:]
    scorers = {}
    order = {config["name"]: i for i, config in enumerate(run.scorers)}
    for name, n, mean, passed, errors in sorted(own, key=lambda row: order.get(row[0], len(order))):
        entry = {
            "n": n,
            "mean": None if mean is None else round(float(mean), 6),
            "pass_rate": round(passed / n, 6) if n else None,
            "passed": passed,
            "errors": errors,
            "ci95": wilson(passed, n),
        }
        if run.baseline_id:
            entry["baseline"] = _comparison(run.baseline_id, paired.get(name))
        scorers[name] = entry
    return {"scorers": scorers, "regressions": regressed_examples}


def _comparison(baseline_id: int, row) -> dict:
    if row is None:
        return {"run": str(baseline_id), "n": 0, "delta": None, "p_value": None, "regressions": 0, "improvements": 0}
    n, regressions, improvements, delta, score_delta, differences, binary, baseline_rate = row
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
