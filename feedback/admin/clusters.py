"""Clusters of failures and clustering runs in the admin.

Other apps add actions with `ClusterAdmin.actions = [*ClusterAdmin.actions, their_action]` (a plain list).
"""

from django.contrib import admin, messages
from django.urls import NoReverseMatch, reverse
from django.utils.html import format_html, format_html_join
from django.utils.text import Truncator

from core.chat import user_text
from feedback.admin.scoping import ProjectScopedAdmin
from feedback.models import Cluster, ClusteringRun
from feedback.services.clustering import clustering_run_start

MEMBERS_SHOWN = 20


def review_queue_url(cluster_id: int) -> str | None:
    try:
        return f"{reverse('admin:feedback_reviewitem_changelist')}?cluster={cluster_id}"
    except NoReverseMatch:  # the review queue admin is not registered (another app's)
        return None


@admin.register(Cluster)
class ClusterAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    list_display = ["label", "size", "growth", "members_last_24h", "members_last_7d", "last_seen", "project"]
    list_display += ["is_active", "review_link"]
    list_filter = ["is_active", "project"]
    list_select_related = ["project"]
    search_fields = ["label"]
    ordering = ["-is_active", "-size"]
    actions: list = []
    fieldsets = [
        (None, {"fields": ["label", "keyword_list", "project", "review_link", "members_preview"]}),
        ("Size and growth", {"fields": [("size", "size_previous_run", "growth"),
                                        ("members_last_24h", "members_last_7d"), ("first_seen", "last_seen")]}),
        ("Clustering", {"classes": ["collapse"], "fields": ["is_active", "join_threshold", "embedder", "last_run",
                                                           "created_at", "updated_at"]}),
    ]  # fmt: skip
    readonly_fields = [field for _, options in fieldsets for row in options["fields"] for field in
                       (row if isinstance(row, tuple) else (row,))]  # fmt: skip

    def has_add_permission(self, request) -> bool:
        return False  # clusters come from clustering runs only

    @admin.display(description="growth")
    def growth(self, cluster: Cluster) -> str:
        return f"{cluster.growth:+d}"

    @admin.display(description="keywords")
    def keyword_list(self, cluster: Cluster) -> str:
        return ", ".join(cluster.keywords)

    @admin.display(description="members")
    def review_link(self, cluster: Cluster) -> str:
        url = review_queue_url(cluster.pk)
        if url is None:
            return f"{cluster.size} failures"
        return format_html('<a href="{}">review {} failures</a>', url, cluster.size)

    @admin.display(description=f"first {MEMBERS_SHOWN} members (representatives first)")
    def members_preview(self, cluster: Cluster) -> str:
        members = list(cluster.members.order_by("-occurred_at")[:MEMBERS_SHOWN])
        representatives = set(cluster.representative_ids)
        members.sort(key=lambda m: m.pk not in representatives)
        rows = (
            (
                "★ " if member.pk in representatives else "",
                member.external_id,
                Truncator(user_text(member.input)).chars(160),
            )
            for member in members
        )
        return format_html("<ul>{}</ul>", format_html_join("", "<li>{}<code>{}</code>: {}</li>", rows))


@admin.register(ClusteringRun)
class ClusteringRunAdmin(ProjectScopedAdmin, admin.ModelAdmin):
    """Runs and their progress. "Start a clustering run" is the add form: it queues a run, or finds the one in
    flight for that project."""

    list_display = ["id", "project", "status", "stage", "progress_bar", "summary", "created_at", "duration"]
    list_filter = ["status", "project"]
    list_select_related = ["project"]
    change_list_template = "admin/feedback/clusteringrun/change_list.html"
    readonly_fields = [
        "project", "status", "stage", "progress_bar", "counts", "timings", "params", "error", "created_at",
        "started_at", "finished_at", "duration",
    ]  # fmt: skip

    def get_fields(self, request, obj=None):
        return ["project"] if obj is None else self.readonly_fields

    def get_readonly_fields(self, request, obj=None):
        return [] if obj is None else self.readonly_fields

    def has_change_permission(self, request, obj=None) -> bool:
        return obj is None and super().has_change_permission(request)  # a run's page is read-only

    def add_view(self, request, form_url="", extra_context=None):
        extra_context = {**(extra_context or {}), "title": "Start a clustering run"}
        return super().add_view(request, form_url, extra_context)

    def changelist_view(self, request, extra_context=None):
        in_flight = ClusteringRun.objects.filter(status__in=["queued", "running"]).exists()
        return super().changelist_view(request, {**(extra_context or {}), "auto_refresh": in_flight})

    def save_model(self, request, obj, form, change):
        if change:
            return
        run, created = clustering_run_start(project=obj.project)
        obj.pk, obj.status = run.pk, run.status
        if not created:
            messages.info(request, f"Run {run.pk} of {obj.project} is already {run.status}; showing it.")

    @admin.display(description="progress")
    def progress_bar(self, run: ClusteringRun) -> str:
        percent = round(run.progress * 100)
        return format_html('<progress max="100" value="{}"></progress> {}%', percent, percent)

    @admin.display(description="result")
    def summary(self, run: ClusteringRun) -> str:
        counts = run.counts or {}
        if "clusters" not in counts:
            return run.error[:120] if run.error else "–"
        return (
            f"{counts.get('failures', 0)} failures → {counts['clusters']} clusters "
            f"({counts.get('clusters_new', 0)} new, {counts.get('clusters_vanished', 0)} gone), "
            f"{counts.get('unclustered', 0)} unclustered"
        )

    @admin.display(description="duration")
    def duration(self, run: ClusteringRun) -> str:
        if not run.started_at or not run.finished_at:
            return "–"
        return f"{(run.finished_at - run.started_at).total_seconds():.1f} s"
