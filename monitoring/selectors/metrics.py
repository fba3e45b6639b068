"""Feedback metrics per time bucket and group, and the before/after comparison.

Definitions (docs/monitoring.md):
- interactions: interactions whose `occurred_at` falls in the bucket.
- feedback / negative: feedback items received (`Feedback.created_at`) in the bucket; negative as decided at
  capture (`Feedback.is_negative`); grouped by the model and prompt version of their interaction.
- negative_rate = negative / feedback (null without feedback).
- mean_score = mean of the NUMERIC feedback values in the bucket (only those named `score` when given).
Buckets are UTC hours or days; a bucket is counted whole. Closed hours come from the rollups (services/rollups.py);
the hours after the project's rollup cursor are computed live from the base tables.
"""

import math
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from django.db import connection
from psycopg import sql
from scipy import stats

from feedback.models import Feedback, Interaction, Project
from monitoring.models import FeedbackRollup, RollupCursor

GROUPS = ("model", "prompt_version")
BUCKETS = {"hour": timedelta(hours=1), "day": timedelta(days=1)}
SIGNIFICANCE = 0.05

# The measures of one hour of one (model, prompt_version, score name), from the base tables: the rows that the
# rollups store (services/rollups.py inserts them) and that the hours after the rollup cursor are read as. NUMERIC
# feedback is counted on the row of its own name, everything else on the row whose name is '' (FeedbackRollup).
# Each branch aggregates first, so the outer GROUP BY only merges a few thousand rows.
_HOURLY_MEASURES = sql.SQL("""
SELECT bucket, model, prompt_version, name, sum(interactions) AS interactions, sum(feedback) AS feedback,
       sum(negative) AS negative, sum(score_count) AS score_count, sum(score_sum) AS score_sum,
       sum(score_sq_sum) AS score_sq_sum
FROM (
    SELECT date_trunc('hour', i.occurred_at, 'UTC') AS bucket, i.model, i.prompt_version, '' AS name,
           count(*) AS interactions, 0 AS feedback, 0 AS negative, 0 AS score_count,
           0.0::float8 AS score_sum, 0.0::float8 AS score_sq_sum
    FROM {interaction} i
    WHERE i.project_id = %(project)s AND i.occurred_at >= {lo} AND i.occurred_at < {hi} {interaction_hours}
    GROUP BY 1, 2, 3
    UNION ALL
    SELECT date_trunc('hour', f.created_at, 'UTC'), i.model, i.prompt_version,
           CASE WHEN f.data_type = 'NUMERIC' THEN f.name ELSE '' END,
           0, count(*), count(*) FILTER (WHERE f.is_negative),
           count(f.value_number) FILTER (WHERE f.data_type = 'NUMERIC'),
           coalesce(sum(f.value_number) FILTER (WHERE f.data_type = 'NUMERIC'), 0),
           coalesce(sum(f.value_number * f.value_number) FILTER (WHERE f.data_type = 'NUMERIC'), 0)
    FROM {feedback} f JOIN {interaction} i ON i.id = f.interaction_id
    WHERE f.project_id = %(project)s AND f.created_at >= {lo} AND f.created_at < {hi} {feedback_hours}
    GROUP BY 1, 2, 3, 4
) parts
GROUP BY bucket, model, prompt_version, name
""")
MEASURES = ("interactions", "feedback", "negative", "score_count", "score_sum", "score_sq_sum")


def hourly_measures_sql(*, lo: str, hi: str, only_hours: str | None = None) -> sql.Composed:
    """The hourly measures of the project `%(project)s` in [%(lo)s, %(hi)s) (the names of the parameters);
    `only_hours` names a parameter with a list of hours to keep."""

    def hours(column: str) -> sql.Composable:
        if only_hours is None:
            return sql.SQL("")
        return sql.SQL("AND date_trunc('hour', {}, 'UTC') = ANY({})").format(
            sql.SQL(column), sql.Placeholder(only_hours)
        )

    return _HOURLY_MEASURES.format(
        interaction=sql.Identifier(Interaction._meta.db_table),
        feedback=sql.Identifier(Feedback._meta.db_table),
        lo=sql.Placeholder(lo),
        hi=sql.Placeholder(hi),
        interaction_hours=hours("i.occurred_at"),
        feedback_hours=hours("f.created_at"),
    )


