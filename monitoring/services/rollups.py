"""Hourly rollups behind the metrics API and the dashboard (monitoring/models.py: FeedbackRollup, RollupCursor).

A refresh recomputes whole hours from the base tables (delete, then INSERT ... SELECT with GROUP BY), so running it
twice is harmless. Which hours: every closed hour the first time; afterwards the last few closed hours (feedback
and interactions that were committed late) plus every hour touched by an interaction or feedback row created since
the previous refresh (ids above the cursor), which catches interactions backfilled with an old `occurred_at`.
"""

from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.db import connection, transaction
from django.db.models import Exists, OuterRef
from django.utils import timezone
from psycopg import sql

from feedback.models import Feedback, Interaction, Project
from monitoring.models import FeedbackRollup, RollupCursor
from monitoring.selectors.metrics import MEASURES, hourly_measures_sql

HOUR = timedelta(hours=1)


def hour_floor(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def _tables() -> dict[str, str]:
    return {
        "rollup": FeedbackRollup._meta.db_table,
        "interaction": Interaction._meta.db_table,
        "feedback": Feedback._meta.db_table,
    }


def _recompute(*, project_id: int, lo: datetime, hi: datetime, hours: list[datetime] | None) -> None:
    """Replace the rollups of [lo, hi) (only `hours` of it when given) by fresh aggregates."""
    params = {"project": project_id, "lo": lo, "hi": hi, "hours": hours}
    only = "hours" if hours is not None else None
    insert = sql.SQL(
        "INSERT INTO {} (project_id, bucket_start, model, prompt_version, name, {}) SELECT {}, m.* FROM ({}) m"
    ).format(
        sql.Identifier(_tables()["rollup"]),
        sql.SQL(", ").join(map(sql.Identifier, MEASURES)),
        sql.Placeholder("project"),
        hourly_measures_sql(lo="lo", hi="hi", only_hours=only),
    )
    with connection.cursor() as cursor:
        delete = f"DELETE FROM {_tables()['rollup']} WHERE project_id = %(project)s AND bucket_start >= %(lo)s"
        delete += " AND bucket_start < %(hi)s" + (" AND bucket_start = ANY(%(hours)s)" if hours is not None else "")
        cursor.execute(delete, params)
        cursor.execute(insert.as_string(connection.connection), params)


def _dirty_hours(*, project_id: int, state: RollupCursor, before: datetime) -> set[datetime]:
    """Closed hours touched by rows created since the previous refresh (by id, which the PK index answers)."""
    sql = f"""
        SELECT date_trunc('hour', occurred_at, 'UTC') FROM {_tables()["interaction"]}
        WHERE id > %(interaction_id)s AND project_id = %(project)s AND occurred_at < %(before)s
        UNION
        SELECT date_trunc('hour', created_at, 'UTC') FROM {_tables()["feedback"]}
        WHERE id > %(feedback_id)s AND project_id = %(project)s AND created_at < %(before)s
    """
    params = {
        "interaction_id": state.last_interaction_id,
        "feedback_id": state.last_feedback_id,
        "project": project_id,
        "before": before,
    }
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {row[0] for row in cursor.fetchall()}


def _max_ids() -> tuple[int, int]:
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT (SELECT coalesce(max(id), 0) FROM {_tables()['interaction']}),"
            f" (SELECT coalesce(max(id), 0) FROM {_tables()['feedback']})"
        )
        return cursor.fetchone()


@transaction.atomic
def rollups_refresh(*, project: Project, now: datetime | None = None, rebuild: bool = False) -> RollupCursor:
    """Bring the project's rollups up to date for every closed hour; `rebuild` recomputes all of them."""
    now = now or timezone.now()
    current_hour = hour_floor(now)
    with connection.cursor() as cursor:
        # One refresh per project at a time (beat, on-demand and the dashboard may overlap).
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('goldloop.feedback_rollup'), %s)", [project.pk])
    interaction_id, feedback_id = _max_ids()
    state = RollupCursor.objects.filter(project=project).first()
    if state is None or rebuild:
        _recompute(project_id=project.pk, lo=datetime.min.replace(tzinfo=UTC), hi=current_hour, hours=None)
        state = state or RollupCursor(project=project)
    else:
        recent_from = min(state.covered_until, current_hour) - settings.METRICS_ROLLUP_RECENT_HOURS * HOUR
        dirty = _dirty_hours(project_id=project.pk, state=state, before=recent_from)
        _recompute(project_id=project.pk, lo=recent_from, hi=current_hour, hours=None)
        if dirty:
            _recompute(project_id=project.pk, lo=min(dirty), hi=max(dirty) + HOUR, hours=sorted(dirty))
    state.covered_until = current_hour
    state.last_interaction_id = interaction_id
    state.last_feedback_id = feedback_id
    state.refreshed_at = now
    state.save()
    return state


def rollups_refresh_all(*, now: datetime | None = None) -> int:
    """Refresh every project that has interactions; returns how many were refreshed."""
    projects = list(Project.objects.filter(Exists(Interaction.objects.filter(project=OuterRef("pk")))))
    for project in projects:
        rollups_refresh(project=project, now=now)
    return len(projects)
