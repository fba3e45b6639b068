"""Read-only admin of interactions and feedback, for ML engineers browsing what was captured."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from feedback.admin.scoping import ProjectScopedAdmin
from feedback.models import Feedback, Interaction


class FeedbackInline(admin.TabularInline):
    model = Feedback
    fields = ("external_id", "name", "data_type", "value_number", "value_string", "comment", "is_negative", "source")
    readonly_fields = fields
    ordering = ("-created_at",)
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = True


@admin.register(Interaction)
class InteractionAdmin(ProjectScopedAdmin, ReadOnlyAdmin):
    list_display = (
        "external_id", "project", "model", "prompt_version", "occurred_at", "feedback_count", "negative_count",
        "is_failure", "review_status", "cluster",
    )  # fmt: skip
    list_filter = ("project", "is_failure", "review_status", "model", "prompt_version", "occurred_at")
    list_select_related = ("project", "cluster")
    search_fields = ("external_id", "trace_id")
    date_hierarchy = "occurred_at"
    ordering = ("-occurred_at", "-id")
    show_full_result_count = False  # counting every interaction on each page view is slow at volume
    inlines = [FeedbackInline]
    exclude = ("claimed_by",)


@admin.register(Feedback)
class FeedbackAdmin(ProjectScopedAdmin, ReadOnlyAdmin):
    list_display = (
        "external_id", "interaction", "project", "name", "data_type", "value_number", "value_string", "is_negative",
        "source", "author", "created_at",
    )  # fmt: skip
    list_filter = ("project", "is_negative", "source", "data_type", "name")
    list_select_related = ("project", "interaction")
    search_fields = ("external_id", "interaction__external_id", "author")
    ordering = ("-created_at", "-id")
    show_full_result_count = False
    raw_id_fields = ("interaction",)