# Whole hours before the rollup cursor come from the rollups, later ones from the base tables: the same rows,
# summed by the keys asked for. Rollups are hour-aligned; Django runs PostgreSQL sessions in UTC, so date_trunc
# cuts UTC days. Buckets leave as ISO 8601 text: parsing thousands of timestamps only to format them again costs
# more.
_SERIES = sql.SQL("""
SELECT {keys} coalesce(sum(r.interactions), 0)::bigint, coalesce(sum(r.feedback), 0)::bigint,
       coalesce(sum(r.negative), 0)::bigint, coalesce(sum(r.score_count) {score}, 0)::bigint,
       coalesce(sum(r.score_sum) {score}, 0)::float8, coalesce(sum(r.score_sq_sum) {score}, 0)::float8
FROM (
    SELECT bucket_start AS bucket, model, prompt_version, name, {measures} FROM {rollup}
    WHERE project_id = %(project)s AND bucket_start >= %(lo)s AND bucket_start < %(mid)s
    UNION ALL
    {live}
) r
WHERE true {filters}
{group_by}
""")
_ISO_BUCKET = """to_char({}, 'YYYY-MM-DD"T"HH24:MI:SS"Z"')"""


@dataclass(frozen=True)
class Totals:
    interactions: int
    feedback: int
    negative: int
    score_count: int
    score_sum: float
    score_sq_sum: float

    @property
    def negative_rate(self) -> float | None:
        return self.negative / self.feedback if self.feedback else None

    @property
    def mean_score(self) -> float | None:
        return self.score_sum / self.score_count if self.score_count else None

    @property
    def score_std(self) -> float | None:
        """Sample standard deviation of the scores (n - 1)."""
        if self.score_count < 2:
            return None
        variance = (self.score_sq_sum - self.score_sum**2 / self.score_count) / (self.score_count - 1)
        return math.sqrt(max(variance, 0.0))

    def as_dict(self) -> dict:
        return {
            "interactions": self.interactions,
            "feedback": self.feedback,
            "negative": self.negative,
            "negative_rate": self.negative_rate,
            "score_count": self.score_count,
            "mean_score": self.mean_score,
        }


def bucket_floor(moment: datetime, bucket: str) -> datetime:
    moment = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return moment.replace(hour=0) if bucket == "day" else moment


def _aggregate(
    *,
    project: Project,
    lo: datetime,
    hi: datetime,
    bucket: str | None = None,
    group_by: str | None = None,
    filters: dict[str, str] | None = None,
    score: str | None = None,
) -> list[tuple]:
    """Rows of (bucket?, group?, interactions, feedback, negative, score_count, score_sum, score_sq_sum)."""
    state = RollupCursor.objects.filter(project=project).values_list("covered_until", flat=True).first()
    # Rollups cover whole hours before the cursor; `lo` is bucket-aligned, so the split point is too.
    mid = min(max(state, lo), hi) if state else lo
    filters = {key: value for key, value in (filters or {}).items() if value is not None}
    if not set(filters) <= set(GROUPS) or group_by not in (None, *GROUPS):
        raise ValueError("Group and filter only by model or prompt_version.")
    keys = []
    if bucket:
        at = sql.SQL("r.bucket" if bucket == "hour" else "date_trunc('day', r.bucket)")
        keys.append(sql.SQL(_ISO_BUCKET).format(at))
    if group_by:
        keys.append(sql.Identifier("r", group_by))
    positions = sql.SQL(", ").join(sql.Literal(n) for n in range(1, len(keys) + 1))
    query = _SERIES.format(
        keys=sql.SQL("").join(sql.Composed([key, sql.SQL(", ")]) for key in keys),
        score=sql.SQL("FILTER (WHERE r.name = %(score)s)" if score is not None else ""),
        measures=sql.SQL(", ").join(map(sql.Identifier, MEASURES)),
        rollup=sql.Identifier(FeedbackRollup._meta.db_table),
        live=hourly_measures_sql(lo="mid", hi="hi"),
        filters=sql.SQL("").join(
            sql.SQL(" AND {} = {}").format(sql.Identifier("r", key), sql.Placeholder(f"filter_{key}"))
            for key in filters
        ),
        group_by=sql.SQL("GROUP BY {0} ORDER BY {0}").format(positions) if keys else sql.SQL(""),
    )
    params = {"project": project.pk, "lo": lo, "mid": mid, "hi": hi, "score": score}
    params.update({f"filter_{key}": value for key, value in filters.items()})
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(connection.connection), params)
        return cursor.fetchall()


