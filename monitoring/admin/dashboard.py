"""The monitoring dashboard: an admin page at /admin/dashboard/ (linked from the admin index)."""

from datetime import timedelta

from django.contrib import admin, messages
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from feedback.admin.scoping import admin_scope
from feedback.models import Project
from monitoring.selectors.dashboard import (
    alerts_firing_count,
    alerts_recent,
    chart_series,
    clusters_fastest_growing,
    dashboard_panels,
    dimension_values,
    project_busiest,
    review_backlog,
)
from monitoring.selectors.metrics import feedback_totals, metrics_compare
from monitoring.services.rollups import rollups_refresh

# Ranges offered on the page: (label, length, bucket).
RANGES = {"24h": ("Last 24 hours", timedelta(hours=24), "hour"), "7d": ("Last 7 days", timedelta(days=7), "hour")}
RANGES["30d"] = ("Last 30 days", timedelta(days=30), "day")
RANGES["90d"] = ("Last 90 days", timedelta(days=90), "day")


def _compare(request, project, since, until) -> dict | None:
    dimension = request.GET.get("dimension")
    before, after = request.GET.get("before"), request.GET.get("after")
    if dimension not in ("model", "prompt_version") or before is None or after is None:
        return None
    compare_since = parse_datetime(request.GET.get("compare_since") or "") or since
    return metrics_compare(
        project=project, dimension=dimension, before=before, after=after, since=compare_since, until=until
    )


def _summary(project, since, until) -> dict:
    """This range against the one before it, for the figures at the top."""
    current = feedback_totals(project=project, since=since, until=until)
    previous = feedback_totals(project=project, since=since - (until - since), until=since)
    change = None
    if current["negative_rate"] is not None and previous["negative_rate"] is not None:
        change = (current["negative_rate"] - previous["negative_rate"]) * 100
    return {"current": current, "previous": previous, "rate_change_points": change}


SESSION_PROJECT = "monitoring_dashboard_project"


def _chosen_project(request, projects: list[Project]) -> Project | None:
    """The project asked for, else the one last chosen in this session, else the busiest one (the newest project is
    often an empty one)."""
    by_slug = {p.slug: p for p in projects}
    asked = by_slug.get(request.GET.get("project"))
    if asked is not None:
        request.session[SESSION_PROJECT] = asked.slug
        return asked
    remembered = by_slug.get(request.session.get(SESSION_PROJECT))
    if remembered is not None:
        return remembered
    busiest = project_busiest()
    return next((p for p in projects if p.pk == busiest), projects[0] if projects else None)


def dashboard_view(request):
    projects = list(admin_scope(Project.objects.order_by("slug"), request, "pk"))
    project = _chosen_project(request, projects)
    if request.method == "POST" and project is not None:
        rollups_refresh(project=project)
        messages.success(request, f"Rollups of {project.slug} refreshed.")
        return redirect(f"{reverse('admin:monitoring-dashboard')}?{request.GET.urlencode()}")
    range_key = request.GET.get("range") if request.GET.get("range") in RANGES else "7d"
    label, length, bucket = RANGES[range_key]
    until = timezone.now()
    since = until - length
    context = {
        **admin.site.each_context(request),
        "title": "Monitoring dashboard",
        "projects": projects,
        "project": project,
        "ranges": [(key, value[0]) for key, value in RANGES.items()],
        "range_key": range_key,
        "range_label": label,
        "bucket": bucket,
    }
    if project is not None:
        context.update(
            charts=chart_series(project=project, bucket=bucket, since=since, until=until),
            summary=_summary(project, since, until),
            clusters=clusters_fastest_growing(project=project),
            backlog=review_backlog(project=project),
            alerts=alerts_recent(project=project),
            firing_count=alerts_firing_count(project=project),
            panels=dashboard_panels(project=project),
            models=dimension_values(project=project, dimension="model"),
            prompt_versions=dimension_values(project=project, dimension="prompt_version"),
            compare=_compare(request, project, since, until),
            compare_query=request.GET,
        )
    return TemplateResponse(request, "admin/monitoring/dashboard/dashboard.html", context)


def dashboard_urls() -> list:
    # admin_view: staff only, login redirect, CSRF and no caching, like every admin page.
    return [path("dashboard/", admin.site.admin_view(dashboard_view), name="monitoring-dashboard")]
