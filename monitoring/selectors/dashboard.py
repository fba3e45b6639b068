"""Reads behind the monitoring dashboard: chart series, growing clusters, review backlog, alerts, extra panels."""

from datetime import datetime

from django.db import connection
from django.db.models import Count, F, Max, QuerySet

from examples_lib.selectors import dashboard_golden_sets
from feedback.models import Cluster, Interaction, Project
from monitoring.models import Alert, FeedbackRollup
from monitoring.selectors.metrics import BUCKETS, bucket_floor, feedback_series

# Panels other apps add to the dashboard: (title, a callable taking `project` and returning a list of dicts).
# Monitoring is a leaf, so it imports them directly.
PANELS = (("Golden sets", dashboard_golden_sets),)


def project_busiest() -> int | None:
    """The id of the project with the most interactions (None without any); one index-only count."""
    row = Interaction.objects.values("project_id").annotate(n=Count("id")).order_by("-n", "project_id").first()
    return row["project_id"] if row else None


def chart_series(*, project: Project, bucket: str, since: datetime, until: datetime) -> dict:
    """Chart.js-ready series: one label per bucket (gaps included), one dataset per model or prompt version."""
    step = BUCKETS[bucket]
    labels, moment = [], bucket_floor(since, bucket)
    while moment < until:
        labels.append(moment)
        moment += step
    index = {label.strftime("%Y-%m-%dT%H:%M:%SZ"): position for position, label in enumerate(labels)}
    charts: dict[str, dict] = {}
    for group_by in ("model", "prompt_version"):
        rows = feedback_series(project=project, group_by=group_by, bucket=bucket, since=since, until=until)
        series: dict[str, dict[str, list]] = {}
        for row in rows:
            position = index.get(row["bucket"])
            if position is None:
                continue
            group = series.setdefault(
                row[group_by] or "(none)", {key: [None] * len(labels) for key in ("rate", "interactions", "feedback")}
            )
            group["rate"][position] = row["negative_rate"]
            group["interactions"][position] = row["interactions"]
            group["feedback"][position] = row["feedback"]
        charts[group_by] = series
    fmt = "%m-%d %H:%M" if bucket == "hour" else "%Y-%m-%d"
    return {"labels": [label.strftime(fmt) for label in labels], "by": charts}


def clusters_fastest_growing(*, project: Project, limit: int = 8) -> QuerySet[Cluster]:
    return (
        Cluster.objects.filter(project=project, is_active=True)
        .annotate(member_growth=F("size") - F("size_previous_run"))
        .filter(member_growth__gt=0)
        .order_by("-member_growth", "-size")[:limit]
    )


def review_backlog(*, project: Project) -> dict:
    """Unreviewed failures: how many, and the median and oldest age in hours (since they were captured)."""
    sql = f"""
        SELECT count(*),
               percentile_cont(0.5) WITHIN GROUP (ORDER BY extract(epoch FROM now() - created_at)) / 3600,
               extract(epoch FROM now() - min(created_at)) / 3600
        FROM {Interaction._meta.db_table}
        WHERE project_id = %s AND is_failure AND review_status = %s
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [project.pk, Interaction.ReviewStatus.UNREVIEWED])
        count, median_hours, oldest_hours = cursor.fetchone()
    return {"count": count, "median_age_hours": median_hours, "oldest_age_hours": oldest_hours}


def alerts_recent(*, project: Project, limit: int = 10) -> QuerySet[Alert]:
    return Alert.objects.filter(rule__project=project).select_related("rule").order_by("status", "-opened_at")[:limit]


def alerts_firing_count(*, project: Project) -> int:
    return Alert.objects.filter(rule__project=project, status=Alert.Status.FIRING).count()


def dashboard_panels(*, project: Project) -> list[dict]:
    """The panels of other apps (PANELS) as tables: a title, the column names, and one row of cells per item."""
    panels = []
    for title, provider in PANELS:
        rows = provider(project=project)
        columns = list(rows[0]) if rows else []
        panels.append({"title": title, "columns": columns, "rows": [[row.get(c) for c in columns] for row in rows]})
    return panels


def dimension_values(*, project: Project, dimension: str, limit: int = 50) -> list[str]:
    """Models or prompt versions seen lately, newest first, for the before/after pickers (rollups, then live)."""
    recent = Interaction.objects.filter(project=project).order_by("-occurred_at").values_list(dimension, flat=True)
    rolled = (
        FeedbackRollup.objects.filter(project=project)
        .values(dimension)
        .annotate(last=Max("bucket_start"))
        .order_by("-last")
        .values_list(dimension, flat=True)
    )
    return list(dict.fromkeys([*recent[:1000], *rolled[:limit]]))[:limit]
