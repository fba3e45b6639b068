"""Read-only admin of what Connect keeps besides interactions: scores waiting for their trace, feedback tokens."""

from django.contrib import admin

from core.admin import ReadOnlyAdmin
from feedback.models import FeedbackToken, PendingScore


@admin.register(PendingScore)
class PendingScoreAdmin(ReadOnlyAdmin):
    list_display = ("external_id", "project", "trace_id", "observation_id", "created_at")
    list_filter = ("project", "created_at")
    list_select_related = ("project",)
    search_fields = ("external_id", "trace_id", "observation_id")
    ordering = ("-created_at", "-id")


@admin.register(FeedbackToken)
class FeedbackTokenAdmin(ReadOnlyAdmin):
    list_display = ("id", "interaction", "project", "name", "uses", "max_uses", "expires_at", "created_at")
    list_filter = ("project", "name", "expires_at")
    list_select_related = ("project", "interaction")
    search_fields = ("interaction__external_id",)
    ordering = ("-created_at", "-id")
    exclude = ("token_hash",)