def feedback_series(
    *,
    project: Project,
    group_by: str,
    bucket: str,
    since: datetime,
    until: datetime,
    score: str | None = None,
    model: str | None = None,
    prompt_version: str | None = None,
) -> list[dict]:
    """One row per (bucket, group) with data; buckets that start in [since, until) are counted whole.

    `bucket` is the bucket's start as ISO 8601 text in UTC ("2026-11-20T10:00:00Z").
    """
    lo = bucket_floor(since, bucket)
    hi = bucket_floor(until, bucket)
    hi = hi if hi == until else hi + BUCKETS[bucket]
    rows = _aggregate(
        project=project,
        lo=lo,
        hi=hi,
        bucket=bucket,
        group_by=group_by,
        filters={"model": model, "prompt_version": prompt_version},
        score=score,
    )
    return [{"bucket": row[0], group_by: row[1], **Totals(*row[2:]).as_dict()} for row in rows]


def feedback_totals(*, project: Project, since: datetime, until: datetime) -> dict:
    """Totals over [since, until) (whole hours), as in the series."""
    lo = bucket_floor(since, "hour")
    rows = _aggregate(project=project, lo=lo, hi=until)
    return (Totals(*rows[0]) if rows else Totals(0, 0, 0, 0, 0.0, 0.0)).as_dict()


def _two_proportion_z(before: Totals, after: Totals) -> dict:
    result = {"difference": None, "z": None, "p_value": None, "significant": False}
    if not before.feedback or not after.feedback:
        return result
    result["difference"] = after.negative_rate - before.negative_rate
    pooled = (before.negative + after.negative) / (before.feedback + after.feedback)
    standard_error = math.sqrt(pooled * (1 - pooled) * (1 / before.feedback + 1 / after.feedback))
    if standard_error == 0:
        return result
    z = result["difference"] / standard_error
    p_value = float(2 * stats.norm.sf(abs(z)))
    return {**result, "z": z, "p_value": p_value, "significant": p_value < SIGNIFICANCE}


def _welch_t(before: Totals, after: Totals) -> dict:
    result = {"difference": None, "t": None, "p_value": None, "significant": False}
    if before.mean_score is None or after.mean_score is None:
        return result
    result["difference"] = after.mean_score - before.mean_score
    if before.score_std is None or after.score_std is None or before.score_std + after.score_std == 0:
        return result
    # after first, so that t has the sign of the difference (after - before), like z.
    test = stats.ttest_ind_from_stats(
        after.mean_score,
        after.score_std,
        after.score_count,
        before.mean_score,
        before.score_std,
        before.score_count,
        equal_var=False,
    )
    p_value = float(test.pvalue)
    return {**result, "t": float(test.statistic), "p_value": p_value, "significant": p_value < SIGNIFICANCE}


def metrics_compare(
    *,
    project: Project,
    dimension: str,
    before: str,
    after: str,
    since: datetime,
    until: datetime,
    score: str | None = None,
) -> dict:
    """Negative rate and mean score of two values of a dimension, and whether the difference is more than noise."""
    lo = bucket_floor(since, "hour")
    hi = bucket_floor(until, "hour")
    hi = hi if hi == until else hi + BUCKETS["hour"]
    sides = {}
    for side, value in (("before", before), ("after", after)):
        rows = _aggregate(project=project, lo=lo, hi=hi, filters={dimension: value}, score=score)
        totals = Totals(*rows[0]) if rows else Totals(0, 0, 0, 0, 0.0, 0.0)
        sides[side] = (value, totals)
    (before_value, before_totals), (after_value, after_totals) = sides["before"], sides["after"]
    return {
        "dimension": dimension,
        "since": lo,
        "until": hi,
        "score": score,
        "alpha": SIGNIFICANCE,
        "before": {"value": before_value, **before_totals.as_dict(), "score_std": before_totals.score_std},
        "after": {"value": after_value, **after_totals.as_dict(), "score_std": after_totals.score_std},
        "negative_rate": {"test": "two-proportion z-test", **_two_proportion_z(before_totals, after_totals)},
        "mean_score": {"test": "Welch t-test", **_welch_t(before_totals, after_totals)},
    }
